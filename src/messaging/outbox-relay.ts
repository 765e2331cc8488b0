/**
 * Publishes the rows of an outbox-shaped table to Kafka, in position order, and marks them
 * published once Kafka acknowledged them. At-least-once: a crash between the acknowledgement and
 * the UPDATE sends a batch again; consumers deduplicate by event_id.
 *
 * Why scanning `published_at IS NULL ORDER BY position` keeps per-key order and skips nothing:
 * sequence values are handed out before commit, so positions can become visible out of order
 * (a reader tracking "position > last seen" could skip a late committer forever). We never track
 * a high-water mark: every scan starts from the oldest unpublished row, so a row that commits late
 * is simply published by a later scan. Order per key still holds because the rows of one key (one
 * product stream, one aggregate) are written by transactions that serialize on that stream's
 * version (a row lock or the unique (stream_id, stream_version) constraint): the row with the
 * smaller position commits before the next one of the same key is even inserted, so no scan can
 * see a later row of a key without the earlier one. Rows of different keys may overtake each
 * other, which Kafka's per-key (per-partition) ordering allows.
 *
 * Single publisher per table: several relays sharing the table with SKIP LOCKED would each take a
 * batch and race to Kafka, so two events of one key could be published in either order. One
 * relay leads, by a session advisory lock on a dedicated connection; the others wait and retry.
 */
import { sql } from 'kysely';
import type { Logger } from '../platform/logger.ts';
import type { AdvisoryLock, Database } from '../platform/database.ts';
import { AppError } from '../platform/errors.ts';
import type { EventProducer, OutgoingRecord } from './kafka/producer.ts';
import { noopRelayMetrics, type RelayMetrics } from './relay-metrics.ts';

// The relay's metrics travel with it, so that a service wires both from one module.
export { createPrometheusRelayMetrics, noopRelayMetrics } from './relay-metrics.ts';
export type { RelayMetrics } from './relay-metrics.ts';

export interface OutboxRelayOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an outbox-shaped table
  database: Database<any>;
  /** Outbox-shaped table, optionally schema-qualified (`sales.outbox`). Required. */
  table: string;
  /** NOTIFY channel the writers signal on after commit (see outbox-signal.ts). Required. */
  channel: string;
  /** Owned by the caller: the relay never closes it. Required. */
  producer: EventProducer;
  logger: Logger;
  /** Rows read, sent in one `send()` and marked in one UPDATE. Default: 500. */
  batchSize?: number;
  /** Poll period when no notification arrives; also how often a non-leader retries leadership. Default: 1000. */
  pollIntervalMs?: number;
  /** Retry delays after a failure, doubled per attempt with jitter. Default: 100 → 30000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Default: no metrics. See createPrometheusRelayMetrics. */
  metrics?: RelayMetrics;
  /** Longest `stop()` waits for the current cycle and the final drain. Default: 10000. */
  stopTimeoutMs?: number;
  /**
   * A send not acknowledged within this time is reported as a failure (log, metric). The send is
   * still awaited rather than repeated: an idempotent producer retries on its own while Kafka is
   * unreachable, and piling up copies would only add duplicates. Default: 30000.
   */
  sendTimeoutMs?: number;
}

export interface OutboxRelay {
  /** Checks the table, starts listening and the publishing loop; the loop runs until `stop()`. */
  start(): Promise<void>;
  /** Publishes everything committed so far (bounded by `stopTimeoutMs`), then stops. */
  stop(): Promise<void>;
  /** A hint that rows were committed. */
  wake(): void;
  /** Whether this relay holds the table's leadership (publishes) right now. */
  leads(): boolean;
}

interface PendingRow {
  position: number;
  topic: string;
  message_key: string;
  /** The envelope's JSON text as written (the column is `json`, which keeps text and key order). */
  envelope: string;
  headers: Record<string, string> | null;
}

type Health = 'ok' | 'kafka' | 'database';

