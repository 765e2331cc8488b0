import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { before, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Envelope } from '../../src/contract/index.ts';
import { ensureTopics } from '../../src/messaging/kafka/admin.ts';
import { createConsumer, type IncomingRecord } from '../../src/messaging/kafka/consumer.ts';
import type { KafkaConnectionOptions } from '../../src/messaging/kafka/options.ts';
import { createProducer, type ProducerSettings } from '../../src/messaging/kafka/producer.ts';
import { appendToOutbox, type OutboxRow } from '../../src/messaging/outbox.ts';
import { createOutboxSignal } from '../../src/messaging/outbox-signal.ts';
import {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '../../src/messaging/outbox-relay.ts';
import {
  createPrometheusRelayMetrics,
  type RelayMetrics,
} from '../../src/messaging/relay-metrics.ts';
import { openDatabase, type Database } from '../../src/platform/database.ts';
import { databaseUrl, testDatabase } from '../support/database.ts';
import { pushInto, testBootstrap, uniqueName, waitUntil } from '../support/kafka.ts';
import type { OutboxDB } from './fixtures.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('relay-test'), bootstrapServers: await testBootstrap() };
});

async function newTopic(partitions = 3): Promise<string> {
  const name = uniqueName('relay');
  await ensureTopics(conn, [{ name, partitions, replicationFactor: 1 }]);
  return name;
}

function outboxRow(topic: string, key: string, seq: number): OutboxRow {
  const eventId = randomUUID();
  const envelope: Envelope = {
    metadata: {
      event_id: eventId,
      event_type: 'test.happened',
      event_version: '1.0',
      timestamp: new Date().toISOString(),
      source_service: 'relay-test',
      tenant_id: 'tenant-a',
      correlation_id: eventId,
      priority: 'low',
    },
    payload: { key, seq, text: 'ünïcode' },
  };
  return {
    eventId,
    tenantId: 'tenant-a',
    eventType: 'test.happened',
    topic,
    key,
    envelope,
    headers: { event_id: eventId, seq: String(seq), 'x-ü': 'välue' },
    occurredAt: new Date(),
  };
}

async function append(
  database: Database<OutboxDB>,
  channel: string,
  rows: OutboxRow[],
): Promise<void> {
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', rows));
  // What a writer without a relay of its own does after the commit: NOTIFY the channel.
  const signal = createOutboxSignal({ database, channel, logger: pino({ level: 'silent' }) });
  signal.committed();
  await signal.close();
}

async function unpublished(database: Database<OutboxDB>): Promise<number> {
  const result = await database.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('published_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(result.n);
}

/** Everything on `topic` once `count` records arrived, plus a short grace period for extras. */
async function consume(t: TestContext, topic: string, count: number): Promise<IncomingRecord[]> {
  const consumer = createConsumer(conn, {
    groupId: uniqueName('relay-group'),
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxBatchSize: 1000,
  });
  t.after(() => consumer.close());
  const batches: { records: IncomingRecord[] }[] = [];
  const running = consumer.run(pushInto(batches));
  const received = () => batches.flatMap((b) => b.records);
  await waitUntil(`${count} records on ${topic}`, () => received().length >= count, 60_000);
  await sleep(500);
  await consumer.close();
  await running;
  return received();
}

function captureLogs() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function recordingMetrics() {
  const seen = { published: 0, batches: 0, failures: 0, backlog: [] as [number, number][] };
  const metrics: RelayMetrics = {
    published(count) {
      seen.published += count;
      seen.batches++;
    },
    failed() {
      seen.failures++;
    },
    backlog(pending, age) {
      seen.backlog.push([pending, age]);
    },
  };
  return { metrics, seen };
}

function relayFor(
  t: TestContext,
  options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'database' | 'channel'>,
  producerSettings: ProducerSettings = {},
): OutboxRelay {
  const producer = options.producer ?? createProducer(conn, producerSettings);
  const relay = createOutboxRelay({
    table: 'outbox',
    producer,
    logger: captureLogs().logger,
    pollIntervalMs: 200,
    ...options,
  });
  // Registered after the producer's close so that it runs first (t.after is LIFO).
  if (options.producer === undefined) t.after(() => producer.close().catch(() => {}));
  t.after(() => relay.stop());
  return relay;
}

test('committed rows are published with key, value and headers intact and marked; rolled-back rows never', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic();
  const channel = uniqueName('relay').replaceAll('-', '_');
  const relay = relayFor(t, { database, channel });
  await relay.start();

  const committed = [outboxRow(topic, 'p-1', 0), outboxRow(topic, 'p-2', 1)];
  await append(database, channel, committed);
  const rolledBack = outboxRow(topic, 'p-1', 2);
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      await appendToOutbox(trx, 'outbox', [rolledBack]);
      throw new Error('abort');
    }),
  );
  const last = outboxRow(topic, 'p-3', 3);
  await append(database, channel, [last]);

  const records = await consume(t, topic, 3);
  assert.equal(records.length, 3);
  const sent = [...committed, last];
  for (const row of sent) {
    const record = records.find((r) => r.headers.event_id === row.eventId);
    assert.ok(record, `event ${row.eventId} published`);
    assert.equal(record.key?.toString('utf8'), row.key);
    assert.deepEqual(JSON.parse(record.value!.toString('utf8')), row.envelope);
    assert.deepEqual(record.headers, row.headers);
  }
  assert.ok(!records.some((r) => r.headers.event_id === rolledBack.eventId));
  await waitUntil('rows marked', async () => (await unpublished(database)) === 0, 5000);
});

