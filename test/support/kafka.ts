import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureSecureKafka } from '../../scripts/kafka.ts';
import type { SecureKafka } from '../../scripts/kafka.ts';
import { createConsumer, createProducer } from '../../src/messaging/index.ts';
import type {
  IncomingBatch,
  IncomingRecord,
  KafkaConnectionOptions,
} from '../../src/messaging/index.ts';

const LOCAL = '127.0.0.1:9092';
const WAIT_MS = 180_000;

let bootstrap: Promise<string[]> | undefined;

/**
 * Bootstrap servers for tests against a real broker: `KAFKA_BOOTSTRAP_SERVERS` (comma-separated)
 * when set, otherwise the local broker, started through scripts/kafka.ts `ensureKafka()` when
 * that script exists, else awaited on 127.0.0.1:9092. Resolved once per test process.
 */
export function testBootstrap(): Promise<string[]> {
  bootstrap ??= resolveBootstrap();
  return bootstrap;
}

/** A name unique to this call, e.g. `orders-k3j9x0a1`, for topics and groups in tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

async function resolveBootstrap(): Promise<string[]> {
  const fromEnv = process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return fromEnv
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  const script = new URL('../../scripts/kafka.ts', import.meta.url);
  if (existsSync(script)) {
    // Loaded by URL so this helper keeps working while scripts/kafka.ts is absent or changing.
    const mod = (await import(script.href)) as {
      ensureKafka?: () => Promise<{ bootstrap: string } | string | void>;
    };
    if (typeof mod.ensureKafka === 'function') {
      const result = await mod.ensureKafka();
      const address = typeof result === 'string' ? result : (result?.bootstrap ?? LOCAL);
      return address.split(',').map((s) => s.trim());
    }
  }
  await waitForPort(LOCAL, WAIT_MS);
  return [LOCAL];
}

async function waitForPort(address: string, timeoutMs: number): Promise<void> {
  const [host, port] = address.split(':') as [string, string];
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(host, Number(port)))) {
    if (Date.now() > deadline) {
      throw new Error(`No Kafka broker on ${address} after ${timeoutMs} ms`);
    }
    await sleep(500);
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A handler that only records what it is given, for `run(pushInto(batches))`. */
export function pushInto<T>(items: T[]): (item: T) => Promise<void> {
  return (item) => {
    items.push(item);
    return Promise.resolve();
  };
}

/**
 * The batches a fresh consumer group reads from `topic` once `count` records arrived, plus
 * `graceMs` for extras (duplicates a test wants to see). Closes its consumer; also at `t`'s end.
 */
export async function consumeBatches(
  t: { after(fn: () => unknown): void },
  conn: KafkaConnectionOptions,
  topic: string,
  count: number,
  options: { groupId?: string; graceMs?: number; maxBatchSize?: number; timeoutMs?: number } = {},
): Promise<IncomingBatch[]> {
  const consumer = createConsumer(conn, {
    groupId: options.groupId ?? uniqueName('reader'),
    topics: [topic],
    autoOffsetReset: 'earliest',
    ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
  });
  t.after(() => consumer.close());
  const batches: IncomingBatch[] = [];
  const running = consumer.run(pushInto(batches));
  const received = () => batches.reduce((n, b) => n + b.records.length, 0);
  await waitUntil(`${count} records on ${topic}`, () => received() >= count, options.timeoutMs);
  if (options.graceMs !== undefined) await sleep(options.graceMs);
  await consumer.close();
  await running;
  return batches;
}

/** consumeBatches' records, in the order they arrived. */
export async function consumeRecords(
  ...args: Parameters<typeof consumeBatches>
): Promise<IncomingRecord[]> {
  return (await consumeBatches(...args)).flatMap((b) => b.records);
}

let secure: Promise<SecureKafka> | undefined;

/**
 * The secure local broker (SASL_SSL, SCRAM-SHA-512, ACLs) beside the plaintext one, started
 * through scripts/kafka.ts `ensureSecureKafka()` when it is not running (one start shared by all
 * test processes), with each user's KAFKA_* variables. Resolved once per test process.
 */
export function secureTestKafka(): Promise<SecureKafka> {
  secure ??= ensureSecureKafka();
  return secure;
}

/** Sends `counts[p]` small records (key `k<i>`, value `v<i>`) into partition p of `topic`. */
export async function produceToPartitions(
  conn: KafkaConnectionOptions,
  topic: string,
  counts: readonly number[],
): Promise<void> {
  const producer = createProducer(conn);
  try {
    await producer.send(
      counts.flatMap((n, partition) =>
        Array.from({ length: n }, (_, i) => ({
          topic,
          partition,
          key: `k${i}`,
          value: Buffer.from(`v${i}`),
        })),
      ),
    );
  } finally {
    await producer.close();
  }
}
