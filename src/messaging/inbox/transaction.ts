/**
 * One transaction over accepted records: the inbox rows first, in one statement (the events it
 * already holds are duplicates: no effect), then the router's beforeRuns hook with every new event,
 * then the new events in runs of one type (order kept per Kafka key: classify.ts runsOfOneType),
 * each run in one call of that type's handler. Metrics and afterCommit callbacks only once it
 * committed.
 * On failure, the record to blame (if one can be) is charged an attempt.
 */
import { performance } from 'node:perf_hooks';
import type { Context, Database, Link, Logger } from '../../platform/index.ts';
import { activeContext, isOutage, linkTo, tracingOn, withSpan } from '../../platform/index.ts';
import { recordContextOf } from '../tracing.ts';
import type { Accepted } from './classify.ts';
import { runsOfOneType } from './classify.ts';
import type { BeforeRuns } from '../router.ts';
import type { ConsumerMetrics } from './metrics.ts';
import { insertIntoInbox } from './table.ts';

export interface TransactionContext<DB> {
  database: Database<DB>;
  inboxTable: string;
  /**
   * 'key' (the default): a handler call takes the records of one type across keys, each key in
   * order; 'partition': only consecutive records of one type, the partition's order kept whole.
   */
  ordering: InboxOrdering;
  logger: Logger;
  metrics: ConsumerMetrics;
  /** The router's hook, run before the first handler (router.ts BeforeRuns). Default: none. */
  beforeRuns?: BeforeRuns<DB> | undefined;
}

/** A logger carrying one event's ids. */
export function logOf<DB>(logger: Logger, item: Accepted<DB>): Logger {
  const { event_id, event_type, tenant_id, correlation_id } = item.event.metadata;
  return logger.child({ event_id, event_type, tenant_id, correlation_id });
}

export type InboxOrdering = 'key' | 'partition';

export async function applyInTransaction<DB>(
  ctx: TransactionContext<DB>,
  items: Accepted<DB>[],
): Promise<void> {
  const { database, logger, metrics } = ctx;
  const callbacks: { fn: () => void | Promise<void>; log: Logger }[] = [];
  const outcomes: (() => void)[] = [];
  let current: Accepted<DB> | undefined;
  // Spans (with tracing on): the transaction is a child of its record's span when it holds one
  // record (the usual case at low rates, and the one-by-one retry), else of the batch's.
  const single = items.length === 1 ? recordContextOf(items[0]!.record) : undefined;
  const txAttributes = {
    'db.operation.name': 'inbox transaction',
    'messaging.batch.message_count': items.length,
  };
  try {
    await withSpan(
      'inbox transaction',
      txAttributes,
      () =>
        database.db.transaction().execute(async (trx) => {
          const inserted = await insertIntoInbox(
            trx,
            ctx.inboxTable,
            items.map((i) => i.event),
          );
          const fresh: Accepted<DB>[] = [];
          for (const item of items) {
            // Delete, so that a second occurrence within the batch is a duplicate too.
            if (inserted.delete(item.event.metadata.event_id)) {
              fresh.push(item);
              continue;
            }
            outcomes.push(() => {
              metrics.duplicate(item.type);
              logOf(logger, item).debug('duplicate event: already in the inbox, skipped');
            });
          }
          const runs = runsOfOneType(fresh, ctx.ordering === 'key' ? keyOf : undefined);
          if (ctx.beforeRuns !== undefined && fresh.length > 0) {
            await ctx.beforeRuns(
              runs.flat().map(({ event, record }) => ({ event, record })),
              { trx, log: logger, afterCommit: (fn) => callbacks.push({ fn, log: logger }) },
            );
          }
          for (const run of runs) {
            const first = run[0] as Accepted<DB>;
            // A failing run has no single culprit; the one-by-one fallback finds it.
            current = run.length === 1 ? first : undefined;
            const log =
              run.length === 1
                ? logOf(logger, first)
                : logger.child({ event_type: first.type, events: run.length });
            const started = performance.now();
            await withSpan(
              `handle ${first.type}`,
              { 'messaging.batch.message_count': run.length },
              () =>
                first.handler(
                  run.map(({ event, record }) => ({ event, record })),
                  { trx, log, afterCommit: (fn) => callbacks.push({ fn, log }) },
                ),
              handlerParent(run, single !== undefined),
            );
            const seconds = (performance.now() - started) / 1000 / run.length;
            outcomes.push(() => {
              const now = Date.now();
              for (const { record } of run) {
                metrics.processed(first.type, seconds, ageSeconds(record.timestamp, now));
              }
            });
          }
          current = undefined;
        }),
      single === undefined ? {} : { parent: single },
    );
  } catch (err) {
    // A failed COMMIT has no handler to blame, except when the transaction held one event.
    // An outage is nobody's: it spends no attempts.
    const culprit = current ?? (items.length === 1 ? items[0] : undefined);
    if (culprit !== undefined && !isOutage(err)) {
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
}

/**
 * A run's handler span: under the transaction's span when the transaction is the run's one record,
 * else under the run's first record's span, linked to the others'.
 */
function handlerParent<DB>(
  run: Accepted<DB>[],
  inRecordTransaction: boolean,
): { parent?: Context; links?: Link[] } {
  if (inRecordTransaction || !tracingOn()) return {};
  const contexts = run.map((item) => recordContextOf(item.record) ?? activeContext());
  return {
    parent: contexts[0]!,
    links: contexts
      .slice(1)
      .map(linkTo)
      .filter((l): l is Link => l !== undefined),
  };
}

/** The record's Kafka key: the unit of order (latin1: any bytes, one char each, cheap). */
function keyOf<DB>(item: Accepted<DB>): string | undefined {
  return item.record.key?.toString('latin1');
}

/**
 * Seconds from a record's timestamp to `now`; undefined for a record without one (Kafka's -1).
 * Never negative: the producer's clock may run ahead of ours.
 */
export function ageSeconds(timestamp: number, now: number): number | undefined {
  if (!Number.isFinite(timestamp) || timestamp <= 0) return undefined;
  return Math.max(0, now - timestamp) / 1000;
}
