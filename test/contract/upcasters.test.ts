import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONTRACT_UPCASTERS,
  createEvent,
  decodeEnvelope,
  decodeEvent,
  defineUpcasters,
  encodeEvent,
  EVENT_TYPES,
  isContractError,
} from '../../src/contract/index.ts';
import type { Envelope } from '../../src/contract/index.ts';
import { lowStock } from './fixtures.ts';
import { STEPS, stockAdjusted12Schema, upcastersTo12 } from './minor-version.ts';

function adjusted(quantityChange: number, version = '1.0'): Envelope {
  const event = createEvent(
    EVENT_TYPES.stockAdjusted,
    {
      product_id: 'P1',
      product_sku: 'SKU-1',
      quantity_change: quantityChange,
      quantity_before: 10,
      quantity_after: 10 + quantityChange,
      reason: 'sale',
    },
    { tenantId: 'tenant-1', sourceService: 'inventory-service' },
  );
  return decodeEnvelope(
    encodeEvent({ ...event, metadata: { ...event.metadata, event_version: version } }),
  );
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isContractError(err) ? err.code : `not a ContractError: ${String(err)}`;
  }
  return undefined;
};

test('a 1.0 event is upcast through every step, in order, to the newest version', () => {
  const decoded = decodeEvent(adjusted(-3), upcastersTo12);
  assert.ok(decoded.known);
  assert.equal(decoded.event.metadata.event_version, '1.2');
  const extra = stockAdjusted12Schema.parse(decoded.event.payload);
  assert.deepEqual(extra, { direction: 'out', units: 3 });
  // The 1.0 fields are kept as written.
  assert.equal(decoded.event.payload.quantity_change, -3);
});

test('an event already at a middle version runs only the steps after it', () => {
  const envelope = adjusted(4, '1.1');
  // A 1.1 producer wrote the field itself: the 1.0 → 1.1 step must not run over it.
  (envelope.payload as Record<string, unknown>)['direction'] = 'in';
  const decoded = decodeEvent(envelope, upcastersTo12);
  assert.ok(decoded.known);
  assert.equal(decoded.event.metadata.event_version, '1.2');
  assert.deepEqual(stockAdjusted12Schema.parse(decoded.event.payload), {
    direction: 'in',
    units: 4,
  });
});

test('upcasting leaves the input envelope and other event types alone', () => {
  const envelope = adjusted(-1);
  const before = structuredClone(envelope);
  decodeEvent(envelope, upcastersTo12);
  assert.deepEqual(envelope, before);
  const other = decodeEnvelope(encodeEvent(lowStock('P2')));
  assert.equal(upcastersTo12.upcast(other), other);
  // The contract ships no step yet: decoding with the default changes nothing.
  assert.deepEqual(CONTRACT_UPCASTERS.steps, []);
  const plain = decodeEvent(adjusted(-1));
  assert.ok(plain.known);
  assert.equal(plain.event.metadata.event_version, '1.0');
});

test('a step that throws is ERP_EVT_UPCAST_FAILED; an upcast payload is still validated', () => {
  const failing = defineUpcasters([
    {
      type: EVENT_TYPES.stockAdjusted,
      from: '1.0',
      to: '1.1',
      upcast: () => {
        throw new Error('boom');
      },
    },
  ]);
  assert.equal(
    codeOf(() => decodeEvent(adjusted(-1), failing)),
    'ERP_EVT_UPCAST_FAILED',
  );
  const breaking = defineUpcasters([
    {
      type: EVENT_TYPES.stockAdjusted,
      from: '1.0',
      to: '1.1',
      upcast: (p) => ({ ...p, reason: 7 }),
    },
  ]);
  assert.equal(
    codeOf(() => decodeEvent(adjusted(-1), breaking)),
    'ERP_EVT_INVALID_PAYLOAD',
  );
});

test('defineUpcasters refuses steps that do not raise the minor, cross a major, or repeat', () => {
  const step = STEPS.to11;
  for (const bad of [
    { ...step, to: '1.0' },
    { ...step, from: '1.2', to: '1.1' },
    { ...step, to: '2.0' },
    { ...step, from: 'one' },
  ]) {
    assert.equal(
      codeOf(() => defineUpcasters([bad])),
      'ERP_EVT_INVALID_ARGUMENT',
      JSON.stringify(bad),
    );
  }
  assert.equal(
    codeOf(() => defineUpcasters([step, { ...step, to: '1.3' }])),
    'ERP_EVT_INVALID_ARGUMENT',
  );
});
