import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeChange, diffSchemas, eventJsonSchema } from '../../src/contract/index.ts';
import { removeRequired, withPayload } from '../support/schemas.ts';
import type { PayloadSchema } from '../support/schemas.ts';

const before = eventJsonSchema('inventory.low_stock', 1);

/** The changes from the low-stock schema to a copy whose payload `change` changed. */
const lines = (change: (p: PayloadSchema) => void): string[] =>
  diffSchemas(before, withPayload(before, change)).map(describeChange);

test('no change, no difference', () => {
  assert.deepEqual(
    lines(() => {}),
    [],
  );
});

test('each kind of change, with its field and whether it breaks', () => {
  assert.deepEqual(lines(removeRequired('category')), [
    'payload.category: removed (a required field is gone), breaking',
  ]);
  assert.deepEqual(
    lines((p) => delete p.properties['days_of_stock_remaining']),
    ['payload.days_of_stock_remaining: removed (an optional field is gone)'],
  );
  assert.deepEqual(
    lines((p) => (p.properties['note'] = { type: 'string' })),
    ['payload.note: added (optional string)'],
  );
  assert.deepEqual(
    lines((p) => {
      p.properties['note'] = { type: 'string' };
      p.required.push('note');
    }),
    ['payload.note: added (required string), breaking'],
  );
  assert.deepEqual(
    lines((p) => (p.properties['current_stock'] = { type: 'string' })),
    ['payload.current_stock: type changed (integer → string), breaking'],
  );
  assert.deepEqual(
    lines((p) => p.required.push('days_of_stock_remaining')),
    ['payload.days_of_stock_remaining: now required (was optional), breaking'],
  );
  assert.deepEqual(
    lines((p) => (p.required = p.required.filter((f) => f !== 'location'))),
    ['payload.location: no longer required (was required), breaking'],
  );
  assert.deepEqual(
    lines((p) => (p.properties['product_sku'] = { type: 'string', maxLength: 32, minLength: 1 })),
    ['payload.product_sku: changed (maxLength 64 → 32), breaking'],
  );
});

test('a nullable field keeps its type set: number|null → number is a type change', () => {
  assert.deepEqual(
    lines((p) => (p.properties['days_of_stock_remaining'] = { type: 'number', minimum: 0 })),
    ['payload.days_of_stock_remaining: type changed (null|number → number), breaking'],
  );
});
