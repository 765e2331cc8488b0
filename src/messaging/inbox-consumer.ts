/**
 * The consuming side: Kafka batch -> contract checks -> one database transaction that records each
 * event in the inbox and applies it -> dead letters -> offsets. Offsets are committed by the Kafka
 * wrapper only after the batch handler returns, so an event is never committed before its effects,
 * and the inbox makes a redelivered event a no-op: effects happen exactly once.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import {
  decodeEnvelope,
  decodeEvent,
  isContractError,
  isEventType,
  messageKeyOf,
} from '../contract/index.ts';
import type { AnyEvent, Envelope, EventType } from '../contract/index.ts';
import { isRetryableDatabaseError } from '../platform/database.ts';
import type { Database } from '../platform/database.ts';
import { AppError, isAppError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { noopConsumerMetrics } from './consumer-metrics.ts';
import type { ConsumerMetrics } from './consumer-metrics.ts';
import { deadLetterRecord, summarizeError } from './dead-letter.ts';
import { MessagingErrorCodes, stoppedError, tenantMismatchError, wrongKeyError } from './errors.ts';
import type { EventConsumer, EventProducer, IncomingBatch, IncomingRecord } from './kafka/index.ts';
import type { EventHandler, EventRouter, HandlerContext } from './router.ts';

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
  /** Waits between attempts after a transient failure double from `initialMs` up to `maxMs`. Default: 100 and 10000. */
  retry?: { initialMs?: number; maxMs?: number };
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
  handler: EventHandler<EventType, DB>;
  failures: number;
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

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// pg reports a lost or unobtainable connection with these messages and no code.
const CONNECTION_MESSAGES =
  /^Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable/;

function isConnectionError(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERRNOS.has(code)) return true;
  if (CONNECTION_MESSAGES.test(err.message)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isConnectionError(e, depth + 1))) {
    return true;
  }
  return isConnectionError(err.cause, depth + 1);
}

/** Whether the same batch may succeed later: our own verdict, a transient SQLSTATE, a lost connection. */
export function isRetryableError(err: unknown): boolean {
  if (isAppError(err) || isContractError(err)) return err.retryable;
  return isRetryableDatabaseError(err) || isConnectionError(err);
}

/** A label for retry metrics and logs: our code, else the driver's (SQLSTATE, errno). */
function codeOf(err: unknown): string {
  if (isAppError(err) || isContractError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : MessagingErrorCodes.UNEXPECTED;
}

export function createInboxConsumer<DB>(options: InboxConsumerOptions<DB>): InboxConsumer {
  const { consumer, router, database, groupId, logger } = options;
  const inboxTable = options.inboxTable ?? 'inbox';
  const { producer, topicSuffix = '.dlq' } = options.deadLetters;
  const metrics = options.metrics ?? noopConsumerMetrics;
  const initialMs = options.retry?.initialMs ?? 100;
  const maxMs = options.retry?.maxMs ?? 10_000;
  const stopping = new AbortController();
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let running: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  /** Backoff before attempt `attempt + 1`; throws ERP_MSG_STOPPED once `stop()` was called. */
  const backoff = async (attempt: number): Promise<void> => {
    if (stopping.signal.aborted) throw stoppedError();
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
    try {
      await sleep(delay, undefined, { signal: stopping.signal });
    } catch {
      throw stoppedError();
    }
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
    if (handler === undefined) {
      metrics.skipped(type, 'no_handler');
      return undefined;
    }
    try {
      const decoded = decodeEvent(envelope);
      if (!decoded.known) return undefined; // isEventType said otherwise; unreachable.
      const expected = messageKeyOf(decoded.event);
      const actual = record.key === null ? null : record.key.toString('utf8');
      if (actual !== expected) throw wrongKeyError(actual, expected);
      return { record, type, event: decoded.event, handler, failures: 0 };
    } catch (err) {
      return reject(record, err, type);
    }
  };

  /** One transaction over `items`; metrics and afterCommit callbacks only once it committed. */
  const applyInTransaction = async (items: Accepted<DB>[]): Promise<void> => {
    const callbacks: { fn: () => void | Promise<void>; log: Logger }[] = [];
    const outcomes: (() => void)[] = [];
    let current: Accepted<DB> | undefined;
    try {
      await database.db.transaction().execute(async (trx) => {
        for (const item of items) {
          current = item;
          const { event_id, event_type, tenant_id, correlation_id } = item.event.metadata;
          const inserted = await sql<{ event_id: string }>`
            INSERT INTO ${sql.table(inboxTable)} (event_id, event_type, tenant_id)
            VALUES (${event_id}, ${event_type}, ${tenant_id})
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id`.execute(trx);
          const log = logger.child({ event_id, event_type, tenant_id, correlation_id });
          if (inserted.rows.length === 0) {
            outcomes.push(() => {
              metrics.duplicate(event_type);
              log.debug('duplicate event: already in the inbox, skipped');
            });
            continue;
          }
          const ctx: HandlerContext<DB> = {
            trx,
            record: item.record,
            log,
            afterCommit: (fn) => callbacks.push({ fn, log }),
          };
          const started = performance.now();
          await item.handler(item.event, ctx);
          const seconds = (performance.now() - started) / 1000;
          outcomes.push(() => metrics.processed(event_type, seconds));
        }
        current = undefined;
      });
    } catch (err) {
      // A failed COMMIT has no handler to blame, except when the transaction held one event.
      const culprit = current ?? (items.length === 1 ? items[0] : undefined);
      if (culprit !== undefined) {
        const now = new Date();
        culprit.failures++;
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
    for (let attempt = 1; ; attempt++) {
      try {
        await applyInTransaction(items);
        return [];
      } catch (err) {
        if (!isRetryableError(err)) {
          logger.warn({ err, ...where }, 'batch failed; applying its events one by one');
          break;
        }
        metrics.retry(codeOf(err));
        logger.warn({ err, ...where, attempt }, 'batch failed with a transient error; retrying');
        await backoff(attempt);
      }
    }
    const rejected: Rejected[] = [];
    for (const item of items) {
      for (let attempt = 1; ; attempt++) {
        try {
          await applyInTransaction([item]);
          break;
        } catch (err) {
          if (isRetryableError(err)) {
            metrics.retry(codeOf(err));
            logger.warn(
              { err, ...where, attempt },
              'event failed with a transient error; retrying',
            );
            await backoff(attempt);
            continue;
          }
          const now = new Date();
          rejected.push({
            record: item.record,
            error: err,
            eventType: item.type,
            attempts: Math.max(1, item.failures),
            firstFailureAt: item.firstFailureAt ?? now,
            lastFailureAt: item.lastFailureAt ?? now,
          });
          break;
        }
      }
    }
    return rejected;
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
        // without committing, rather than spin or drop the record.
        if (!isRetryableError(err)) throw err;
        metrics.retry(codeOf(err));
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
      if ('handler' in outcome) accepted.push(outcome);
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
