/**
 * The consuming side: Kafka batch -> contract checks -> one database transaction that records each
 * event in the inbox and applies it -> dead letters -> offsets. Offsets are committed by the Kafka
 * wrapper only after the batch handler returns, so an event is never committed before its effects,
 * and the inbox makes a redelivered event a no-op: effects happen exactly once.
 *
 * Failures come in three kinds, told apart by `retryable` and `isOutageError`:
 * - not retryable (a bad record, a handler refusing it): the record is dead-lettered at once;
 * - retryable and the record's own (a deadlock, a serialization conflict, a handler's transient
 *   error): the record, isolated from its batch, is retried per the retry policy, then
 *   dead-lettered with the attempts made;
 * - an outage (database unreachable, connection lost): not the record's fault, and every record
 *   would fail the same way, so dead-lettering would empty the topic into the DLQ. The consumer
 *   retries the same work with the policy's (capped) backoff for as long as it runs, counts it
 *   (`outage`), and never dead-letters for it.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import {
  decodeEnvelope,
  decodeEvent,
  isContractError,
  isEventType,
  messageKeyOf,
} from '../contract/index.ts';
import type { AnyEvent, Envelope, EventType } from '../contract/index.ts';
import type { Database } from '../platform/database.ts';
import { AppError, isAppError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { noopConsumerMetrics } from './consumer-metrics.ts';
import type { ConsumerMetrics } from './consumer-metrics.ts';
import { deadLetterRecord, summarizeError } from './dead-letter.ts';
import { MessagingErrorCodes, stoppedError, tenantMismatchError, wrongKeyError } from './errors.ts';
import type { EventConsumer, EventProducer, IncomingBatch, IncomingRecord } from './kafka/index.ts';
import { createRetryPolicy, delayFor, shouldRetry } from './retry-policy.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { isOutageError, isRetryableError } from './retryable.ts';
import type {
  BatchEventHandler,
  BatchHandlerContext,
  EventHandler,
  EventRouter,
  HandlerContext,
} from './router.ts';

export interface InboxConsumerOptions<DB> {
  /** Created with `autoOffsetReset` of the caller's choice; the inbox consumer runs and closes it. */
  consumer: EventConsumer;
  router: EventRouter<DB>;
  database: Database<DB>;
  /** Table of the inbox shape (event_id PK, event_type, tenant_id). Default: 'inbox'. */
  inboxTable?: string;
  deadLetters: {
    /** Owned by the caller: not closed by `stop()`. */
    producer: EventProducer;
    /** Appended to the record's topic. Default: '.dlq'. */
    topicSuffix?: string;
  };
  /** The consumer's group, written into dead letters. */
  groupId: string;
  logger: Logger;
  /** Default: no metrics. */
  metrics?: ConsumerMetrics;
  /**
   * Attempts and backoff for a record failing with a retryable error; its delays also pace the
   * endless retries during an outage. Validated here (ERP_MSG_INVALID_RETRY_POLICY). Default:
   * DEFAULT_RETRY_POLICY (5 attempts, 100 ms doubling up to 10 s, ±20 % jitter).
   */
  retryPolicy?: Partial<RetryPolicy>;
  /**
   * Called once if consuming ends on its own (Kafka failure, a dead letter Kafka refuses for good):
   * the process should exit so its supervisor restarts it. Default: only a fatal log line.
   */
  onFatal?: (err: unknown) => void;
}

export interface InboxConsumer {
  /** Joins the group in the background and returns; failures later go to `onFatal`. */
  start(): Promise<void>;
  /** Finishes the batch in hand (a batch waiting to retry is abandoned, uncommitted), leaves the group. */
  stop(): Promise<void>;
}

/** A record that passed the contract checks and has a handler. */
interface Accepted<DB> {
  record: IncomingRecord;
  type: EventType;
  event: AnyEvent;
  /** At least one of the two; the batch handler is preferred within a batch. */
  handler: EventHandler<EventType, DB> | undefined;
  batchHandler: BatchEventHandler<EventType, DB> | undefined;
  /** Failures this record caused (outages excluded): the attempts spent. */
  failures: number;
  lastError?: unknown;
  firstFailureAt?: Date;
  lastFailureAt?: Date;
}

interface Rejected {
  record: IncomingRecord;
  error: unknown;
  eventType?: string;
  attempts: number;
  firstFailureAt: Date;
  lastFailureAt: Date;
}

