import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import {
  createEvent,
  encodeEvent,
  EVENT_TYPES,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../src/contract/index.ts';
import type { EventOf } from '../../src/contract/index.ts';
import {
  createPrometheusConsumerMetrics,
  type ConsumerMetrics,
} from '../../src/messaging/consumer-metrics.ts';
import { createInboxConsumer, type InboxConsumer } from '../../src/messaging/inbox-consumer.ts';
import {
  createConsumer,
  createProducer,
  ensureTopics,
  type EventProducer,
  type IncomingRecord,
  type KafkaConnectionOptions,
  type OutgoingRecord,
  type RawOutgoingRecord,
} from '../../src/messaging/kafka/index.ts';
import type { RetryPolicy } from '../../src/messaging/retry-policy.ts';
import { EventRouter } from '../../src/messaging/router.ts';
import type { Database } from '../../src/platform/database.ts';
import { AppError } from '../../src/platform/errors.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { documentExample, DOCUMENT_LOW_STOCK_JSON } from '../contract/fixtures.ts';
import { testDatabase } from '../support/database.ts';
import { testBootstrap, uniqueName, waitUntil } from '../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('inbox-test'), bootstrapServers: await testBootstrap() };
});

const logger = createLogger('inbox-consumer-test', process.env.LOG_LEVEL ?? 'silent');

interface Calls {
  processed: string[];
  duplicate: string[];
  skipped: [string, string][];
  deadLettered: string[];
  batches: number[];
  retries: string[];
  outages: string[];
}

function recordingMetrics(): { calls: Calls; metrics: ConsumerMetrics } {
  const calls: Calls = {
    processed: [],
    duplicate: [],
    skipped: [],
    deadLettered: [],
    batches: [],
    retries: [],
    outages: [],
  };
  return {
    calls,
    metrics: {
      processed: (type) => void calls.processed.push(type),
      duplicate: (type) => void calls.duplicate.push(type),
      skipped: (type, reason) => void calls.skipped.push([type, reason]),
      deadLettered: (code) => void calls.deadLettered.push(code),
      batch: (size) => void calls.batches.push(size),
      retry: (code) => void calls.retries.push(code),
      outage: (code) => void calls.outages.push(code),
    },
  };
}

interface Harness {
  topic: string;
  groupId: string;
  database: Database<unknown>;
  producer: EventProducer;
  router: EventRouter<unknown>;
  calls: Calls;
  send(records: (OutgoingRecord | RawOutgoingRecord)[]): Promise<void>;
  start(options?: {
    metrics?: ConsumerMetrics;
    deadLetterProducer?: EventProducer;
    onFatal?: (err: unknown) => void;
    retryPolicy?: Partial<RetryPolicy>;
  }): Promise<InboxConsumer>;
  effects(): Promise<Map<string, number>>;
  readDeadLetters(count: number): Promise<IncomingRecord[]>;
  readAgain(count: number): Promise<IncomingRecord[]>;
}

