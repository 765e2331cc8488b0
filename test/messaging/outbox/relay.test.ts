import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createProducer } from '../../../src/messaging/kafka/producer.ts';
import { appendToOutbox } from '../../../src/messaging/outbox/append.ts';
import {
  createPrometheusRelayMetrics,
  type RelayMetrics,
} from '../../../src/messaging/outbox/metrics.ts';
import { createOutboxRelay } from '../../../src/messaging/outbox/relay.ts';
import {
  AppError,
  openDatabase,
  type Database,
  type RetryPolicy,
} from '../../../src/platform/index.ts';
import { databaseUrl, testDatabase } from '../../support/database.ts';
import { uniqueName, waitUntil } from '../../support/kafka.ts';
import { cleanupStack, type OutboxDB } from '../fixtures.ts';
import {
  append,
  captureLogs,
  consume,
  kafkaConnection,
  newChannel,
  newTopic,
  outboxRow,
  recordingMetrics,
  relayFor,
  unpublished,
  unreachableProducer,
  WARN,
} from './fixtures.ts';

const invalidOptions = (field: string) => (err: unknown) =>
  err instanceof AppError &&
  err.code === 'ERP_INVALID_OPTIONS' &&
  err.context['field'] === field &&
  err.message.includes(field);

test('bad options are refused when the relay is created, naming the field', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const producer = createProducer(await kafkaConnection());
  c.after(() => producer.close());
  const base = { database, table: 'outbox', channel: 'c', producer, logger: captureLogs().logger };
  assert.throws(() => createOutboxRelay({ ...base, batchSize: 0 }), invalidOptions('batchSize'));
  assert.throws(
    () => createOutboxRelay({ ...base, pollIntervalMs: 1.5 }),
    invalidOptions('pollIntervalMs'),
  );
  // The old `backoff: { initialMs, maxMs }` spelling, or any misspelt field, is refused.
  const misspelt = { initialMs: 20 } as Partial<RetryPolicy>;
  assert.throws(
    () => createOutboxRelay({ ...base, retryPolicy: misspelt }),
    invalidOptions('initialMs'),
  );
  assert.throws(
    () => createOutboxRelay({ ...base, retryPolicy: { initialDelayMs: 500, maxDelayMs: 100 } }),
    invalidOptions('maxDelayMs'),
  );
  // Valid overrides are accepted; a table that does not exist is refused at start.
  const relay = createOutboxRelay({
    ...base,
    table: 'no_such_outbox',
    retryPolicy: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  await assert.rejects(
    relay.start(),
    (err) => err instanceof AppError && err.code === 'ERP_OUTBOX_UNKNOWN_TABLE',
  );
});

test('committed rows are published with key, value and headers intact and marked; rolled-back rows never', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic();
  const channel = newChannel();
  const relay = await relayFor(c, { database, channel });
  await relay.start();

  const committed = [outboxRow(topic, 'p-1', 0), outboxRow(topic, 'p-2', 1)];
  await append(database, committed, channel);
  const rolledBack = outboxRow(topic, 'p-1', 2);
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      await appendToOutbox(trx, 'outbox', [rolledBack]);
      throw new Error('abort');
    }),
  );
  const last = outboxRow(topic, 'p-3', 3);
  await append(database, [last], channel);

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
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic(3);
  const channel = newChannel();
  const rows = Array.from({ length: 300 }, (_, i) => outboxRow(topic, `key-${i % 5}`, i));
  // Several transactions, some appended while the relay runs, batches smaller than a transaction.
  await append(database, rows.slice(0, 100), channel);
  const relay = await relayFor(c, { database, channel, batchSize: 37 });
  await relay.start();
  for (let i = 100; i < 300; i += 20) await append(database, rows.slice(i, i + 20), channel);

  const records = await consume(t, topic, 300);
  assert.equal(records.length, 300);
  const positions = await database.db
    .selectFrom('outbox')
    .select(['event_id', 'message_key'])
    .orderBy('position')
    .execute();
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
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic();
  const channel = newChannel();
  const rows = Array.from({ length: 40 }, (_, i) => outboxRow(topic, `k${i % 4}`, i));
  await append(database, rows, channel);

  const { logger, lines } = captureLogs();
  const { metrics, seen } = recordingMetrics();
  const registry = new Registry();
  const prometheus = createPrometheusRelayMetrics(registry, { table: 'outbox' });
  const both: RelayMetrics = {
    published: (c, s) => (metrics.published(c, s), prometheus.published(c, s)),
    failed: (e) => (metrics.failed(e), prometheus.failed(e)),
    backlog: (p, a) => (metrics.backlog(p, a), prometheus.backlog(p, a)),
  };
  const broken = createOutboxRelay({
    database,
    table: 'outbox',
    channel,
    producer: unreachableProducer(c),
    logger,
    metrics: both,
    pollIntervalMs: 100,
    retryPolicy: { initialDelayMs: 20, maxDelayMs: 200 },
    stopTimeoutMs: 500,
  });
  c.after(() => broken.stop());
  await broken.start();
  const extra = outboxRow(topic, 'k0', 40);
  await append(database, [extra], channel);
  await waitUntil('several failed attempts', () => seen.failures.length >= 4, 20_000);
  await waitUntil('a backlog sample', () => seen.backlog.some(([n]) => n === 41), 5000);
  assert.equal(seen.published, 0);
  assert.equal(await unpublished(database), 41);
  const warnings = lines.filter((l) => l.level >= WARN);
  assert.equal(warnings.length, 1, 'one warning for the whole outage, not one per attempt');
  const exposition = await registry.metrics();
  assert.match(exposition, /erp_outbox_pending\{table="outbox"\} 41/);
  assert.match(exposition, /erp_outbox_publish_failures_total\{table="outbox"\} [1-9]/);
  await broken.stop();
  assert.equal(await unpublished(database), 41, 'a failed drain loses nothing');

  const healthy = await relayFor(c, { database, channel });
  await healthy.start();
  const records = await consume(t, topic, 41);
  assert.deepEqual(
    new Set(records.map((r) => r.headers.event_id)),
    new Set([...rows, extra].map((r) => r.eventId)),
  );
  await waitUntil('all marked', async () => (await unpublished(database)) === 0, 5000);
});

