/**
 * Replaying old events through new code: 1.0 stock_adjusted records, as Inventory writes them
 * today, reach a handler written for the test-only 1.2 (test/contract/minor-version.ts) with the
 * fields 1.2 added, because its router carries the upcasters. Pure: no broker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createEvent,
  encodeEvent,
  EVENT_TYPES,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../../src/contract/index.ts';
import type { AnyEvent } from '../../../src/contract/index.ts';
import { classify } from '../../../src/messaging/inbox/classify.ts';
import type { IncomingRecord } from '../../../src/messaging/kafka/index.ts';
import { EventRouter } from '../../../src/messaging/router.ts';
import type { EventHandler, HandlerContext } from '../../../src/messaging/router.ts';
import { stockAdjusted12Schema, upcastersTo12 } from '../../contract/minor-version.ts';
import { logger } from './fixtures.ts';

function record(event: AnyEvent, offset: bigint): IncomingRecord {
  return {
    topic: 'inventory-events',
    partition: 0,
    offset,
    key: Buffer.from(messageKeyOf(event)),
    value: encodeEvent(event),
    headers: kafkaHeadersFor(event),
    timestamp: Date.now(),
  };
}

const changes = [5, -2, -7];
const events = changes.map((change, i) =>
  createEvent(
    EVENT_TYPES.stockAdjusted,
    {
      product_id: 'P1',
      product_sku: 'SKU-1',
      quantity_change: change,
      quantity_before: 10 * i,
      quantity_after: 10 * i + change,
      reason: 'count',
    },
    { tenantId: 'tenant-1', sourceService: 'inventory-service' },
  ),
);

test('1.0 records reach a handler written for 1.2 with the fields 1.2 added', async () => {
  const seen: Array<{ version: string; direction: string; units: number }> = [];
  // Written for 1.2: it parses what 1.2 guarantees, and would throw on a 1.0 payload.
  const handler: EventHandler<'inventory.stock_adjusted', unknown> = (run) => {
    for (const { event } of run) {
      const { direction, units } = stockAdjusted12Schema.parse(event.payload);
      seen.push({ version: event.metadata.event_version, direction, units });
    }
    return Promise.resolve();
  };
  const router = new EventRouter<unknown>({ upcasters: upcastersTo12 }).on(
    EVENT_TYPES.stockAdjusted,
    handler,
  );
  const accepted = events.map((event, i) => {
    assert.equal(event.metadata.event_version, '1.0');
    const outcome = classify(record(event, BigInt(i)), router);
    assert.equal(outcome.kind, 'accepted');
    return outcome.kind === 'accepted' ? { event: outcome.event, record: outcome.record } : null;
  });
  const ctx = {
    trx: null,
    log: logger,
    afterCommit: () => {},
  } as unknown as HandlerContext<unknown>;
  await handler(accepted.filter((a) => a !== null) as never, ctx);
  assert.deepEqual(seen, [
    { version: '1.2', direction: 'in', units: 5 },
    { version: '1.2', direction: 'out', units: 2 },
    { version: '1.2', direction: 'out', units: 7 },
  ]);
});

test('without the upcasters the same records stay 1.0, and the 1.2 handler would refuse them', () => {
  const router = new EventRouter<unknown>().on(EVENT_TYPES.stockAdjusted, async () => {});
  const outcome = classify(record(events[0]!, 0n), router);
  assert.equal(outcome.kind, 'accepted');
  if (outcome.kind !== 'accepted') return;
  assert.equal(outcome.event.metadata.event_version, '1.0');
  assert.equal(stockAdjusted12Schema.safeParse(outcome.event.payload).success, false);
});

test('a record whose version header says 1.0 still passes the header check after upcasting', () => {
  // The headers are compared with the envelope as written, before any step runs.
  const router = new EventRouter<unknown>({ upcasters: upcastersTo12 }).on(
    EVENT_TYPES.stockAdjusted,
    async () => {},
  );
  const r = record(events[1]!, 1n);
  assert.equal(r.headers['event_version'], '1.0');
  assert.equal(classify(r, router).kind, 'accepted');
});