/** A one-partition topic and its DLQ, a migrated Sales database with an `effects` table. */
async function harness(t: TestContext): Promise<Harness> {
  const topic = uniqueName('inventory-events');
  const groupId = uniqueName('sales');
  await ensureTopics(conn, [
    { name: topic, partitions: 1, replicationFactor: 1 },
    { name: `${topic}.dlq`, partitions: 1, replicationFactor: 1 },
  ]);
  const database = await testDatabase<unknown>(t, 'sales');
  await database.exec('CREATE TABLE effects (event_id text PRIMARY KEY, n int NOT NULL)');
  const producer = createProducer(conn);
  t.after(() => producer.close());
  const router = new EventRouter<unknown>();
  const { calls, metrics: recording } = recordingMetrics();

  const read = async (fromTopic: string, group: string, count: number) => {
    const consumer = createConsumer(conn, {
      groupId: group,
      topics: [fromTopic],
      autoOffsetReset: 'earliest',
    });
    t.after(() => consumer.close());
    const records: IncomingRecord[] = [];
    const running = consumer.run((batch) => {
      records.push(...batch.records);
      return Promise.resolve();
    });
    await waitUntil(`${count} records on ${fromTopic}`, () => records.length >= count);
    await consumer.close();
    await running;
    return records;
  };

  return {
    topic,
    groupId,
    database,
    producer,
    router,
    calls,
    send: (records) => producer.send(records),
    async start(options = {}) {
      const consumer = createConsumer(conn, {
        groupId,
        topics: [topic],
        autoOffsetReset: 'earliest',
      });
      const inbox = createInboxConsumer({
        consumer,
        router,
        database,
        deadLetters: { producer: options.deadLetterProducer ?? producer },
        groupId,
        logger,
        metrics: options.metrics ?? recording,
        retryPolicy: { initialDelayMs: 10, maxDelayMs: 50, ...options.retryPolicy },
        ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
      });
      // Stopped before the database closes; tests stop it themselves first when they can.
      t.after(() => inbox.stop());
      await inbox.start();
      return inbox;
    },
    async effects() {
      const { rows } = await sql<{
        event_id: string;
        n: number;
      }>`SELECT event_id, n FROM effects`.execute(database.db);
      return new Map(rows.map((r) => [r.event_id, r.n]));
    },
    readDeadLetters: (count) => read(`${topic}.dlq`, uniqueName('dlq-reader'), count),
    /** Reads the topic as the consumer's own group: what it did not commit comes back. */
    readAgain: (count) => read(topic, groupId, count),
  };
}

/** Counts one application of the event: a second effect would show as n = 2. */
async function applyEffect(trx: Kysely<unknown>, eventId: string): Promise<void> {
  await sql`INSERT INTO effects (event_id, n) VALUES (${eventId}, 1)
            ON CONFLICT (event_id) DO UPDATE SET n = effects.n + 1`.execute(trx);
}

function lowStock(productId: string, tenantId = 'tenant-1'): EventOf<'inventory.low_stock'> {
  return createEvent(
    EVENT_TYPES.lowStock,
    {
      product_id: productId,
      product_sku: `SKU-${productId}`,
      product_name: `Product ${productId}`,
      current_stock: 3,
      reorder_level: 10,
      reorder_quantity: 50,
      unit_price: 12.5,
      category: 'electronics',
      location: 'Warehouse A',
    },
    { tenantId, sourceService: 'inventory-service' },
  );
}

function recordOf(topic: string, event: EventOf<'inventory.low_stock'>): OutgoingRecord {
  return {
    topic,
    key: messageKeyOf(event),
    value: encodeEvent(event),
    headers: kafkaHeadersFor(event),
  };
}

test("the design document's low-stock example reaches its handler, effects before afterCommit", async (t) => {
  const h = await harness(t);
  const registry = new Registry();
  const seen: EventOf<'inventory.low_stock'>[] = [];
  const afterCommit: (number | undefined)[] = [];
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    seen.push(event);
    assert.equal(ctx.record.topic, h.topic);
    await applyEffect(ctx.trx, event.metadata.event_id);
    ctx.afterCommit(async () => {
      // Runs outside the transaction: the effect must already be visible to everyone.
      afterCommit.push((await h.effects()).get(event.metadata.event_id));
    });
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
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    calls.push(event.metadata.event_id);
    await applyEffect(ctx.trx, event.metadata.event_id);
  });
  const twice = lowStock('P1');
  const marker = lowStock('P2');
  await h.send([recordOf(h.topic, twice), recordOf(h.topic, twice), recordOf(h.topic, marker)]);
  const inbox = await h.start();
  await waitUntil('the marker event', async () =>
    (await h.effects()).has(marker.metadata.event_id),
  );
  await inbox.stop();

  const effects = await h.effects();
  assert.equal(effects.get(twice.metadata.event_id), 1);
  assert.equal(effects.get(marker.metadata.event_id), 1);
  assert.deepEqual(calls, [twice.metadata.event_id, marker.metadata.event_id]);
  assert.deepEqual(h.calls.duplicate, [EVENT_TYPES.lowStock]);
  assert.deepEqual(h.calls.processed, [EVENT_TYPES.lowStock, EVENT_TYPES.lowStock]);

  // Everything again, as after a lost offset commit: the inbox turns it all into duplicates.
  const replay = createConsumer(conn, {
    groupId: uniqueName('replay'),
    topics: [h.topic],
    autoOffsetReset: 'earliest',
  });
  const { calls: replayCalls, metrics } = recordingMetrics();
  const again = createInboxConsumer({
    consumer: replay,
    router: h.router,
    database: h.database,
    deadLetters: { producer: h.producer },
    groupId: 'replay',
    logger,
    metrics,
  });
  t.after(() => again.stop());
  await again.start();
  await waitUntil('the replay', () => replayCalls.duplicate.length === 3);
  await again.stop();
  assert.deepEqual(replayCalls.processed, []);
  assert.equal(calls.length, 2);
  assert.deepEqual([...(await h.effects()).values()], [1, 1]);
});