test('failures back off per the retry policy: a large initial delay spaces the attempts', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic();
  await append(database, [outboxRow(topic, 'k', 0)]);
  const { metrics, seen } = recordingMetrics();
  const relay = createOutboxRelay({
    database,
    table: 'outbox',
    channel: newChannel(),
    producer: unreachableProducer(c),
    logger: captureLogs().logger,
    metrics,
    pollIntervalMs: 10,
    retryPolicy: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 },
    stopTimeoutMs: 300,
  });
  c.after(() => relay.stop());
  await relay.start();
  await waitUntil('the first failure', () => seen.failures.length >= 1, 10_000);
  await sleep(1500);
  // With the default policy (100 ms doubling) there would be several attempts by now.
  assert.equal(seen.failures.length, 1, 'the second attempt waits for initialDelayMs');
  await relay.stop();
});

test('a send that hangs (idempotent producer retrying forever) is reported after sendTimeoutMs and not repeated', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic();
  await append(database, [outboxRow(topic, 'k', 0)]);
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
    channel: newChannel(),
    producer: down,
    logger,
    metrics,
    pollIntervalMs: 100,
    sendTimeoutMs: 300,
    stopTimeoutMs: 300,
  });
  c.after(() => relay.stop());
  await relay.start();
  await waitUntil('the slow send reported', () => seen.failures.length === 1, 5000);
  await waitUntil('a backlog sample', () => seen.backlog.some(([n]) => n === 1), 5000);
  await sleep(700);
  assert.equal(seen.failures.length, 1, 'the hung send is awaited, not repeated');
  assert.equal((seen.failures[0] as AppError).code, 'ERP_KAFKA_TIMEOUT');
  assert.equal(lines.filter((l) => l.level >= WARN).length, 1);
  const stopping = Date.now();
  await relay.stop();
  assert.ok(Date.now() - stopping < 2000, 'stop() is bounded by stopTimeoutMs');
  await down.close().catch(() => {});
  assert.equal(await unpublished(database), 1);
});

test('stop() publishes everything committed before it was called', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic();
  // A long poll interval and no notification: only stop()'s drain can publish the last rows.
  const relay = await relayFor(c, { database, channel: newChannel(), pollIntervalMs: 60_000 });
  await relay.start();
  await sleep(300);
  const rows = Array.from({ length: 1200 }, (_, i) => outboxRow(topic, `k${i % 3}`, i));
  await append(database, rows);
  await relay.stop();
  assert.equal(await unpublished(database), 0);
  const records = await consume(t, topic, rows.length);
  assert.equal(new Set(records.map((r) => r.headers.event_id)).size, rows.length);
});

