/** classify() decides from a record alone: apply it, dead-letter it, or skip it. Pure: no broker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeEvent,
  EVENT_TYPES,
  isContractError,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../../src/contract/index.ts';
import type { AnyEvent } from '../../../src/contract/index.ts';
import { classify, runsOfOneType } from '../../../src/messaging/inbox/classify.ts';
import type { IncomingRecord } from '../../../src/messaging/kafka/index.ts';
import { EventRouter } from '../../../src/messaging/router.ts';
import { isAppError } from '../../../src/platform/index.ts';
import { documentExample } from '../../contract/fixtures.ts';
import { lowStock, productCreated } from './fixtures.ts';

const NOW = new Date('2025-03-04T05:06:07.000Z');

function incoming(event: AnyEvent, overrides: Partial<IncomingRecord> = {}): IncomingRecord {
  return {
    topic: 'inventory-events',
    partition: 2,
    offset: 41n,
    key: Buffer.from(messageKeyOf(event)),
    value: encodeEvent(event),
    headers: kafkaHeadersFor(event),
    timestamp: 1_700_000_000_000,
    ...overrides,
  };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function lowStockRouter() {
  const handler = async () => {};
  const router = new EventRouter<unknown>().on(EVENT_TYPES.lowStock, handler);
  return { router, handler };
}

const codeOf = (err: unknown): string | undefined =>
  isAppError(err) || isContractError(err) ? err.code : undefined;

test('a record that passes the contract, with a handler, is accepted with its decoded event', () => {
  const { router, handler } = lowStockRouter();
  const event = lowStock('P1');
  const record = incoming(event);
  const outcome = classify(record, router, NOW);
  assert.equal(outcome.kind, 'accepted');
  if (outcome.kind !== 'accepted') return;
  assert.equal(outcome.record, record);
  assert.equal(outcome.type, EVENT_TYPES.lowStock);
  assert.deepEqual(outcome.event, event);
  assert.equal(outcome.handler, handler);
  assert.equal(outcome.failures, 0);
  // Headers are optional (the document's producers send none): without them, nothing to contradict.
  const { tenant_id: _, ...headers } = record.headers;
  assert.equal(classify({ ...record, headers }, router, NOW).kind, 'accepted');
  assert.equal(classify({ ...record, headers: {} }, router, NOW).kind, 'accepted');
});

test('records the contract refuses are rejected with their code, one attempt, at `now`', () => {
  const { router } = lowStockRouter();
  const event = lowStock('P1');
  const invalidPayload = { ...event, payload: { ...event.payload, current_stock: 'eight' } };
  const cases: [string, IncomingRecord, string, string | undefined][] = [
    [
      'not JSON',
      incoming(event, { value: Buffer.from('not json {') }),
      'ERP_EVT_MALFORMED_JSON',
      undefined,
    ],
    ['no value', incoming(event, { value: null }), 'ERP_EVT_EMPTY', undefined],
    [
      'an envelope without timestamp',
      incoming(event, {
        value: json({ ...event, metadata: { ...event.metadata, timestamp: undefined } }),
      }),
      'ERP_EVT_INVALID_ENVELOPE',
      undefined,
    ],
    [
      'a payload violating its schema',
      incoming(event, { value: json(invalidPayload) }),
      'ERP_EVT_INVALID_PAYLOAD',
      EVENT_TYPES.lowStock,
    ],
    [
      'a tenant header other than the envelope tenant',
      incoming(event, { headers: { ...kafkaHeadersFor(event), tenant_id: 'tenant-2' } }),
      'ERP_EVT_TENANT_MISMATCH',
      undefined,
    ],
    [
      'an event_id header other than the envelope event id',
      incoming(event, { headers: { ...kafkaHeadersFor(event), event_id: 'another' } }),
      'ERP_EVT_HEADER_MISMATCH',
      undefined,
    ],
    [
      'an event_type header other than the envelope type',
      incoming(event, {
        headers: { ...kafkaHeadersFor(event), event_type: 'inventory.stock_adjusted' },
      }),
      'ERP_EVT_HEADER_MISMATCH',
      undefined,
    ],
    [
      'a key other than the product id',
      incoming(event, { key: Buffer.from('P2') }),
      'ERP_EVT_WRONG_KEY',
      EVENT_TYPES.lowStock,
    ],
    ['no key', incoming(event, { key: null }), 'ERP_EVT_WRONG_KEY', EVENT_TYPES.lowStock],
  ];
  for (const [what, record, code, eventType] of cases) {
    const outcome = classify(record, router, NOW);
    assert.equal(outcome.kind, 'rejected', what);
    if (outcome.kind !== 'rejected') continue;
    assert.equal(codeOf(outcome.error), code, what);
    assert.equal(outcome.eventType, eventType, what);
    assert.equal(outcome.record, record, what);
    assert.equal(outcome.attempts, 1, what);
    assert.equal(outcome.firstFailureAt, NOW, what);
    assert.equal(outcome.lastFailureAt, NOW, what);
  }
});

test('a type the contract does not know, or without a handler, is skipped with the reason', () => {
  const { router } = lowStockRouter();
  const future = documentExample();
  future.metadata.event_type = 'inventory.price_changed';
  const unknown = classify(
    incoming(lowStock('PRD-123'), { value: json(future), headers: {} }),
    router,
    NOW,
  );
  assert.deepEqual(unknown, {
    kind: 'skipped',
    eventType: 'inventory.price_changed',
    reason: 'unknown_type',
  });

  const created = productCreated('P7');
  assert.deepEqual(classify(incoming(created), router, NOW), {
    kind: 'skipped',
    eventType: EVENT_TYPES.productCreated,
    reason: 'no_handler',
  });
  // Not ours to judge: neither its payload nor its key is checked.
  const invalid = incoming(created, {
    key: Buffer.from('someone-else'),
    value: json({ ...created, payload: { product_id: 'P7' } }),
  });
  assert.deepEqual(classify(invalid, router, NOW), {
    kind: 'skipped',
    eventType: EVENT_TYPES.productCreated,
    reason: 'no_handler',
  });
});

test('runsOfOneType cuts items into runs of consecutive items of one type, in order', () => {
  const items = ['a', 'a', 'b', 'a', 'a', 'a', 'c', 'c'].map((type, i) => ({ type, i }));
  const runs = runsOfOneType(items);
  assert.deepEqual(
    runs.map((run) => run.map(({ i }) => i)),
    [[0, 1], [2], [3, 4, 5], [6, 7]],
  );
  assert.equal(runs[0]![0], items[0], 'the items themselves, not copies');
  assert.deepEqual(runsOfOneType([]), []);
  assert.deepEqual(runsOfOneType([{ type: 'x' }]), [[{ type: 'x' }]]);
  assert.deepEqual(
    runsOfOneType(['x', 'y', 'x'].map((type) => ({ type }))).map((run) => run.length),
    [1, 1, 1],
  );
});

test('runsOfOneType regroups items of different keys by type, keeping each key in order', () => {
  // Two products whose stock_adjusted (a) and low_stock (l) interleave, as a topic carries them.
  const items = [
    { type: 'a', key: 'p1', i: 0 },
    { type: 'l', key: 'p1', i: 1 },
    { type: 'a', key: 'p2', i: 2 },
    { type: 'l', key: 'p2', i: 3 },
    { type: 'a', key: 'p1', i: 4 },
    { type: 'a', key: 'p3', i: 5 },
  ];
  const runs = runsOfOneType(items, (item) => item.key);
  assert.deepEqual(
    runs.map((run) => run.map(({ i }) => i)),
    [[0, 2, 5], [1, 3], [4]],
    'per key, the order is kept: p1 a, l, a; p2 a, l; p3 a',
  );
  for (const key of ['p1', 'p2', 'p3']) {
    const order = runs
      .flat()
      .filter((item) => item.key === key)
      .map(({ i }) => i);
    assert.deepEqual(
      order,
      [...order].sort((x, y) => x - y),
      `order of ${key}`,
    );
  }
  assert.equal(runs.flat().length, items.length, 'every item once');
  // One key: nothing to regroup.
  const one = ['a', 'l', 'a', 'l'].map((type, i) => ({ type, i }));
  assert.deepEqual(
    runsOfOneType(one, () => 'k').map((run) => run.map(({ i }) => i)),
    [[0], [1], [2], [3]],
  );
});