test('poison records go to the DLQ untouched with their code; the events after them are applied', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    await applyEffect(ctx.trx, event.metadata.event_id);
  });
  const json = (mutate: (doc: ReturnType<typeof documentExample>) => void): Buffer => {
    const doc = documentExample();
    mutate(doc);
    return Buffer.from(JSON.stringify(doc));
  };
  const valid = lowStock('PRD-9');
  const poison: [RawOutgoingRecord, string][] = [
    [
      { topic: h.topic, key: Buffer.from('PRD-123'), value: Buffer.from('not json {') },
      'ERP_EVT_MALFORMED_JSON',
    ],
    [
      {
        topic: h.topic,
        key: Buffer.from('PRD-123'),
        value: json((d) => (d.payload.current_stock = 'eight')),
      },
      'ERP_EVT_INVALID_PAYLOAD',
    ],
    [
      {
        topic: h.topic,
        key: Buffer.from('PRD-123'),
        value: json((d) => delete d.metadata.timestamp),
      },
      'ERP_EVT_INVALID_ENVELOPE',
    ],
    [
      {
        topic: h.topic,
        key: Buffer.from('PRD-123'),
        value: json((d) => delete d.metadata.tenant_id),
      },
      'ERP_EVT_MISSING_TENANT',
    ],
    [
      {
        topic: h.topic,
        key: Buffer.from('PRD-123'),
        value: json((d) => (d.metadata.event_version = '2.0')),
      },
      'ERP_EVT_UNSUPPORTED_VERSION',
    ],
    [{ topic: h.topic, key: Buffer.from('PRD-123'), value: Buffer.alloc(0) }, 'ERP_EVT_EMPTY'],
    [{ topic: h.topic, key: Buffer.from('PRD-123'), value: null }, 'ERP_EVT_EMPTY'],
    [
      { topic: h.topic, key: Buffer.from('PRD-999'), value: Buffer.from(DOCUMENT_LOW_STOCK_JSON) },
      'ERP_EVT_WRONG_KEY',
    ],
    [
      { topic: h.topic, key: null, value: Buffer.from(DOCUMENT_LOW_STOCK_JSON) },
      'ERP_EVT_WRONG_KEY',
    ],
    [
      {
        topic: h.topic,
        key: Buffer.from('PRD-123'),
        value: Buffer.from(DOCUMENT_LOW_STOCK_JSON),
        headers: { tenant_id: 'tenant-2', trace: 't-1' },
      },
      'ERP_EVT_TENANT_MISMATCH',
    ],
  ];
  await h.send([...poison.map(([record]) => record), recordOf(h.topic, valid)]);
  const inbox = await h.start();
  await waitUntil('the valid event', async () => (await h.effects()).has(valid.metadata.event_id));
  await inbox.stop();

  assert.deepEqual([...(await h.effects()).entries()], [[valid.metadata.event_id, 1]]);
  const letters = await h.readDeadLetters(poison.length);
  assert.equal(letters.length, poison.length);
  for (const letter of letters) {
    const offset = Number(letter.headers['dlq.original.offset']);
    const [sent, code] = poison[offset]!;
    assert.equal(letter.headers['dlq.error.code'], code, `offset ${offset}`);
    assert.deepEqual(letter.key, sent.key, `key of offset ${offset}`);
    assert.deepEqual(letter.value, sent.value, `value of offset ${offset}`);
    assert.equal(letter.headers['dlq.original.topic'], h.topic);
    assert.equal(letter.headers['dlq.consumer.group'], h.groupId);
    assert.equal(letter.headers['dlq.error.retryable'], 'false');
    assert.equal(letter.headers['dlq.attempts'], '1');
    for (const [name, value] of Object.entries(sent.headers ?? {})) {
      assert.equal(letter.headers[name], value);
    }
  }
  assert.deepEqual(h.calls.deadLettered.toSorted(), poison.map(([, code]) => code).toSorted());
  // Nothing invalid reached the inbox.
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox`.execute(
    h.database.db,
  );
  assert.equal(rows[0]!.n, 1);
});

test('unknown event types and types without a handler are skipped and counted, not dead-lettered', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    await applyEffect(ctx.trx, event.metadata.event_id);
  });
  const future = documentExample();
  future.metadata.event_type = 'inventory.price_changed';
  future.metadata.event_id = 'evt-future';
  const created = createEvent(
    EVENT_TYPES.productCreated,
    {
      product_id: 'P7',
      product_sku: 'SKU-7',
      product_name: 'Seven',
      category: 'c',
      unit_price: 1,
      quantity_on_hand: 5,
      reorder_level: 1,
      reorder_quantity: 1,
      location: 'A',
    },
    { tenantId: 'tenant-1', sourceService: 'inventory-service' },
  );
  const valid = lowStock('P8');
  await h.send([
    { topic: h.topic, key: 'PRD-123', value: Buffer.from(JSON.stringify(future)) },
    { topic: h.topic, key: 'P7', value: encodeEvent(created), headers: kafkaHeadersFor(created) },
    recordOf(h.topic, valid),
  ]);
  const inbox = await h.start();
  await waitUntil('the valid event', async () => (await h.effects()).has(valid.metadata.event_id));
  await inbox.stop();

  assert.deepEqual(h.calls.skipped, [
    ['inventory.price_changed', 'unknown_type'],
    [EVENT_TYPES.productCreated, 'no_handler'],
  ]);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual(h.calls.processed, [EVENT_TYPES.lowStock]);
  assert.deepEqual([...(await h.effects()).keys()], [valid.metadata.event_id]);
});

test('a handler rejecting one event: it is dead-lettered, the rest of its batch applies exactly once', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2', 'P3', 'P4', 'P5'].map((p) => lowStock(p));
  const culprit = events[2]!;
  const handled = new Map<string, number>();
  const afterCommits = new Map<string, number>();
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    const id = event.metadata.event_id;
    handled.set(id, (handled.get(id) ?? 0) + 1);
    await applyEffect(ctx.trx, id);
    ctx.afterCommit(() => void afterCommits.set(id, (afterCommits.get(id) ?? 0) + 1));
    if (id === culprit.metadata.event_id) {
      throw new AppError('ERP_TEST_REJECTED', `product ${event.payload.product_id} refused`);
    }
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start();
  await waitUntil('the dead letter', () => h.calls.deadLettered.length === 1);
  await waitUntil('the whole batch', () => h.calls.processed.length === 4);
  await inbox.stop();

  const effects = await h.effects();
  for (const event of events) {
    const id = event.metadata.event_id;
    assert.equal(effects.get(id), event === culprit ? undefined : 1, id);
    assert.equal(afterCommits.get(id), event === culprit ? undefined : 1, id);
  }
  const { rows } = await sql<{ event_id: string }>`SELECT event_id FROM inbox`.execute(
    h.database.db,
  );
  assert.ok(!rows.some((r) => r.event_id === culprit.metadata.event_id));
  assert.equal(rows.length, 4);

  const [letter] = await h.readDeadLetters(1);
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_TEST_REJECTED');
  assert.equal(letter!.headers['dlq.error.message'], 'product P3 refused');
  assert.equal(letter!.headers.event_id, culprit.metadata.event_id);
  assert.deepEqual(letter!.value, encodeEvent(culprit));
  if (h.calls.batches.length === 1) {
    // One batch: it failed as a whole, then each event ran on its own.
    assert.equal(letter!.headers['dlq.attempts'], '2');
    assert.equal(handled.get(events[0]!.metadata.event_id), 2);
    assert.equal(handled.get(events[4]!.metadata.event_id), 1);
  }
  assert.ok(
    letter!.headers['dlq.first.failure']! <= letter!.headers['dlq.last.failure']!,
    'failure times in order',
  );
});

test('a handler failing transiently twice is retried: effects once, no dead letter', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2', 'P3'].map((p) => lowStock(p));
  const flaky = events[1]!.metadata.event_id;
  let flakyCalls = 0;
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    await applyEffect(ctx.trx, event.metadata.event_id);
    if (event.metadata.event_id !== flaky) return;
    flakyCalls++;
    if (flakyCalls === 1) {
      throw new AppError('ERP_TEST_TRANSIENT', 'try again', { retryable: true });
    }
    if (flakyCalls === 2) {
      // What PostgreSQL raises on a serialization failure.
      throw Object.assign(new Error('could not serialize access'), { code: '40001' });
    }
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start();
  await waitUntil('all events', () => h.calls.processed.length === 3);
  await inbox.stop();

  assert.equal(flakyCalls, 3);
  assert.deepEqual(h.calls.retries, ['ERP_TEST_TRANSIENT', '40001']);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1]);
});

test('a handler failing retryably 3 times with attempts=5 is retried: effects once, no dead letter', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2', 'P3'].map((p) => lowStock(p));
  const flaky = events[1]!.metadata.event_id;
  let flakyCalls = 0;
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    await applyEffect(ctx.trx, event.metadata.event_id);
    if (event.metadata.event_id === flaky && ++flakyCalls <= 3) {
      throw new AppError('ERP_TEST_TRANSIENT', 'try again', { retryable: true });
    }
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start({ retryPolicy: { attempts: 5 } });
  await waitUntil('all events', () => h.calls.processed.length === 3);
  await inbox.stop();

  assert.equal(flakyCalls, 4);
  assert.deepEqual(h.calls.retries, Array(3).fill('ERP_TEST_TRANSIENT'));
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1]);
});

test('a handler always failing retryably: dead-lettered after `attempts`, the others applied', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2', 'P3'].map((p) => lowStock(p));
  const doomed = events[1]!;
  let doomedCalls = 0;
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    await applyEffect(ctx.trx, event.metadata.event_id);
    if (event.metadata.event_id === doomed.metadata.event_id) {
      doomedCalls++;
      throw new AppError('ERP_TEST_TRANSIENT', `still busy (${doomedCalls})`, { retryable: true });
    }
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start({ retryPolicy: { attempts: 4 } });
  await waitUntil('the dead letter', () => h.calls.deadLettered.length === 1);
  await waitUntil('the others', () => h.calls.processed.length === 2);
  await inbox.stop();

  assert.equal(doomedCalls, 4);
  assert.deepEqual(h.calls.deadLettered, ['ERP_TEST_TRANSIENT']);
  assert.deepEqual(h.calls.retries, Array(3).fill('ERP_TEST_TRANSIENT'));
  const effects = await h.effects();
  assert.equal(effects.get(doomed.metadata.event_id), undefined);
  assert.equal(effects.size, 2);
  const [letter] = await h.readDeadLetters(1);
  assert.equal(letter!.headers['dlq.attempts'], '4');
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_TEST_TRANSIENT');
  assert.equal(letter!.headers['dlq.error.retryable'], 'true');
  assert.equal(letter!.headers['dlq.error.message'], 'still busy (4)');
  assert.deepEqual(letter!.value, encodeEvent(doomed));
  const first = Date.parse(letter!.headers['dlq.first.failure']!);
  const last = Date.parse(letter!.headers['dlq.last.failure']!);
  // Three waits of at least 10 ms * 0.8 (jitter) each lie between the first and the last failure.
  assert.ok(last - first >= 24, `first ${first}, last ${last}`);
});

test('a lost database connection is an outage: retried past `attempts`, never dead-lettered', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2'].map((p) => lowStock(p));
  const failFor = 5;
  let failures = 0;
  h.router.on(EVENT_TYPES.lowStock, async (event, ctx) => {
    if (failures < failFor) {
      failures++;
      if (h.database.kind === 'postgres') {
        // A real lost connection: the server ends this session (SQLSTATE 57P01).
        await sql`SELECT pg_terminate_backend(pg_backend_pid())`.execute(ctx.trx);
      }
      // PGlite runs in-process and cannot lose its connection: raise what pg raises then.
      throw Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      });
    }
    await applyEffect(ctx.trx, event.metadata.event_id);
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start({ retryPolicy: { attempts: 2 } });
  await waitUntil('both events', () => h.calls.processed.length === 2);
  await inbox.stop();

  assert.equal(failures, failFor);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual(h.calls.retries, []);
  assert.equal(h.calls.outages.length, failFor);
  assert.deepEqual([...(await h.effects()).values()], [1, 1]);
});

test('stop() during an outage abandons the retrying batch uncommitted: nothing is skipped', async (t) => {
  const h = await harness(t);
  let attempts = 0;
  h.router.on(EVENT_TYPES.lowStock, () => {
    attempts++;
    return Promise.reject(new AppError('ERP_DB_UNREACHABLE', 'database down', { retryable: true }));
  });
  const fatal: unknown[] = [];
  const event = lowStock('P1');
  await h.send([recordOf(h.topic, event)]);
  const inbox = await h.start({ onFatal: (err) => fatal.push(err) });
  await waitUntil('a few retries', () => attempts >= 3);
  await inbox.stop();
  assert.deepEqual(fatal, []);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual(h.calls.retries, []);
  assert.ok(h.calls.outages.length >= 2, `outages counted: ${h.calls.outages.length}`);
  assert.ok(h.calls.outages.every((code) => code === 'ERP_DB_UNREACHABLE'));
  const [again] = await h.readAgain(1);
  assert.equal(again!.headers.event_id, event.metadata.event_id);
});

test('a dead letter Kafka refuses for good is fatal and leaves the offset uncommitted', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.lowStock, async () => {});
  const closed = createProducer(conn);
  await closed.close();
  await h.send([{ topic: h.topic, key: 'PRD-1', value: Buffer.from('not json') }]);
  const fatal: unknown[] = [];
  const inbox = await h.start({ deadLetterProducer: closed, onFatal: (err) => fatal.push(err) });
  await waitUntil('the fatal error', () => fatal.length === 1);
  await inbox.stop();
  assert.ok(fatal[0] instanceof AppError && fatal[0].code === 'ERP_KAFKA_CLOSED', String(fatal[0]));
  const [again] = await h.readAgain(1);
  assert.equal(again!.value!.toString(), 'not json');
});

test('start() twice is refused', async (t) => {
  const h = await harness(t);
  const inbox = await h.start();
  await assert.rejects(
    inbox.start(),
    (err) => err instanceof AppError && err.code === 'ERP_MSG_STATE',
  );
  await inbox.stop();
});

function createdEvent(productId: string): EventOf<'inventory.product_created'> {
  return createEvent(
    EVENT_TYPES.productCreated,
    {
      product_id: productId,
      product_sku: `SKU-${productId}`,
      product_name: `Product ${productId}`,
      category: 'c',
      unit_price: 1,
      quantity_on_hand: 5,
      reorder_level: 1,
      reorder_quantity: 1,
      location: 'A',
    },
    { tenantId: 'tenant-1', sourceService: 'inventory-service' },
  );
}

test('a batch handler gets each run of its type in one call, in offset order; other types one by one', async (t) => {
  const h = await harness(t);
  const calls: string[][] = [];
  const offsets: bigint[] = [];
  const afterCommits: number[] = [];
  h.router.onBatch(EVENT_TYPES.lowStock, async (items, ctx) => {
    calls.push(items.map(({ event }) => event.metadata.event_id));
    for (const { event, record } of items) {
      offsets.push(BigInt(record.offset));
      await applyEffect(ctx.trx, event.metadata.event_id);
    }
    ctx.afterCommit(() => void afterCommits.push(items.length));
  });
  h.router.on(EVENT_TYPES.productCreated, async (event, ctx) => {
    calls.push([`created:${event.metadata.event_id}`]);
    await applyEffect(ctx.trx, event.metadata.event_id);
  });
  const first = ['P1', 'P2', 'P3'].map((p) => lowStock(p));
  const created = createdEvent('P9');
  const second = ['P4', 'P5'].map((p) => lowStock(p));
  await h.send([
    ...first.map((e) => recordOf(h.topic, e)),
    { topic: h.topic, key: 'P9', value: encodeEvent(created), headers: kafkaHeadersFor(created) },
    ...second.map((e) => recordOf(h.topic, e)),
  ]);
  const inbox = await h.start();
  await waitUntil('all six events', async () => (await h.effects()).size === 6);
  await inbox.stop();

  const ids = (events: EventOf<'inventory.low_stock'>[]) => events.map((e) => e.metadata.event_id);
  assert.deepEqual(calls.flat(), [
    ...ids(first),
    `created:${created.metadata.event_id}`,
    ...ids(second),
  ]);
  assert.deepEqual(
    offsets,
    offsets.toSorted((a, b) => (a < b ? -1 : 1)),
  );
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1, 1, 1, 1]);
  assert.equal(h.calls.processed.length, 6);
  if (h.calls.batches.length === 1) {
    assert.deepEqual(calls, [ids(first), [`created:${created.metadata.event_id}`], ids(second)]);
    assert.deepEqual(afterCommits, [3, 2]);
  }
});

test('with a batch handler, duplicates within a batch and across batches have one effect', async (t) => {
  const h = await harness(t);
  const delivered: string[] = [];
  h.router.onBatch(EVENT_TYPES.lowStock, async (items, ctx) => {
    for (const { event } of items) {
      delivered.push(event.metadata.event_id);
      await applyEffect(ctx.trx, event.metadata.event_id);
    }
  });
  const a = lowStock('P1');
  const b = lowStock('P2');
  const c = lowStock('P3');
  await h.send([recordOf(h.topic, a), recordOf(h.topic, a), recordOf(h.topic, b)]);
  const inbox = await h.start();
  await waitUntil('the first events', async () => (await h.effects()).size === 2);
  await h.send([recordOf(h.topic, b), recordOf(h.topic, a), recordOf(h.topic, c)]);
  await waitUntil('the third event', async () => (await h.effects()).has(c.metadata.event_id));
  await waitUntil('the duplicates counted', () => h.calls.duplicate.length === 3);
  await inbox.stop();

  assert.deepEqual(
    delivered,
    [a, b, c].map((e) => e.metadata.event_id),
  );
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1]);
  assert.equal(h.calls.processed.length, 3);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox`.execute(
    h.database.db,
  );
  assert.equal(rows[0]!.n, 3);
});

