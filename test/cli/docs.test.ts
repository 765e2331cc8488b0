import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCS_USAGE } from '../../src/cli/docs.ts';
import { runCli } from '../../src/cli/main.ts';
import { eventDocsFor } from '../../src/messaging/index.ts';
import { loadConfig } from '../../src/platform/index.ts';

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(
    args,
    { out: (l) => void out.push(l), err: (l) => void err.push(l) },
    env,
  );
  return { status, out, err };
}

test('docs asyncapi prints the document of the configuration, offline', async () => {
  // An unreachable broker: the command reads no Kafka.
  const env = { KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1', KAFKA_INVENTORY_TOPIC: 'inv-x' };
  const { status, out, err } = await run(['docs', 'asyncapi'], env);
  assert.deepEqual([status, err], [0, []]);
  assert.equal(out.length, 1);
  const doc = JSON.parse(out[0]!);
  assert.deepEqual(doc, JSON.parse(JSON.stringify(eventDocsFor(loadConfig(env)))));
  assert.equal(doc.channels.inventoryEvents.address, 'inv-x');
});

test('docs asyncapi --out writes it to a file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'erp-docs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'asyncapi.json');
  const { status, out } = await run(['docs', 'asyncapi', '--out', file]);
  assert.deepEqual([status, out], [0, []]);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).asyncapi, '3.0.0');
});

test('docs: usage errors exit 2, --help exits 0', async () => {
  assert.deepEqual(await run(['docs', '--help']), { status: 0, out: [DOCS_USAGE], err: [] });
  for (const args of [
    ['docs'],
    ['docs', 'openapi'],
    ['docs', 'asyncapi', 'x'],
    ['docs', 'asyncapi', '--out', ''],
    ['docs', 'asyncapi', '--bogus'],
  ]) {
    const { status, err } = await run(args);
    assert.equal(status, 2, args.join(' '));
    assert.match(err[0]!, /ERP_CLI_USAGE/);
  }
});
