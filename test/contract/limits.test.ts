/**
 * The contract's bounds are HTTP's: an event that carries what no HTTP request could have created
 * (a 2,000,000-character name, a NUL, a lone surrogate, a stock past a billion) is refused with
 * a code, so the consumer dead-letters it instead of storing and re-publishing it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEnvelope,
  decodeEvent,
  inputText,
  isContractError,
  isStorableText,
  LIMITS,
} from '../../src/contract/index.ts';
import { documentExample } from './fixtures.ts';

function refusedAt(mutate: (doc: ReturnType<typeof documentExample>) => void, path: string): void {
  const doc = documentExample();
  mutate(doc);
  assert.throws(
    () => decodeEvent(decodeEnvelope(Buffer.from(JSON.stringify(doc)))),
    (err) =>
      isContractError(err) &&
      (err.code === 'ERP_EVT_INVALID_PAYLOAD' || err.code === 'ERP_EVT_INVALID_ENVELOPE') &&
      err.issues.some((i) => i.path === path),
    path,
  );
}

test('storable text: no NUL, no unpaired surrogate; pairs and other characters are fine', () => {
  for (const ok of ['', 'plain', 'ünïcode', '😀 pair', '\ud83d\ude00', 'tab\tand\nnewline']) {
    assert.equal(isStorableText(ok), true, JSON.stringify(ok));
  }
  for (const bad of ['a\u0000b', '\u0000', 'S-\ud800', '\udc00x', 'x\ud83d', '\ude00\ud83d']) {
    assert.equal(isStorableText(bad), false, JSON.stringify(bad));
  }
});

test('an event beyond the HTTP bounds is refused naming the field', () => {
  refusedAt((d) => void (d.payload.product_name = 'x'.repeat(2_000_000)), 'payload.product_name');
  refusedAt(
    (d) => void (d.payload.product_name = 'x'.repeat(LIMITS.name + 1)),
    'payload.product_name',
  );
  refusedAt((d) => void (d.payload.product_sku = 'LAP\u0000'), 'payload.product_sku');
  refusedAt((d) => void (d.payload.location = 'A\ud800'), 'payload.location');
  refusedAt((d) => void (d.payload.current_stock = 2_000_000_009), 'payload.current_stock');
  refusedAt((d) => void (d.payload.reorder_level = LIMITS.quantity + 1), 'payload.reorder_level');
  refusedAt((d) => void (d.payload.product_id = 'p'.repeat(LIMITS.id + 1)), 'payload.product_id');
  refusedAt((d) => void (d.metadata.correlation_id = 'c\u0000'), 'metadata.correlation_id');
  refusedAt((d) => void (d.metadata.event_id = 'e'.repeat(LIMITS.id + 1)), 'metadata.event_id');
  // At the bounds, accepted.
  const doc = documentExample();
  doc.payload.product_name = 'x'.repeat(LIMITS.name);
  doc.payload.current_stock = LIMITS.quantity;
  doc.payload.product_sku = 'S-😀';
  assert.equal(decodeEvent(decodeEnvelope(Buffer.from(JSON.stringify(doc)))).known, true);
});

test('HTTP input text trims, needs a character, and shares the event bounds', () => {
  const schema = inputText(LIMITS.sku);
  assert.equal(schema.parse('  LAP-001 '), 'LAP-001');
  assert.equal(schema.safeParse('   ').success, false);
  assert.equal(schema.safeParse('x'.repeat(LIMITS.sku + 1)).success, false);
  assert.equal(schema.safeParse('a\u0000').success, false);
});