test('per key, the published order is the position order (300 rows, 5 keys, small batches)', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic(3);
  const channel = uniqueName('relay').replaceAll('-', '_');
  const rows = Array.from({ length: 300 }, (_, i) => outboxRow(topic, `key-${i % 5}`, i));
  // Several transactions, some appended while the relay runs, batches smaller than a transaction.
  await append(database, channel, rows.slice(0, 100));
  const relay = relayFor(t, { database, channel, batchSize: 37 });
  await relay.start();
  for (let i = 100; i < 300; i += 20) await append(database, channel, rows.slice(i, i + 20));

  const records = await consume(t, topic, 300);
  assert.equal(records.length, 300);
  const positions = (await database.db
    .selectFrom('outbox')
    .select(['event_id', 'message_key'])
    .orderBy('position')
    .execute()) as { event_id: string; message_key: string }[];
  for (let k = 0; k < 5; k++) {
    const key = `key-${k}`;
    const expected = positions.filter((p) => p.message_key === key).map((p) => p.event_id);
    const actual = records
      .filter((r) => r.key?.toString() === key)
      .map((r) => r.headers.event_id)
      .filter((id, i, all) => all.indexOf(id) === i);
    assert.deepEqual(actual, expected, `order of ${key}`);
    assert.equal(
      new Set(records.filter((r) => r.key?.toString() === key).map((r) => r.partition)).size,
      1,
    );
  }
});

test('while Kafka is unreachable rows stay unpublished, failures are logged once and the backlog reported; a healthy relay then publishes them all', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic();
  const channel = uniqueName('relay').replaceAll('-', '_');
  const rows = Array.from({ length: 40 }, (_, i) => outboxRow(topic, `k${i % 4}`, i));
  await append(database, channel, rows);

  const { logger, lines } = captureLogs();
  const { metrics, seen } = recordingMetrics();
  const registry = new Registry();
  const prometheus = createPrometheusRelayMetrics(registry, { table: 'outbox' });
  const both: RelayMetrics = {
    published: (c, s) => (metrics.published(c, s), prometheus.published(c, s)),
    failed: (e) => (metrics.failed(e), prometheus.failed(e)),
    backlog: (p, a) => (metrics.backlog(p, a), prometheus.backlog(p, a)),
  };
  const down = createProducer(
    { clientId: uniqueName('down'), bootstrapServers: ['127.0.0.1:1'], connectTimeoutMs: 200 },
    // retries: 1 because the library treats 0 as "retry forever" like an idempotent producer does.
    { idempotent: false, acks: 'leader', retries: 1, retryDelayMs: 10 },
  );
  t.after(() => down.close().catch(() => {}));
  const broken = createOutboxRelay({
    database,
    table: 'outbox',
    channel,
    producer: down,
    logger,
    metrics: both,
    pollIntervalMs: 100,
    backoff: { initialMs: 20, maxMs: 200 },
    stopTimeoutMs: 500,
  });
  t.after(() => broken.stop());
  await broken.start();
  const extra = outboxRow(topic, 'k0', 40);
  await append(database, channel, [extra]);
  await waitUntil('several failed attempts', () => seen.failures >= 4, 20_000);
  await waitUntil('a backlog sample', () => seen.backlog.some(([n]) => n === 41), 5000);
  assert.equal(seen.published, 0);
  assert.equal(await unpublished(database), 41);
  const warnings = lines.filter((l) => l.level >= 40);
  assert.equal(warnings.length, 1, 'one warning for the whole outage, not one per attempt');
  const exposition = await registry.metrics();
  assert.match(exposition, /erp_outbox_pending\{table="outbox"\} 41/);
  assert.match(exposition, /erp_outbox_publish_failures_total\{table="outbox"\} [1-9]/);
  await broken.stop();
  assert.equal(await unpublished(database), 41, 'a failed drain loses nothing');

  const healthy = relayFor(t, { database, channel });
  await healthy.start();
  const records = await consume(t, topic, 41);
  assert.deepEqual(
    new Set(records.map((r) => r.headers.event_id)),
    new Set([...rows, extra].map((r) => r.eventId)),
  );
  await waitUntil('all marked', async () => (await unpublished(database)) === 0, 5000);
});