/** A label for retry metrics and logs: our code, else the driver's (SQLSTATE, errno). */
function codeOf(err: unknown): string {
  if (isAppError(err) || isContractError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : MessagingErrorCodes.UNEXPECTED;
}

/** Inbox rows per INSERT statement. */
const INBOX_ROWS_PER_INSERT = 5_000;

export function createInboxConsumer<DB>(options: InboxConsumerOptions<DB>): InboxConsumer {
  const { consumer, router, database, groupId, logger } = options;
  const inboxTable = options.inboxTable ?? 'inbox';
  const { producer, topicSuffix = '.dlq' } = options.deadLetters;
  const metrics = options.metrics ?? noopConsumerMetrics;
  const policy = createRetryPolicy(options.retryPolicy);
  const stopping = new AbortController();
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let running: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  /** The policy's wait after failure number `attempt`; throws ERP_MSG_STOPPED once `stop()` was called. */
  const backoff = async (attempt: number): Promise<void> => {
    if (stopping.signal.aborted) throw stoppedError();
    try {
      await sleep(delayFor(policy, attempt), undefined, { signal: stopping.signal });
    } catch {
      throw stoppedError();
    }
  };

  /** Waits out failure number `n` of an outage in a row; unbounded, only `stop()` ends it. */
  const waitOutOutage = async (err: unknown, n: number, where: object): Promise<void> => {
    metrics.outage(codeOf(err));
    logger.warn(
      { err, ...where, attempt: n },
      'infrastructure unavailable; retrying the same work (not dead-lettered)',
    );
    await backoff(n);
  };

  const logOf = (item: Accepted<DB>): Logger => {
    const { event_id, event_type, tenant_id, correlation_id } = item.event.metadata;
    return logger.child({ event_id, event_type, tenant_id, correlation_id });
  };

  const reject = (record: IncomingRecord, error: unknown, eventType?: string): Rejected => {
    const now = new Date();
    return { record, error, eventType, attempts: 1, firstFailureAt: now, lastFailureAt: now };
  };

  const classify = (record: IncomingRecord): Accepted<DB> | Rejected | undefined => {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(record.value);
      const header = record.headers['tenant_id'];
      // Never apply an event under a tenant other than the one its producer routed it for.
      if (header !== undefined && header !== envelope.metadata.tenant_id) {
        throw tenantMismatchError(header, envelope.metadata.tenant_id);
      }
    } catch (err) {
      return reject(record, err);
    }
    const type = envelope.metadata.event_type;
    // Not ours to judge: payloads of types we do not apply are not validated either.
    if (!isEventType(type)) {
      metrics.skipped(type, 'unknown_type');
      return undefined;
    }
    const handler = router.handlerFor(type);
    const batchHandler = router.batchHandlerFor(type);
    if (handler === undefined && batchHandler === undefined) {
      metrics.skipped(type, 'no_handler');
      return undefined;
    }
    try {
      const decoded = decodeEvent(envelope);
      if (!decoded.known) return undefined; // isEventType said otherwise; unreachable.
      const expected = messageKeyOf(decoded.event);
      const actual = record.key === null ? null : record.key.toString('utf8');
      if (actual !== expected) throw wrongKeyError(actual, expected);
      return { record, type, event: decoded.event, handler, batchHandler, failures: 0 };
    } catch (err) {
      return reject(record, err, type);
    }
  };

  /**
   * The event ids of `items` not in the inbox yet, now inserted: one statement per chunk. A second
   * occurrence of an id within `items` counts as a duplicate, like one from an earlier batch.
   */
  const insertIntoInbox = async (trx: Kysely<DB>, items: Accepted<DB>[]): Promise<Set<string>> => {
    const seen = new Set<string>();
    const rows: Accepted<DB>[] = [];
    for (const item of items) {
      const id = item.event.metadata.event_id;
      if (seen.has(id)) continue;
      seen.add(id);
      rows.push(item);
    }
    const inserted = new Set<string>();
    // 3 parameters a row, well under PostgreSQL's 65,535 per statement.
    for (let start = 0; start < rows.length; start += INBOX_ROWS_PER_INSERT) {
      const values = rows.slice(start, start + INBOX_ROWS_PER_INSERT).map(({ event }) => {
        const { event_id, event_type, tenant_id } = event.metadata;
        return sql`(${event_id}, ${event_type}, ${tenant_id})`;
      });
      const result = await sql<{ event_id: string }>`
        INSERT INTO ${sql.table(inboxTable)} (event_id, event_type, tenant_id)
        VALUES ${sql.join(values)}
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id`.execute(trx);
      for (const row of result.rows) inserted.add(row.event_id);
    }
    return inserted;
  };

  /**
   * One transaction over `items`; metrics and afterCommit callbacks only once it committed. The
   * inbox rows go in first, in one statement; then each run of consecutive new events of one type
   * goes to that type's batch handler in one call, other events one by one to their handler.
   * `alone` (the per-record fallback) prefers the per-event handler where there is one.
   */
  const applyInTransaction = async (items: Accepted<DB>[], alone = false): Promise<void> => {
    const callbacks: { fn: () => void | Promise<void>; log: Logger }[] = [];
    const outcomes: (() => void)[] = [];
    let current: Accepted<DB> | undefined;
    try {
      await database.db.transaction().execute(async (trx) => {
        const inserted = await insertIntoInbox(trx, items);
        const fresh: Accepted<DB>[] = [];
        for (const item of items) {
          const { event_id, event_type } = item.event.metadata;
          // Delete, so that a second occurrence within the batch is a duplicate too.
          if (inserted.delete(event_id)) {
            fresh.push(item);
            continue;
          }
          outcomes.push(() => {
            metrics.duplicate(event_type);
            logOf(item).debug('duplicate event: already in the inbox, skipped');
          });
        }
        for (let i = 0; i < fresh.length;) {
          const first = fresh[i] as Accepted<DB>;
          const batchHandler =
            alone && first.handler !== undefined ? undefined : first.batchHandler;
          if (batchHandler !== undefined) {
            let j = i + 1;
            while (j < fresh.length && (fresh[j] as Accepted<DB>).type === first.type) j++;
            const run = fresh.slice(i, j);
            i = j;
            // A failing run has no single culprit; the fallback finds it.
            current = run.length === 1 ? first : undefined;
            const log = logger.child({ event_type: first.type, events: run.length });
            const ctx: BatchHandlerContext<DB> = {
              trx,
              log,
              afterCommit: (fn) => callbacks.push({ fn, log }),
            };
            const started = performance.now();
            await batchHandler(
              run.map(({ event, record }) => ({ event, record })),
              ctx,
            );
            const seconds = (performance.now() - started) / 1000 / run.length;
            outcomes.push(() => {
              for (let k = 0; k < run.length; k++) metrics.processed(first.type, seconds);
            });
            continue;
          }
          i++;
          current = first;
          // classify() guarantees a per-event handler where there is no batch handler.
          const handler = first.handler as EventHandler<EventType, DB>;
          const log = logOf(first);
          const ctx: HandlerContext<DB> = {
            trx,
            record: first.record,
            log,
            afterCommit: (fn) => callbacks.push({ fn, log }),
          };
          const started = performance.now();
          await handler(first.event, ctx);
          const seconds = (performance.now() - started) / 1000;
          outcomes.push(() => metrics.processed(first.type, seconds));
        }
        current = undefined;
      });
    } catch (err) {
      // A failed COMMIT has no handler to blame, except when the transaction held one event.
      // An outage is nobody's: it spends no attempts.
      const culprit = current ?? (items.length === 1 ? items[0] : undefined);
      if (culprit !== undefined && !isOutageError(err)) {
        const now = new Date();
        culprit.failures++;
        culprit.lastError = err;
        culprit.firstFailureAt ??= now;
        culprit.lastFailureAt = now;
      }
      throw err;
    }
    for (const outcome of outcomes) outcome();
    for (const { fn, log } of callbacks) {
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'afterCommit callback failed; the event stays applied');
      }
    }
  };

  /** Applies `items` (one transaction, else one each); returns those to dead-letter. */
  const apply = async (items: Accepted<DB>[], batch: IncomingBatch): Promise<Rejected[]> => {
    const where = { topic: batch.topic, partition: batch.partition };
    for (let outages = 1; ; outages++) {
      try {
        await applyInTransaction(items);
        return [];
      } catch (err) {
        if (isOutageError(err)) {
          await waitOutOutage(err, outages, where);
          continue;
        }
        // Whatever the record's failure, isolate it: the others must not share its fate.
        logger.warn({ err, ...where }, 'batch failed; applying its events one by one');
        break;
      }
    }
    const rejected: Rejected[] = [];
    for (const item of items) {
      const outcome = await applyAlone(item, where);
      if (outcome !== undefined) rejected.push(outcome);
    }
    return rejected;
  };

  /** One record in its own transaction, retried per the policy; the dead letter if it gives up. */
  const applyAlone = async (item: Accepted<DB>, where: object): Promise<Rejected | undefined> => {
    let outages = 0;
    // Blamed for the failed batch already: the isolated run is a retry, if the policy allows it.
    // A non-retryable failure gets its isolated run anyway, since it may have been the batch's doing.
    let lastError = item.lastError;
    for (;;) {
      if (lastError !== undefined && isRetryableError(lastError)) {
        if (!shouldRetry(policy, item.failures, lastError)) break;
        metrics.retry(codeOf(lastError));
        logger.warn(
          { err: lastError, ...where, attempt: item.failures },
          'event failed with a transient error; retrying',
        );
        await backoff(item.failures);
      }
      try {
        await applyInTransaction([item], true);
        return undefined;
      } catch (err) {
        if (isOutageError(err)) {
          await waitOutOutage(err, ++outages, where);
          lastError = undefined;
          continue;
        }
        outages = 0;
        lastError = err;
        if (!isRetryableError(err)) break;
      }
    }
    const now = new Date();
    return {
      record: item.record,
      error: lastError,
      eventType: item.type,
      attempts: Math.max(1, item.failures),
      firstFailureAt: item.firstFailureAt ?? now,
      lastFailureAt: item.lastFailureAt ?? now,
    };
  };

  const sendDeadLetters = async (rejected: Rejected[]): Promise<void> => {
    if (rejected.length === 0) return;
    const records = rejected.map((r) =>
      deadLetterRecord(r.record, r.error, {
        groupId,
        topicSuffix,
        attempts: r.attempts,
        firstFailureAt: r.firstFailureAt,
        lastFailureAt: r.lastFailureAt,
      }),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send(records);
        break;
      } catch (err) {
        // Not retryable (auth, a closed producer) never heals by waiting: fail the consumer
        // without committing, rather than spin or drop the record. Kafka being unreachable is
        // an outage like the database's: waited out for as long as the consumer runs.
        if (!isRetryableError(err)) throw err;
        metrics.outage(codeOf(err));
        logger.warn({ err, attempt }, 'sending dead letters failed; retrying');
        await backoff(attempt);
      }
    }
    for (const r of rejected) {
      const error = summarizeError(r.error);
      metrics.deadLettered(error.code, r.eventType);
      logger.error(
        {
          code: error.code,
          error: error.message,
          topic: r.record.topic,
          partition: r.record.partition,
          offset: String(r.record.offset),
          event_type: r.eventType,
          attempts: r.attempts,
        },
        `record dead-lettered to ${r.record.topic}${topicSuffix}`,
      );
    }
  };

  const handleBatch = async (batch: IncomingBatch): Promise<void> => {
    const started = performance.now();
    const accepted: Accepted<DB>[] = [];
    const rejected: Rejected[] = [];
    for (const record of batch.records) {
      const outcome = classify(record);
      if (outcome === undefined) continue;
      if ('event' in outcome) accepted.push(outcome);
      else rejected.push(outcome);
    }
    if (accepted.length > 0) rejected.push(...(await apply(accepted, batch)));
    rejected.sort((a, b) => (a.record.offset < b.record.offset ? -1 : 1));
    await sendDeadLetters(rejected);
    metrics.batch(batch.records.length, (performance.now() - started) / 1000);
  };

  return {
    start() {
      if (state !== 'idle') {
        return Promise.reject(
          new AppError(MessagingErrorCodes.STATE, 'the inbox consumer can be started only once'),
        );
      }
      state = 'running';
      running = consumer.run(handleBatch);
      running.then(
        () => logger.info({ groupId }, 'inbox consumer stopped'),
        (err: unknown) => {
          if (
            stopping.signal.aborted &&
            isAppError(err) &&
            err.code === MessagingErrorCodes.STOPPED
          ) {
            logger.info(
              { groupId },
              'inbox consumer stopped; the batch waiting to retry will be redelivered',
            );
            return;
          }
          logger.fatal({ err, groupId }, 'inbox consumer failed');
          options.onFatal?.(err);
        },
      );
      return Promise.resolve();
    },

    stop() {
      stopped ??= (async () => {
        state = 'stopped';
        stopping.abort();
        await consumer.close();
        // Its failure, if any, was reported to onFatal.
        await running?.catch(() => undefined);
      })();
      return stopped;
    },
  };
}
