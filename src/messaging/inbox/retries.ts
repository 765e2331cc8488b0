/**
 * Applying accepted records when things fail. Failures come in three kinds, told apart by
 * `retryable` and `outage` (the database boundary codes driver errors, so nothing here reads a
 * SQLSTATE):
 * - not retryable (a bad record, a handler refusing it): the record is dead-lettered at once;
 * - retryable and the record's own (a deadlock, a serialization conflict, a handler's transient
 *   error): the record, isolated from its batch, is retried per the retry policy, then
 *   dead-lettered with the attempts made;
 * - an outage (database unreachable, connection lost): not the record's fault, and every record
 *   would fail the same way, so dead-lettering would empty the topic into the DLQ. The same work
 *   is retried with the policy's (capped) backoff for as long as the consumer runs, counted
 *   (`outage`), and never dead-lettered.
 */
import { backoff, isOutage, isRetryable, shouldRetry } from '../../platform/index.ts';
import type { RetryPolicy } from '../../platform/index.ts';
import { summarizeError } from '../dead-letter.ts';
import { stoppedError } from '../errors.ts';
import type { Accepted, Rejected } from './classify.ts';
import { applyInTransaction } from './transaction.ts';
import type { TransactionContext } from './transaction.ts';

export interface RetryContext<DB> extends TransactionContext<DB> {
  policy: RetryPolicy;
  /** Aborted by `stop()`: a wait in progress ends with ERP_MSG_STOPPED (nothing is committed). */
  stopping: AbortSignal;
}

/** The policy's wait after failure number `attempt`; throws ERP_MSG_STOPPED once stopping. */
export async function wait<DB>(ctx: RetryContext<DB>, attempt: number): Promise<void> {
  if (!(await backoff(ctx.policy, attempt, ctx.stopping))) throw stoppedError();
}

/** Waits out failure number `n` of an outage in a row; unbounded, only stopping ends it. */
export async function waitOutOutage<DB>(
  ctx: RetryContext<DB>,
  err: unknown,
  n: number,
  where: object,
): Promise<void> {
  ctx.metrics.outage(summarizeError(err).code);
  ctx.logger.warn(
    { err, ...where, attempt: n },
    'infrastructure unavailable; retrying the same work (not dead-lettered)',
  );
  await wait(ctx, n);
}

/**
 * Applies `items` in one transaction; if it fails for a record's reason, one transaction per
 * record instead, so the others do not share its fate. Returns the records to dead-letter.
 */
export async function applyRecords<DB>(
  ctx: RetryContext<DB>,
  items: Accepted<DB>[],
  where: object,
): Promise<Rejected[]> {
  for (let outages = 1; ; outages++) {
    try {
      await applyInTransaction(ctx, items);
      return [];
    } catch (err) {
      if (isOutage(err)) {
        await waitOutOutage(ctx, err, outages, where);
        continue;
      }
      ctx.logger.warn({ err, ...where }, 'batch failed; applying its events one by one');
      break;
    }
  }
  const rejected: Rejected[] = [];
  for (const item of items) {
    const outcome = await applyAlone(ctx, item, where);
    if (outcome !== undefined) rejected.push(outcome);
  }
  return rejected;
}

/** One record in its own transaction, retried per the policy; the dead letter if it gives up. */
async function applyAlone<DB>(
  ctx: RetryContext<DB>,
  item: Accepted<DB>,
  where: object,
): Promise<Rejected | undefined> {
  let outages = 0;
  // Blamed for the failed batch already: the isolated run is a retry, if the policy allows it.
  // A non-retryable failure gets its isolated run anyway, since it may have been the batch's doing.
  let lastError = item.lastError;
  for (;;) {
    if (lastError !== undefined && isRetryable(lastError)) {
      if (!shouldRetry(ctx.policy, item.failures, lastError)) break;
      ctx.metrics.retry(summarizeError(lastError).code);
      ctx.logger.warn(
        { err: lastError, ...where, attempt: item.failures },
        'event failed with a transient error; retrying',
      );
      await wait(ctx, item.failures);
    }
    try {
      await applyInTransaction(ctx, [item]);
      return undefined;
    } catch (err) {
      if (isOutage(err)) {
        await waitOutOutage(ctx, err, ++outages, where);
        lastError = undefined;
        continue;
      }
      outages = 0;
      lastError = err;
      if (!isRetryable(err)) break;
    }
  }
  const now = new Date();
  return {
    kind: 'rejected',
    record: item.record,
    error: lastError,
    eventType: item.type,
    attempts: Math.max(1, item.failures),
    firstFailureAt: item.firstFailureAt ?? now,
    lastFailureAt: item.lastFailureAt ?? now,
  };
}