test('a send that hangs (idempotent producer retrying forever) is reported after sendTimeoutMs and not repeated', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic();
  const channel = uniqueName('relay').replaceAll('-', '_');
  await append(database, channel, [outboxRow(topic, 'k', 0)]);
  const { logger, lines } = captureLogs();
  const { metrics, seen } = recordingMetrics();
  const down = createProducer({
    clientId: uniqueName('down'),
    bootstrapServers: ['127.0.0.1:1'],
    connectTimeoutMs: 200,
  });
  const relay = createOutboxRelay({
    database,
    table: 'outbox',
    channel,
    producer: down,
    logger,
    metrics,
    pollIntervalMs: 100,
    sendTimeoutMs: 300,
    stopTimeoutMs: 300,
  });
  t.after(() => relay.stop());
  await relay.start();
  await waitUntil('the slow send reported', () => seen.failures === 1, 5000);
  await waitUntil('a backlog sample', () => seen.backlog.some(([n]) => n === 1), 5000);
  await sleep(700);
  assert.equal(seen.failures, 1, 'the hung send is awaited, not repeated');
  assert.equal(lines.filter((l) => l.level >= 40).length, 1);
  const stopping = Date.now();
  await relay.stop();
  assert.ok(Date.now() - stopping < 2000, 'stop() is bounded by stopTimeoutMs');
  await down.close().catch(() => {});
  assert.equal(await unpublished(database), 1);
});

test('stop() publishes everything committed before it was called', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic();
  const channel = uniqueName('relay').replaceAll('-', '_');
  // A long poll interval and no notification: only stop()'s drain can publish the last rows.
  const relay = relayFor(t, { database, channel: `${channel}_unused`, pollIntervalMs: 60_000 });
  await relay.start();
  await sleep(300);
  const rows = Array.from({ length: 1200 }, (_, i) => outboxRow(topic, `k${i % 3}`, i));
  await append(database, channel, rows);
  await relay.stop();
  assert.equal(await unpublished(database), 0);
  const records = await consume(t, topic, rows.length);
  assert.equal(new Set(records.map((r) => r.headers.event_id)).size, rows.length);
});

test('a signal from a writer in another process wakes the relay without waiting for its poll', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic();
  const channel = uniqueName('relay').replaceAll('-', '_');
  const relay = relayFor(t, { database, channel, pollIntervalMs: 60_000 });
  await relay.start();
  await waitUntil('leadership', () => relay.leads(), 10_000);
  // Let the first (empty) cycle end, so that the relay sleeps in its 60 s poll.
  await sleep(300);
  await append(database, channel, [outboxRow(topic, 'k', 0)]);
  // Well before the next poll (60 s): only the NOTIFY can have woken it.
  await waitUntil('published', async () => (await unpublished(database)) === 0, 10_000);
  assert.equal((await consume(t, topic, 1)).length, 1);
});

test('two relays on one table: one leads and publishes, the other stands by and takes over after stop()', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  // Under PostgreSQL a second pool on the same schema stands for a second process; PGlite is one
  // process, so both relays share its database object and the in-process lock.
  const other: Database<OutboxDB> =
    databaseUrl === undefined
      ? database
      : await openDatabase({ url: databaseUrl, schema: (database as { schema?: string }).schema! });
  if (other !== database) t.after(() => other.close());
  const topic = await newTopic();
  const channel = uniqueName('relay').replaceAll('-', '_');
  const a = recordingMetrics();
  const b = recordingMetrics();
  const first = relayFor(t, { database, channel, metrics: a.metrics });
  const second = relayFor(t, { database: other, channel, metrics: b.metrics });
  await first.start();
  await sleep(100);
  await second.start();

  const rows = Array.from({ length: 200 }, (_, i) => outboxRow(topic, `k${i % 4}`, i));
  for (let i = 0; i < rows.length; i += 10) await append(database, channel, rows.slice(i, i + 10));
  await waitUntil('all marked', async () => (await unpublished(database)) === 0, 20_000);
  assert.equal(a.seen.published, 200);
  assert.equal(b.seen.published, 0);

  await first.stop();
  const later = Array.from({ length: 20 }, (_, i) => outboxRow(topic, `k${i % 4}`, 200 + i));
  await append(database, channel, later);
  await waitUntil('the standby took over', () => b.seen.published === 20, 10_000);

  const records = await consume(t, topic, 220);
  assert.equal(records.length, 220, 'no duplicates in a quiet run');
  assert.equal(new Set(records.map((r) => r.headers.event_id)).size, 220);
});

test('throughput: a backlog of 20,000 rows is published in batches of 1000', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const topic = await newTopic(6);
  const channel = uniqueName('relay').replaceAll('-', '_');
  const rows = Array.from({ length: 20_000 }, (_, i) => outboxRow(topic, `k${i % 100}`, i));
  for (let i = 0; i < rows.length; i += 2000)
    await append(database, channel, rows.slice(i, i + 2000));
  const { metrics, seen } = recordingMetrics();
  const relay = relayFor(t, { database, channel, metrics, batchSize: 1000 });
  const started = performance.now();
  await relay.start();
  await waitUntil('all published', () => seen.published >= rows.length, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(rows.length / seconds);
  t.diagnostic(
    `${rows.length} events in ${seconds.toFixed(2)} s: ${rate} events/s (${database.kind})`,
  );
  assert.equal(seen.published, rows.length);
  assert.equal(await unpublished(database), 0);
});
