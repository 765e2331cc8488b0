/** Every error code the source can raise is documented, so that docs/errors.md stays the API. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(root, dir, f));
}

test('docs/errors.md lists every ERP_ code in src/ and scripts/', () => {
  const documented = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const codes = new Set<string>();
  for (const file of [...sources('src'), ...sources('scripts')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/'(ERP_[A-Z_]+)'/g)) codes.add(m[1]!);
    // scripts/kafka.ts and scripts/cluster.ts build their codes as `ERP_KAFKA_${code}`.
    for (const m of text.matchAll(/(?:kafkaError|clusterError)\(\s*'([A-Z_]+)'/g)) {
      codes.add(`ERP_KAFKA_${m[1]!}`);
    }
  }
  assert.ok(codes.size > 40, `found only ${codes.size} codes: the scan is broken`);
  const missing = [...codes].filter((c) => !documented.includes(`\`${c}\``)).sort();
  assert.deepEqual(missing, []);
});

test('docs/errors.md documents no code that the source no longer raises', () => {
  const documented = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const text = [...sources('src'), ...sources('scripts')]
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const raised = (code: string): boolean =>
    text.includes(`'${code}'`) ||
    (code.startsWith('ERP_KAFKA_') &&
      new RegExp(`(?:kafkaError|clusterError)\\(\\s*'${code.slice('ERP_KAFKA_'.length)}'`).test(
        text,
      ));
  const stale = [...new Set(documented.match(/`ERP_[A-Z_]+`/g) ?? [])]
    .map((c) => c.slice(1, -1))
    .filter((code) => !raised(code))
    .sort();
  assert.deepEqual(stale, []);
});
