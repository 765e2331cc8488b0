import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import {
  EVENT_REGISTRY,
  eventJsonSchema,
  eventSchemas,
  recordNameOf,
  subjectName,
} from '../../src/contract/index.ts';
import type { JsonSchema } from '../../src/contract/index.ts';
import { documentExample, lowStock } from './fixtures.ts';

function validator(schema: JsonSchema): (value: unknown) => boolean {
  const ajv = new Ajv({ strict: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

test('one draft-07 schema per event type and major version, record names and subjects by type', () => {
  const schemas = eventSchemas();
  assert.deepEqual(
    schemas.map((s) => `${s.eventType}@${s.major}`),
    Object.entries(EVENT_REGISTRY).flatMap(([type, d]) =>
      d.majorVersions.map((m) => `${type}@${m}`),
    ),
  );
  for (const s of schemas) {
    assert.equal(s.schema['$schema'], 'http://json-schema.org/draft-07/schema#');
    assert.equal(s.recordName, s.eventType, 'major 1 is the bare event type');
  }
  assert.equal(recordNameOf('inventory.low_stock', 2), 'inventory.low_stock.v2');
  assert.equal(
    subjectName('inventory-events', 'inventory.low_stock'),
    'inventory-events-inventory.low_stock',
  );
  assert.throws(() => eventJsonSchema('inventory.low_stock', 2), RangeError);
});

test('the schema accepts what the contract creates and refuses what decodeEvent refuses', () => {
  const valid = validator(eventJsonSchema('inventory.low_stock', 1));
  assert.ok(valid(JSON.parse(JSON.stringify(lowStock('p-1')))));
  assert.ok(valid(documentExample()));

  const cases: [string, (e: ReturnType<typeof documentExample>) => void][] = [
    ['a required field missing', (e) => delete e.payload['category']],
    ['a field of the wrong type', (e) => (e.payload['current_stock'] = '8')],
    ['another event type', (e) => (e.metadata['event_type'] = 'inventory.product_created')],
    ['another major version', (e) => (e.metadata['event_version'] = '2.0')],
    ['a priority outside the enum', (e) => (e.metadata['priority'] = 'urgent')],
    // The input side of a pipe (max 64) and its output side (min 1) both hold.
    ['an empty sku', (e) => (e.payload['product_sku'] = '')],
    ['a sku over 64', (e) => (e.payload['product_sku'] = 'x'.repeat(65))],
  ];
  for (const [what, change] of cases) {
    const event = documentExample();
    change(event);
    assert.equal(valid(event), false, what);
  }
  const extra = documentExample();
  extra.payload['added_in_1_1'] = 'a newer minor version may add fields';
  assert.ok(valid(extra), 'objects stay open');
});

test('nullable and optional fields: null passes where nullable, absence only where optional', () => {
  const valid = validator(eventJsonSchema('sales.low_stock_alert_raised', 1));
  const golden = (): { payload: Record<string, unknown> } =>
    JSON.parse(
      readFileSync(
        join(import.meta.dirname, 'golden', 'sales.low_stock_alert_raised@1.json'),
        'utf8',
      ),
    ) as { payload: Record<string, unknown> };
  const event = golden();
  event.payload['stockout_date'] = null;
  assert.ok(valid(event), 'stockout_date null');
  delete event.payload['stockout_date'];
  assert.ok(valid(event), 'stockout_date absent');
  const noPrevious = golden();
  delete noPrevious.payload['previous_priority'];
  assert.equal(valid(noPrevious), false, 'previous_priority is nullable but required');
});