test('a signal from a writer in another process wakes the relay without waiting for its poll', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic();
  const channel = newChannel();
  const relay = await relayFor(c, { database, channel, pollIntervalMs: 60_000 });
  await relay.start();
  await waitUntil('leadership', () => relay.leads(), 10_000);
  // Let the first (empty) cycle end, so that the relay sleeps in its 60 s poll.
  await sleep(300);
  await append(database, [outboxRow(topic, 'k', 0)], channel);
  // Well before the next poll (60 s): only the NOTIFY can have woken it.
  await waitUntil('published', async () => (await unpublished(database)) === 0, 10_000);
  assert.equal((await consume(t, topic, 1)).length, 1);
});

test('two relays on one table: one leads and publishes, the other stands by and takes over after stop()', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  // Under PostgreSQL a second pool on the same schema stands for a second process; PGlite is one
  // process, so both relays share its database object and the in-process lock.
  const other: Database<OutboxDB> =
    databaseUrl === undefined
      ? database
      : await openDatabase({ url: databaseUrl, schema: database.schema! });
  if (other !== database) c.after(() => other.close());
  const topic = await newTopic();
  const channel = newChannel();
  const a = recordingMetrics();
  const b = recordingMetrics();
  const first = await relayFor(c, { database, channel, metrics: a.metrics });
  const second = await relayFor(c, { database: other, channel, metrics: b.metrics });
  await first.start();
  await waitUntil('the first relay leads', () => first.leads(), 10_000);
  await second.start();

  const rows = Array.from({ length: 200 }, (_, i) => outboxRow(topic, `k${i % 4}`, i));
  for (let i = 0; i < rows.length; i += 10) await append(database, rows.slice(i, i + 10), channel);
  await waitUntil('all marked', async () => (await unpublished(database)) === 0, 20_000);
  assert.equal(a.seen.published, 200);
  assert.equal(b.seen.published, 0);
  assert.equal(second.leads(), false);

  await first.stop();
  const later = Array.from({ length: 20 }, (_, i) => outboxRow(topic, `k${i % 4}`, 200 + i));
  await append(database, later, channel);
  await waitUntil('the standby took over', () => b.seen.published === 20, 10_000);
  assert.equal(second.leads(), true);

  const records = await consume(t, topic, 220);
  assert.equal(records.length, 220, 'no duplicates in a quiet run');
  assert.equal(new Set(records.map((r) => r.headers.event_id)).size, 220);
});

test('throughput: a backlog of 20,000 rows is published in batches of 1000', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const topic = await newTopic(6);
  const channel = newChannel();
  const rows = Array.from({ length: 20_000 }, (_, i) => outboxRow(topic, `k${i % 100}`, i));
  for (let i = 0; i < rows.length; i += 2000) {
    await append(database, rows.slice(i, i + 2000), channel);
  }
  const { metrics, seen } = recordingMetrics();
  const relay = await relayFor(c, { database, channel, metrics, batchSize: 1000 });
  const started = performance.now();
  await relay.start();
  await waitUntil('all published', () => seen.published >= rows.length, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(rows.length / seconds);
  t.diagnostic(
    `${rows.length} events in ${seconds.toFixed(2)} s: ${rate} events/s (${database.kind})`,
  );
  assert.equal(seen.published, rows.length);
  assert.ok(
    seen.batches.every((n) => n <= 1000),
    'no batch above batchSize',
  );
  assert.equal(await unpublished(database), 0);
});

test('a relay stopped before it started cannot start, and a stop during start waits for it', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const producer = createProducer(await kafkaConnection());
  c.after(() => producer.close());
  const make = () =>
    createOutboxRelay({
      database,
      table: 'outbox',
      channel: newChannel(),
      producer,
      logger: captureLogs().logger,
      pollIntervalMs: 100,
    });
  const early = make();
  await early.stop();
  await assert.rejects(early.start(), { code: 'ERP_MSG_STATE' });
  assert.equal(early.leads(), false);

  const racing = make();
  const starting = racing.start();
  await racing.stop();
  await starting;
  assert.equal(racing.leads(), false, 'the stop that came during start released the lead');
  // Another relay can lead the table at once: nothing of the first is left holding it.
  const next = make();
  c.after(() => next.stop());
  await next.start();
  await waitUntil('the next relay leads', () => next.leads());
});
