/** The inbox consumer's happy path: effects once, afterCommit, runs, duplicates, offsets, start/stop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { EVENT_TYPES } from '../../../src/contract/index.ts';
import type { EventOf } from '../../../src/contract/index.ts';
import { createInboxConsumer } from '../../../src/messaging/inbox/consumer.ts';
import { createPrometheusConsumerMetrics } from '../../../src/messaging/inbox/metrics.ts';
import { createConsumer, createProducer } from '../../../src/messaging/kafka/index.ts';
import { EventRouter } from '../../../src/messaging/router.ts';
import { AppError, type RetryPolicy } from '../../../src/platform/index.ts';
import { DOCUMENT_LOW_STOCK_JSON } from '../../contract/fixtures.ts';
import { testDatabase } from '../../support/database.ts';
import { uniqueName, waitUntil } from '../../support/kafka.ts';
import {
  applyEach,
  applyEffect,
  harness,
  idOf,
  kafkaConnection,
  logger,
  lowStock,
  productCreated,
  recordingMetrics,
  recordOf,
} from './fixtures.ts';

test("the design document's low-stock example reaches its handler, effects before afterCommit", async (t) => {
  const h = await harness(t);
  const registry = new Registry();
  const seen: EventOf<'inventory.low_stock'>[] = [];
  const afterCommit: (number | undefined)[] = [];
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    for (const { event, record } of events) {
      seen.push(event);
      assert.equal(record.topic, h.topic);
      await applyEffect(ctx.trx, event.metadata.event_id);
      ctx.afterCommit(async () => {
        // Runs outside the transaction: the effect must already be visible to everyone.
        afterCommit.push((await h.effects()).get(event.metadata.event_id));
      });
    }
  });
  await h.send([
    {
      topic: h.topic,
      key: 'PRD-123',
      value: Buffer.from(DOCUMENT_LOW_STOCK_JSON),
      headers: { tenant_id: 'tenant-1', event_type: 'inventory.low_stock' },
    },
  ]);
  const inbox = await h.start({ metrics: createPrometheusConsumerMetrics(registry) });
  await waitUntil('the afterCommit callback', () => afterCommit.length === 1);
  await inbox.stop();

  assert.equal(seen.length, 1);
  const event = seen[0]!;
  assert.equal(event.metadata.event_id, 'evt-123456');
  assert.equal(event.metadata.tenant_id, 'tenant-1');
  assert.equal(event.payload.product_sku, 'LAP-001');
  assert.equal(event.payload.current_stock, 8);
  assert.equal(event.payload.days_of_stock_remaining, 3.5);
  assert.deepEqual(afterCommit, [1]);
  const { rows } = await sql<{
    event_type: string;
    tenant_id: string;
  }>`SELECT event_type, tenant_id FROM inbox WHERE event_id = 'evt-123456'`.execute(h.database.db);
  assert.deepEqual(rows, [{ event_type: 'inventory.low_stock', tenant_id: 'tenant-1' }]);
  const text = await registry.metrics();
  assert.match(
    text,
    /erp_consumer_events_total\{event_type="inventory.low_stock",outcome="processed"\} 1\n/,
  );
  assert.match(text, /erp_consumer_batch_seconds_count 1\n/);
});

test('an event delivered twice has one effect; a replay by another group has none', async (t) => {
  const h = await harness(t);
  const calls: string[] = [];
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    calls.push(...events.map(({ event }) => idOf(event)));
    await applyEach(events, ctx);
  });
  const twice = lowStock('P1');
  const marker = lowStock('P2');
  await h.send([recordOf(h.topic, twice), recordOf(h.topic, twice), recordOf(h.topic, marker)]);
  const inbox = await h.start();
  await waitUntil('the marker event', async () => (await h.effects()).has(idOf(marker)));
  await inbox.stop();

  const effects = await h.effects();
  assert.equal(effects.get(idOf(twice)), 1);
  assert.equal(effects.get(idOf(marker)), 1);
  assert.deepEqual(calls, [idOf(twice), idOf(marker)]);
  assert.deepEqual(h.calls.duplicate, [EVENT_TYPES.lowStock]);
  assert.deepEqual(h.calls.processed, [EVENT_TYPES.lowStock, EVENT_TYPES.lowStock]);

  // Everything again, as after a lost offset commit: the inbox turns it all into duplicates.
  const replay = recordingMetrics();
  const again = await h.start({ groupId: uniqueName('replay'), metrics: replay.metrics });
  await waitUntil('the replay', () => replay.calls.duplicate.length === 3);
  await again.stop();
  assert.deepEqual(replay.calls.processed, []);
  assert.equal(calls.length, 2);
  assert.deepEqual([...(await h.effects()).values()], [1, 1]);
});

test("ordering 'partition': each run of consecutive events of one type is one handler call, in offset order", async (t) => {
  const h = await harness(t);
  const calls: string[][] = [];
  const offsets: bigint[] = [];
  const afterCommits: number[] = [];
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    calls.push(events.map(({ event }) => idOf(event)));
    for (const { event, record } of events) {
      offsets.push(record.offset);
      await applyEffect(ctx.trx, idOf(event));
    }
    ctx.afterCommit(() => void afterCommits.push(events.length));
  });
  h.router.on(EVENT_TYPES.productCreated, async (events, ctx) => {
    calls.push(events.map(({ event }) => `created:${idOf(event)}`));
    for (const { record } of events) offsets.push(record.offset);
    await applyEach(events, ctx);
  });
  const first = ['P1', 'P2', 'P3'].map((p) => lowStock(p));
  const created = productCreated('P9');
  const second = ['P4', 'P5'].map((p) => lowStock(p));
  await h.send([...first, created, ...second].map((e) => recordOf(h.topic, e)));
  const inbox = await h.start({ ordering: 'partition' });
  await waitUntil('all six events', async () => (await h.effects()).size === 6);
  await inbox.stop();

  assert.deepEqual(calls.flat(), [
    ...first.map(idOf),
    `created:${idOf(created)}`,
    ...second.map(idOf),
  ]);
  assert.deepEqual(offsets, [0n, 1n, 2n, 3n, 4n, 5n]);
  // A run is never cut across types, and never holds two types.
  for (const call of calls) {
    assert.ok(call.every((id) => id.startsWith('created:') === call[0]!.startsWith('created:')));
  }
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1, 1, 1, 1]);
  assert.equal(h.calls.processed.length, 6);
  if (h.calls.batches.length === 1) {
    assert.deepEqual(calls, [first.map(idOf), [`created:${idOf(created)}`], second.map(idOf)]);
    assert.deepEqual(afterCommits, [3, 2]);
  }
});

test("ordering 'key' (the default): one type's events across keys in one call, each key's events in order", async (t) => {
  const h = await harness(t);
  const calls: string[][] = [];
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    calls.push(events.map(({ event }) => `low:${event.payload.product_id}`));
    await applyEach(events, ctx);
  });
  h.router.on(EVENT_TYPES.productCreated, async (events, ctx) => {
    calls.push(events.map(({ event }) => `created:${event.payload.product_id}`));
    await applyEach(events, ctx);
  });
  // As Inventory writes them: each product created, then low on stock, interleaved.
  const events = ['P1', 'P2', 'P3'].flatMap((p) => [productCreated(p), lowStock(p)]);
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start();
  await waitUntil('all six events', async () => (await h.effects()).size === 6);
  await inbox.stop();

  const order = calls.flat();
  for (const p of ['P1', 'P2', 'P3']) {
    assert.ok(
      order.indexOf(`created:${p}`) < order.indexOf(`low:${p}`),
      `${p}: ${order.join(' ')}`,
    );
  }
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1, 1, 1, 1]);
  if (h.calls.batches.length === 1) {
    // One batch: two handler calls where the partition's order would take six.
    assert.deepEqual(calls, [
      ['created:P1', 'created:P2', 'created:P3'],
      ['low:P1', 'low:P2', 'low:P3'],
    ]);
  }
});

test('duplicates within a run and across batches never reach the handler: one effect each', async (t) => {
  const h = await harness(t);
  const delivered: string[] = [];
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    delivered.push(...events.map(({ event }) => idOf(event)));
    await applyEach(events, ctx);
  });
  const a = lowStock('P1');
  const b = lowStock('P2');
  const c = lowStock('P3');
  await h.send([recordOf(h.topic, a), recordOf(h.topic, a), recordOf(h.topic, b)]);
  const inbox = await h.start();
  await waitUntil('the first events', async () => (await h.effects()).size === 2);
  await h.send([recordOf(h.topic, b), recordOf(h.topic, a), recordOf(h.topic, c)]);
  await waitUntil('the third event', async () => (await h.effects()).has(idOf(c)));
  await waitUntil('the duplicates counted', () => h.calls.duplicate.length === 3);
  await inbox.stop();

  assert.deepEqual(delivered, [a, b, c].map(idOf));
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1]);
  assert.equal(h.calls.processed.length, 3);
  assert.deepEqual((await h.inbox()).toSorted(), [a, b, c].map(idOf).toSorted());
});

test('offsets are committed after each batch: a restarted consumer of the group resumes after them', async (t) => {
  const h = await harness(t);
  const delivered: string[] = [];
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    delivered.push(...events.map(({ event }) => idOf(event)));
    await applyEach(events, ctx);
  });
  const before = ['P1', 'P2', 'P3'].map((p) => lowStock(p));
  await h.send(before.map((e) => recordOf(h.topic, e)));
  const first = await h.start();
  await waitUntil('the first events', async () => (await h.effects()).size === 3);
  await first.stop();

  const after = lowStock('P4');
  await h.send([recordOf(h.topic, after)]);
  const restarted = await h.start();
  await waitUntil('the new event', async () => (await h.effects()).has(idOf(after)));
  await restarted.stop();
  // Had the offsets not been committed, the first three would come again (as duplicates).
  assert.deepEqual(h.calls.duplicate, []);
  assert.deepEqual(delivered, [...before, after].map(idOf));
});

test('start() twice, or after stop(), is refused; stop() twice is harmless', async (t) => {
  const h = await harness(t);
  const inbox = await h.start();
  const isState = (err: unknown) => err instanceof AppError && err.code === 'ERP_MSG_STATE';
  await assert.rejects(inbox.start(), isState);
  await inbox.stop();
  await inbox.stop();
  await assert.rejects(inbox.start(), isState);
});

test('a bad retry policy is refused when the consumer is created, naming the field', async (t) => {
  const conn = await kafkaConnection();
  const database = await testDatabase<unknown>(t, 'sales');
  const consumer = createConsumer(conn, {
    groupId: uniqueName('sales'),
    topics: [uniqueName('inventory-events')],
    autoOffsetReset: 'earliest',
  });
  t.after(() => consumer.close());
  const producer = createProducer(conn);
  t.after(() => producer.close());
  const cases: [Partial<RetryPolicy>, string][] = [
    [{ attempts: 0 }, 'attempts'],
    [{ jitter: 2 }, 'jitter'],
    [{ initialDelayMs: 100, maxDelayMs: 10 }, 'maxDelayMs'],
    [{ delayMs: 10 } as Partial<RetryPolicy>, 'delayMs'],
  ];
  for (const [retryPolicy, field] of cases) {
    assert.throws(
      () =>
        createInboxConsumer({
          consumer,
          router: new EventRouter<unknown>(),
          database,
          deadLetters: { producer },
          groupId: 'g',
          logger,
          retryPolicy,
        }),
      (err) =>
        err instanceof AppError &&
        err.code === 'ERP_INVALID_OPTIONS' &&
        err.context['field'] === field,
      field,
    );
  }
});
