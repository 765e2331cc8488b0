/**
 * The consuming side: Kafka batch -> contract checks (classify.ts) -> one database transaction
 * that records each event in the inbox and applies it (transaction.ts), retried or isolated on
 * failure (retries.ts) -> dead letters (dead-letters.ts) -> offsets. Offsets are committed by the
 * Kafka wrapper only after the batch handler returns, so an event is never committed before its
 * effects, and the inbox makes a redelivered event a no-op: effects happen exactly once.
 */
import { performance } from 'node:perf_hooks';
import {
  AppError,
  createRetryPolicy,
  isAppError,
  runIn,
  tracingOn,
  type Database,
  type Logger,
  type RetryPolicy,
} from '../../platform/index.ts';
import { MessagingErrorCodes } from '../errors.ts';
import type { EventConsumer, EventProducer, IncomingBatch } from '../kafka/index.ts';
import type { EventRouter } from '../router.ts';
import { startBatchTrace } from '../tracing.ts';
import { classify } from './classify.ts';
import type { Accepted, Rejected } from './classify.ts';
import { sendDeadLetters } from './dead-letters.ts';
import { noopConsumerMetrics } from './metrics.ts';
import type { ConsumerMetrics } from './metrics.ts';
import { applyRecords } from './retries.ts';
import type { RetryContext } from './retries.ts';
import type { InboxOrdering } from './transaction.ts';

export interface InboxConsumerOptions<DB> {
  /** Created with `autoOffsetReset` of the caller's choice; the inbox consumer runs and closes it. */
  consumer: EventConsumer;
  router: EventRouter<DB>;
  database: Database<DB>;
  /** Table of the inbox shape (table.ts). Default: 'inbox'. */
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
   * endless retries during an outage. Validated here (ERP_INVALID_OPTIONS). Default:
   * DEFAULT_RETRY_POLICY (5 attempts, 100 ms doubling up to 10 s, ±20 % jitter).
   */
  retryPolicy?: Partial<RetryPolicy>;
  /**
   * The order a batch's records are applied in: 'key' (default) keeps each Kafka key's order and
   * lets a handler call take one type's records across keys; 'partition' keeps the partition's
   * whole order (one handler call per run of consecutive records of one type), for handlers that
   * depend on the order of different keys. See transaction.ts.
   */
  ordering?: InboxOrdering;
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

export function createInboxConsumer<DB>(options: InboxConsumerOptions<DB>): InboxConsumer {
  const { consumer, router, groupId, logger } = options;
  const metrics = options.metrics ?? noopConsumerMetrics;
  const stopping = new AbortController();
  const ctx: RetryContext<DB> = {
    database: options.database,
    inboxTable: options.inboxTable ?? 'inbox',
    ordering: options.ordering ?? 'key',
    beforeRuns: router.beforeRunsHook,
    logger,
    metrics,
    policy: createRetryPolicy(options.retryPolicy),
    stopping: stopping.signal,
  };
  const deadLetters = {
    producer: options.deadLetters.producer,
    topicSuffix: options.deadLetters.topicSuffix ?? '.dlq',
    groupId,
  };
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let running: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  const handleBatch = async (batch: IncomingBatch): Promise<void> => {
    if (!tracingOn()) return processBatch(batch);
    const trace = startBatchTrace(batch, groupId);
    const failed: Rejected[] = [];
    try {
      await runIn(trace.context, () => processBatch(batch, failed));
    } finally {
      trace.end(failed);
    }
  };

  /** `rejected` receives the records dead-lettered (for their spans). */
  const processBatch = async (batch: IncomingBatch, rejected: Rejected[] = []): Promise<void> => {
    const started = performance.now();
    const accepted: Accepted<DB>[] = [];
    for (const record of batch.records) {
      const outcome = classify(record, router);
      if (outcome.kind === 'accepted') accepted.push(outcome);
      else if (outcome.kind === 'rejected') rejected.push(outcome);
      else metrics.skipped(outcome.eventType, outcome.reason);
    }
    if (accepted.length > 0) {
      const where = { topic: batch.topic, partition: batch.partition };
      rejected.push(...(await applyRecords(ctx, accepted, where)));
    }
    await sendDeadLetters(ctx, deadLetters, rejected);
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