test('a failing batch handler falls back to one event at a time: only the bad one is dead-lettered', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2', 'P3', 'P4', 'P5'].map((p) => lowStock(p));
  const culprit = events[2]!;
  const sizes: number[] = [];
  h.router.onBatch(EVENT_TYPES.lowStock, async (items, ctx) => {
    sizes.push(items.length);
    for (const { event } of items) {
      await applyEffect(ctx.trx, event.metadata.event_id);
      if (event.metadata.event_id === culprit.metadata.event_id) {
        throw new AppError('ERP_TEST_REJECTED', `product ${event.payload.product_id} refused`);
      }
    }
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start();
  await waitUntil('the dead letter', () => h.calls.deadLettered.length === 1);
  await waitUntil('the others', () => h.calls.processed.length === 4);
  await inbox.stop();

  const effects = await h.effects();
  for (const event of events) {
    const id = event.metadata.event_id;
    assert.equal(effects.get(id), event === culprit ? undefined : 1, id);
  }
  const [letter] = await h.readDeadLetters(1);
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_TEST_REJECTED');
  assert.equal(letter!.headers.event_id, culprit.metadata.event_id);
  assert.deepEqual(h.calls.deadLettered, ['ERP_TEST_REJECTED']);
  if (h.calls.batches.length === 1) {
    // The run of five failed; then each event alone, as a one-element run.
    assert.deepEqual(sizes, [5, 1, 1, 1, 1, 1]);
  }
});
