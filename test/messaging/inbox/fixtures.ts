/**
 * What the inbox consumer tests share: a one-partition topic with its DLQ, a migrated Sales
 * database with an `effects` table, recording metrics, and events of the contract.
 */
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import {
  createEvent,
  encodeEvent,
  EVENT_TYPES,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../../src/contract/index.ts';
import type { AnyEvent, EventOf } from '../../../src/contract/index.ts';
import { createInboxConsumer, type InboxConsumer } from '../../../src/messaging/inbox/consumer.ts';
import type { ConsumerMetrics } from '../../../src/messaging/inbox/metrics.ts';
import {
  createConsumer,
  createProducer,
  ensureTopics,
  type EventProducer,
  type IncomingRecord,
  type KafkaConnectionOptions,
  type OutgoingRecord,
  type RawOutgoingRecord,
} from '../../../src/messaging/kafka/index.ts';
import { EventRouter } from '../../../src/messaging/router.ts';
import { createLogger, type Database, type RetryPolicy } from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';
import { consumeRecords, testBootstrap, uniqueName } from '../../support/kafka.ts';
import { lowStock } from '../../contract/fixtures.ts';
import { cleanupStack } from '../fixtures.ts';

export { lowStock };

let connection: Promise<KafkaConnectionOptions> | undefined;

/** The test broker, one client id per test file. */
export function kafkaConnection(): Promise<KafkaConnectionOptions> {
  connection ??= testBootstrap().then((bootstrapServers) => ({
    clientId: uniqueName('inbox-test'),
    bootstrapServers,
  }));
  return connection;
}

export const logger = createLogger('inbox-consumer-test', process.env.LOG_LEVEL ?? 'silent');

export interface Calls {
  processed: string[];
  duplicate: string[];
  skipped: [string, string][];
  deadLettered: string[];
  batches: number[];
  retries: string[];
  outages: string[];
}

export function recordingMetrics(): { calls: Calls; metrics: ConsumerMetrics } {
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

export interface StartOptions {
  /** Default: the harness's recording metrics (`calls`). */
  metrics?: ConsumerMetrics;
  deadLetterProducer?: EventProducer;
  onFatal?: (err: unknown) => void;
  /** Over a fast test policy (10 ms doubling to 50 ms). */
  retryPolicy?: Partial<RetryPolicy>;
  /** Default: the harness's group. */
  groupId?: string;
  /** Default: the consumer's ('key'). */
  ordering?: 'key' | 'partition';
}

export interface Harness {
  topic: string;
  groupId: string;
  database: Database<unknown>;
  producer: EventProducer;
  router: EventRouter<unknown>;
  calls: Calls;
  send(records: (OutgoingRecord | RawOutgoingRecord)[]): Promise<void>;
  /** An inbox consumer of the topic, started; stopped at the end of the test at the latest. */
  start(options?: StartOptions): Promise<InboxConsumer>;
  /** event_id → times its effect was applied (`applyEffect`). */
  effects(): Promise<Map<string, number>>;
  /** The ids in the inbox table. */
  inbox(): Promise<string[]>;
  readDeadLetters(count: number): Promise<IncomingRecord[]>;
  /** Reads the topic as the consumer's own group: what it did not commit comes back. */
  readAgain(count: number): Promise<IncomingRecord[]>;
}

/** A one-partition topic and its DLQ, a migrated Sales database with an `effects` table. */
export async function harness(t: TestContext): Promise<Harness> {
  const conn = await kafkaConnection();
  const topic = uniqueName('inventory-events');
  const groupId = uniqueName('sales');
  await ensureTopics(conn, [
    { name: topic, partitions: 1, replicationFactor: 1 },
    { name: `${topic}.dlq`, partitions: 1, replicationFactor: 1 },
  ]);
  // Inbox consumers stop before the producer closes, and both before the database closes.
  const cleanup = cleanupStack(t);
  const database = await testDatabase<unknown>(cleanup, 'sales');
  await database.exec('CREATE TABLE effects (event_id text PRIMARY KEY, n int NOT NULL)');
  const producer = createProducer(conn);
  cleanup.after(() => producer.close());
  const router = new EventRouter<unknown>();
  const { calls, metrics: recording } = recordingMetrics();

  const read = (fromTopic: string, group: string, count: number) =>
    consumeRecords(t, conn, fromTopic, count, { groupId: group });

  return {
    topic,
    groupId,
    database,
    producer,
    router,
    calls,
    send: (records) => producer.send(records),
    async start(options = {}) {
      const group = options.groupId ?? groupId;
      const consumer = createConsumer(conn, {
        groupId: group,
        topics: [topic],
        autoOffsetReset: 'earliest',
      });
      const inbox = createInboxConsumer({
        consumer,
        router,
        database,
        deadLetters: { producer: options.deadLetterProducer ?? producer },
        groupId: group,
        logger,
        metrics: options.metrics ?? recording,
        retryPolicy: { initialDelayMs: 10, maxDelayMs: 50, ...options.retryPolicy },
        ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
        ...(options.ordering === undefined ? {} : { ordering: options.ordering }),
      });
      // Stopped before the database closes; tests stop it themselves first when they can.
      cleanup.after(() => inbox.stop());
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
    async inbox() {
      const { rows } = await sql<{ event_id: string }>`SELECT event_id FROM inbox`.execute(
        database.db,
      );
      return rows.map((r) => r.event_id);
    },
    readDeadLetters: (count) => read(`${topic}.dlq`, uniqueName('dlq-reader'), count),
    readAgain: (count) => read(topic, groupId, count),
  };
}

/** Counts one application of the event: a second effect would show as n = 2. */
export async function applyEffect(trx: Kysely<unknown>, eventId: string): Promise<void> {
  await sql`INSERT INTO effects (event_id, n) VALUES (${eventId}, 1)
            ON CONFLICT (event_id) DO UPDATE SET n = effects.n + 1`.execute(trx);
}

/** A handler that applies the effect of each event of its run, in order. */
export async function applyEach(
  events: readonly { event: AnyEvent }[],
  ctx: { trx: Kysely<unknown> },
): Promise<void> {
  for (const { event } of events) await applyEffect(ctx.trx, event.metadata.event_id);
}

export function productCreated(productId: string): EventOf<'inventory.product_created'> {
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

/** The record a producer following the contract sends for `event`. */
export function recordOf(topic: string, event: AnyEvent): OutgoingRecord {
  return {
    topic,
    key: messageKeyOf(event),
    value: encodeEvent(event),
    headers: kafkaHeadersFor(event),
  };
}

export const idOf = (event: AnyEvent): string => event.metadata.event_id;
