/** What the relay, publisher, leadership and health tests share: rows, topics, logs, metrics. */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import type { Envelope } from '../../../src/contract/index.ts';
import { ensureTopics } from '../../../src/messaging/kafka/admin.ts';
import type { IncomingRecord } from '../../../src/messaging/kafka/consumer.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/options.ts';
import { createProducer, type EventProducer } from '../../../src/messaging/kafka/producer.ts';
import { appendToOutbox, type OutboxRow } from '../../../src/messaging/outbox/append.ts';
import type { RelayMetrics } from '../../../src/messaging/outbox/metrics.ts';
import {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '../../../src/messaging/outbox/relay.ts';
import { createOutboxSignal } from '../../../src/messaging/outbox/signal.ts';
import type { Database } from '../../../src/platform/index.ts';
import type { Cleanup } from '../../support/database.ts';
import { consumeRecords, testBootstrap, uniqueName } from '../../support/kafka.ts';
import type { OutboxDB } from '../fixtures.ts';

let connection: Promise<KafkaConnectionOptions> | undefined;

/** The test broker, one client id per test file. */
export function kafkaConnection(): Promise<KafkaConnectionOptions> {
  connection ??= testBootstrap().then((bootstrapServers) => ({
    clientId: uniqueName('outbox-test'),
    bootstrapServers,
  }));
  return connection;
}

export async function newTopic(partitions = 3): Promise<string> {
  const name = uniqueName('relay');
  await ensureTopics(await kafkaConnection(), [{ name, partitions, replicationFactor: 1 }]);
  return name;
}

/** A NOTIFY channel name of this test's own. */
export const newChannel = (): string => uniqueName('relay').replaceAll('-', '_');

export function outboxRow(topic: string, key: string, seq: number): OutboxRow {
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

/** Commits `rows` to the `outbox` table; with a channel, NOTIFYs it after the commit. */
export async function append(
  database: Database<OutboxDB>,
  rows: OutboxRow[],
  channel?: string,
): Promise<void> {
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', rows));
  if (channel === undefined) return;
  // What a writer without a relay of its own does after the commit: NOTIFY the channel.
  const signal = createOutboxSignal({ database, channel, logger: pino({ level: 'silent' }) });
  signal.committed();
  await signal.close();
}

export async function unpublished(database: Database<OutboxDB>): Promise<number> {
  const result = await database.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('published_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(result.n);
}

/** Everything on `topic` once `count` records arrived, plus `graceMs` for extras (duplicates). */
export async function consume(
  t: TestContext,
  topic: string,
  count: number,
  graceMs = 500,
): Promise<IncomingRecord[]> {
  return consumeRecords(t, await kafkaConnection(), topic, count, {
    groupId: uniqueName('relay-group'),
    graceMs,
    maxBatchSize: 1000,
    timeoutMs: 60_000,
  });
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger writing into `lines` (parsed), synchronously. */
export function captureLogs() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** pino's levels. */
export const WARN = 40;
export const INFO = 30;

export function recordingMetrics() {
  const seen = {
    published: 0,
    batches: [] as number[],
    failures: [] as unknown[],
    backlog: [] as [number, number][],
  };
  const metrics: RelayMetrics = {
    published(count) {
      seen.published += count;
      seen.batches.push(count);
    },
    failed(err) {
      seen.failures.push(err);
    },
    backlog(pending, age) {
      seen.backlog.push([pending, age]);
    },
  };
  return { metrics, seen };
}

/** A relay on the `outbox` table, polling every 200 ms, with a producer of its own unless given. */
export async function relayFor(
  c: Cleanup,
  options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'database' | 'channel'>,
): Promise<OutboxRelay> {
  const producer = options.producer ?? createProducer(await kafkaConnection());
  const relay = createOutboxRelay({
    table: 'outbox',
    producer,
    logger: captureLogs().logger,
    pollIntervalMs: 200,
    ...options,
  });
  // On a cleanup stack: stopped before its producer closes, and both before the database closes.
  if (options.producer === undefined) c.after(() => producer.close().catch(() => {}));
  c.after(() => relay.stop());
  return relay;
}

/** A producer whose every send fails fast: nothing listens on port 1. */
export function unreachableProducer(c: Cleanup): EventProducer {
  const down = createProducer(
    { clientId: uniqueName('down'), bootstrapServers: ['127.0.0.1:1'], connectTimeoutMs: 200 },
    // retries: 1 because the library treats 0 as "retry forever" like an idempotent producer does.
    { idempotent: false, acks: 'leader', retries: 1, retryDelayMs: 10 },
  );
  c.after(() => down.close().catch(() => {}));
  return down;
}