const BACKLOG_INTERVAL_MS = 1000;

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { database, table, channel, producer } = options;
  const db = database.db;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const initialBackoffMs = options.backoff?.initialMs ?? 100;
  const maxBackoffMs = options.backoff?.maxMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const metrics = options.metrics ?? noopRelayMetrics;
  const log = options.logger.child({ table });
  const tableRef = sql.table(table);

  let lockKey: string | undefined;
  let lock: AdvisoryLock | null = null;
  let started = false;
  let stopping = false;
  // Set when stop() gave up waiting: the loop leaves at its next step.
  let halted = false;
  let woken = false;
  let interrupt: (() => void) | null = null;
  let interruptOnWake = false;
  let loopDone: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let backlogTimer: NodeJS.Timeout | undefined;
  let backlogBusy = false;
  // Positions Kafka acknowledged but the UPDATE did not record: marked before anything is re-sent.
  let unmarked: number[] | null = null;
  let health: Health = 'ok';
  let failingSince = 0;
  let attempts = 0;
  let waitingForLeader = false;

  const pause = (ms: number, onWake: boolean): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (interrupt === done) interrupt = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      interrupt = done;
      interruptOnWake = onWake;
    });

  const backoffMs = (): number => {
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  };

  const failed = (kind: Health, err: unknown): void => {
    attempts++;
    metrics.failed(err);
    if (health === kind) return;
    if (health === 'ok') failingSince = Date.now();
    health = kind;
    log.warn(
      { err, pendingPositions: unmarked?.length },
      kind === 'kafka'
        ? 'Kafka is not acknowledging outbox batches; retrying with backoff'
        : 'outbox table unreachable; retrying with backoff',
    );
  };

  const succeeded = (): void => {
    if (health !== 'ok') {
      log.info({ attempts, downForMs: Date.now() - failingSince }, 'outbox publishing recovered');
    }
    health = 'ok';
    attempts = 0;
  };

  const holdsLock = (): boolean => lock !== null && lock.held;

  /** The oldest unpublished rows, except those `inFlight` (sent or being sent, not yet marked). */
  const fetchBatch = async (inFlight: number[]): Promise<PendingRow[]> => {
    const result = await sql<PendingRow>`
      SELECT position, topic, message_key, envelope::text AS envelope, headers
      FROM ${tableRef}
      WHERE published_at IS NULL AND position <> ALL(${inFlight}::bigint[])
      ORDER BY position
      LIMIT ${batchSize}
    `.execute(db);
    return result.rows;
  };

  const mark = async (positions: number[]): Promise<void> => {
    await sql`
      UPDATE ${tableRef} SET published_at = now()
      WHERE position = ANY(${positions}::bigint[]) AND published_at IS NULL
    `.execute(db);
  };

  const send = async (records: OutgoingRecord[]): Promise<void> => {
    const sending = producer.send(records);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), sendTimeoutMs);
    });
    try {
      if ((await Promise.race([sending, slow])) === 'slow') {
        failed(
          'kafka',
          new AppError('ERP_KAFKA_TIMEOUT', `no acknowledgement within ${sendTimeoutMs} ms`, {
            retryable: true,
            context: { records: records.length },
          }),
        );
        await sending;
      }
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * Publishes batches until a short one shows the table drained (as far as this scan sees).
   * The next batch is read while the current one is being sent. It excludes exactly the rows in
   * flight, never "everything up to the last position": a row that commits late with a smaller
   * position must still come before later rows of its key.
   */
  const cycle = async (): Promise<void> => {
    let phase: Health = 'database';
    let next: Promise<PendingRow[]> | null = null;
    try {
      if (unmarked !== null) {
        await mark(unmarked);
        unmarked = null;
      }
      next = fetchBatch([]);
      for (;;) {
        const rows: PendingRow[] = await next;
        next = null;
        if (rows.length === 0 || halted || !holdsLock()) return;
        const startedAt = performance.now();
        const positions = rows.map((row) => row.position);
        phase = 'kafka';
        const sending = send(rows.map(toRecord));
        if (rows.length === batchSize) next = fetchBatch(positions);
        await sending;
        unmarked = positions;
        phase = 'database';
        await mark(positions);
        unmarked = null;
        metrics.published(rows.length, (performance.now() - startedAt) / 1000);
        if (next === null) return;
      }
    } catch (err) {
      // A read-ahead that is no longer wanted must not surface as an unhandled rejection.
      next?.catch(() => {});
      failed(phase, err);
      throw err;
    }
  };

  const acquire = async (): Promise<AdvisoryLock | null> => {
    lockKey ??= await resolveLockKey();
    return database.tryLock(lockKey);
  };

  const resolveLockKey = async (): Promise<string> => {
    // The table's oid, not its name: test schemas (and tenants' schemas) reuse table names, and
    // advisory locks are per database.
    const result = await sql<{ oid: string | null }>`
      SELECT to_regclass(${table})::oid::text AS oid
    `.execute(db);
    const oid = result.rows[0]?.oid;
    if (oid === null || oid === undefined) {
      throw new AppError('ERP_OUTBOX_UNKNOWN_TABLE', `outbox table "${table}" does not exist`, {
        context: { table },
      });
    }
    return `erp-outbox-relay:${oid}`;
  };

  const reportBacklog = async (): Promise<void> => {
    if (backlogBusy || halted || !holdsLock()) return;
    backlogBusy = true;
    try {
      const result = await sql<{ pending: number; age: number | null }>`
        SELECT count(*) AS pending,
               EXTRACT(EPOCH FROM now() - min(occurred_at)) AS age
        FROM ${tableRef}
        WHERE published_at IS NULL
      `.execute(db);
      const row = result.rows[0];
      metrics.backlog(Number(row?.pending ?? 0), Math.max(0, Number(row?.age ?? 0)));
    } catch (err) {
      // The publishing loop reports database trouble; this is only a sample.
      log.debug({ err }, 'outbox backlog query failed');
    } finally {
      backlogBusy = false;
    }
  };

  const loop = async (): Promise<void> => {
    for (;;) {
      if (halted) return;
      if (!holdsLock()) {
        if (lock !== null) {
          log.warn('outbox relay lost leadership (its lock connection ended)');
          lock = null;
        }
        if (stopping) return;
        try {
          lock = await acquire();
        } catch (err) {
          failed('database', err);
          await pause(backoffMs(), false);
          continue;
        }
        if (lock === null) {
          if (!waitingForLeader) log.info('another outbox relay leads this table; standing by');
          waitingForLeader = true;
          await pause(pollIntervalMs, false);
          continue;
        }
        waitingForLeader = false;
        log.info('outbox relay leads this table');
      }
      woken = false;
      try {
        await cycle();
      } catch {
        if (halted) return;
        await pause(backoffMs(), false);
        continue;
      }
      succeeded();
      // A wake-up (or stop) during the cycle means rows may have committed after its last read.
      if (stopping && !woken) return;
      if (!woken) await pause(pollIntervalMs, true);
    }
  };

  const wake = (): void => {
    if (stopping) return;
    woken = true;
    if (interrupt !== null && interruptOnWake) interrupt();
  };

  return {
    wake,
    leads: holdsLock,

    async start() {
      if (started) return;
      started = true;
      lockKey = await resolveLockKey();
      try {
        unlisten = await database.listen(channel, () => wake());
      } catch (err) {
        log.warn({ err, channel }, 'cannot LISTEN; relying on polling');
      }
      backlogTimer = setInterval(() => void reportBacklog(), BACKLOG_INTERVAL_MS);
      backlogTimer.unref();
      loopDone = loop().catch((err: unknown) => {
        log.error({ err }, 'outbox relay loop ended unexpectedly');
      });
    },

    stop() {
      stopped ??= (async () => {
        if (!started) return;
        stopping = true;
        woken = true;
        clearInterval(backlogTimer);
        interrupt?.();
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          loopDone.then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), stopTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (!finished) {
          halted = true;
          interrupt?.();
          log.warn(
            { stopTimeoutMs },
            'outbox relay stopped before draining; rows stay unpublished',
          );
        }
        await unlisten?.().catch(() => {});
        await lock?.release();
        lock = null;
      })();
      return stopped;
    },
  };
}

function toRecord(row: PendingRow): OutgoingRecord {
  const record: OutgoingRecord = {
    topic: row.topic,
    key: row.message_key,
    value: Buffer.from(row.envelope, 'utf8'),
  };
  if (row.headers !== null) record.headers = row.headers;
  return record;
}
