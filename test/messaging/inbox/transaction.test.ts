/**
 * One consumer transaction (applyInTransaction) with the router's beforeRuns hook: it sees every
 * new event of the transaction once, in the order the handlers get them, before the first handler,
 * in the same transaction; duplicates never reach it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { messageKeyOf } from '../../../src/contract/index.ts';
import type { AnyEvent, EventType } from '../../../src/contract/index.ts';
import type { Accepted } from '../../../src/messaging/inbox/classify.ts';
import { noopConsumerMetrics } from '../../../src/messaging/inbox/metrics.ts';
import { applyInTransaction } from '../../../src/messaging/inbox/transaction.ts';
import type { BeforeRuns, ConsumedEvent, EventHandler } from '../../../src/messaging/router.ts';
import type { SalesDB } from '../../../src/sales/db.ts';
import { testDatabase } from '../../support/database.ts';
import { logger, lowStock, productCreated } from './fixtures.ts';

type Calls = string[];

function accepted(
  events: AnyEvent[],
  handler: EventHandler<EventType, SalesDB>,
): Accepted<SalesDB>[] {
  return events.map((event, i) => ({
    kind: 'accepted',
    record: {
      topic: 'inventory-events',
      partition: 0,
      offset: BigInt(i),
      key: Buffer.from(messageKeyOf(event)),
      value: Buffer.from(JSON.stringify(event)),
      headers: {},
      timestamp: Date.parse(event.metadata.timestamp),
    },
    type: event.metadata.event_type as EventType,
    event,
    handler,
    failures: 0,
  }));
}

const label = ({ event }: ConsumedEvent<EventType>) =>
  `${event.metadata.event_type.split('.')[1]} ${messageKeyOf(event)}`;

test('beforeRuns sees every new event once, in the handlers’ order, before the first handler, in its transaction', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const calls: Calls = [];
  const handler: EventHandler<EventType, SalesDB> = (run) => {
    calls.push(`handler ${run.map(label).join(', ')}`);
    return Promise.resolve();
  };
  let sameTransaction = false;
  const hook: BeforeRuns<SalesDB> = async (events, { trx }) => {
    calls.push(`beforeRuns ${events.map(label).join(', ')}`);
    // The inbox rows were written by this transaction: the hook runs inside it.
    const seen = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox`.execute(trx);
    sameTransaction = seen.rows[0]!.n === events.length;
  };
  const ctx = {
    database,
    inboxTable: 'inbox',
    ordering: 'key' as const,
    logger,
    metrics: noopConsumerMetrics,
    beforeRuns: hook,
  };
  // low_stock P1, product_created P2, low_stock P3: the key ordering makes two runs, P1 and P3
  // first, so the hook gets them in that order.
  const events = [lowStock('P1'), productCreated('P2'), lowStock('P3')];
  await applyInTransaction(ctx, accepted(events, handler));
  assert.deepEqual(calls, [
    'beforeRuns low_stock P1, low_stock P3, product_created P2',
    'handler low_stock P1, low_stock P3',
    'handler product_created P2',
  ]);
  assert.ok(sameTransaction, 'the hook ran in the transaction that wrote the inbox rows');

  // Redelivered with one new event: the hook sees only the new one; all duplicates: not called.
  calls.length = 0;
  await applyInTransaction(ctx, accepted([...events, lowStock('P4')], handler));
  assert.deepEqual(calls, ['beforeRuns low_stock P4', 'handler low_stock P4']);
  calls.length = 0;
  await applyInTransaction(ctx, accepted(events, handler));
  assert.deepEqual(calls, []);
});

test('a failing beforeRuns rolls the transaction back like a failing handler', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const handled: string[] = [];
  const ctx = {
    database,
    inboxTable: 'inbox',
    ordering: 'key' as const,
    logger,
    metrics: noopConsumerMetrics,
    beforeRuns: () => Promise.reject(new Error('refused')),
  };
  const handler: EventHandler<EventType, SalesDB> = (run) => {
    handled.push(...run.map(label));
    return Promise.resolve();
  };
  await assert.rejects(applyInTransaction(ctx, accepted([lowStock('P1')], handler)), /refused/);
  assert.deepEqual(handled, []);
  const inbox = await database.db.selectFrom('inbox').select('event_id').execute();
  assert.deepEqual(inbox, []);
});
