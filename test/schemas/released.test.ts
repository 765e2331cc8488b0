/**
 * schemas/released holds the contract as released (`schemas export`): what consumers already
 * deployed read. Offline, without a registry, every released subject must still be produced by
 * the contract and the contract's schema must not break it (FULL_TRANSITIVE as schema-diff.ts
 * judges it); CI also registers these files into a real registry and runs `schemas check`.
 * A deliberate breaking change is a new major version (a new subject), never an edit of a
 * released one.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeChange, diffSchemas } from '../../src/contract/index.ts';
import type { JsonSchema } from '../../src/contract/index.ts';
import { schemaSubjects } from '../../src/messaging/index.ts';
import { loadConfig } from '../../src/platform/index.ts';

const DIR = join(import.meta.dirname, '../../schemas/released');

test('the contract still produces every released subject, with no breaking change to any', async () => {
  const contract = new Map(schemaSubjects(loadConfig({}).kafka).map((s) => [s.subject, s.schema]));
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 4, `released schemas in ${DIR}`);
  for (const file of files) {
    const subject = file.slice(0, -'.json'.length);
    const current = contract.get(subject);
    assert.ok(current !== undefined, `${subject} was released; the contract no longer produces it`);
    const released = JSON.parse(await readFile(join(DIR, file), 'utf8')) as JsonSchema;
    const breaking = diffSchemas(released, current).filter((c) => c.breaking);
    assert.deepEqual(breaking.map(describeChange), [], `${subject}: breaking changes`);
  }
});

test('a breaking change against a released schema is found, naming the field', async () => {
  // The check above can fail: the released low-stock schema against one that lost a field.
  const file = join(DIR, 'inventory-events-inventory.low_stock.json');
  const released = JSON.parse(await readFile(file, 'utf8')) as {
    properties: { payload: { properties: Record<string, unknown>; required: string[] } };
  };
  const changed = structuredClone(released);
  delete changed.properties.payload.properties['current_stock'];
  changed.properties.payload.required = changed.properties.payload.required.filter(
    (f) => f !== 'current_stock',
  );
  const breaking = diffSchemas(released as JsonSchema, changed as JsonSchema).filter(
    (c) => c.breaking,
  );
  assert.deepEqual(
    breaking.map((c) => c.field),
    ['payload.current_stock'],
  );
});
