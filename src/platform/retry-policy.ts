/**
 * How a loop waits before trying again: a validated, frozen value, so a bad setting fails at start
 * naming the field instead of misbehaving under load. Every loop that waits after a failure (the
 * consumer's record retries and rejoin, the outbox relay, the LISTEN connection, start-up, the
 * notification dispatcher, Inventory's conflicting commands) takes one, with its own defaults.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isRetryable } from './errors.ts';
import { parseOptions } from './options.ts';

export interface RetryPolicy {
  /**
   * Attempts, the first included, before a retryable failure is given up (where the loop gives
   * up at all: outages are waited out for ever). Default: 5: with the other defaults that is about
   * 1.5 s of waiting (0.1 + 0.2 + 0.4 + 0.8 s), long enough for a deadlock or a serialization
   * conflict to clear, short enough that one bad record does not hold its partition for long.
   */
  readonly attempts: number;
  /**
   * Wait before the second attempt, in ms. Default: 100: transaction conflicts usually clear
   * within a few milliseconds, and retrying sooner mostly collides again.
   */
  readonly initialDelayMs: number;
  /**
   * Factor between consecutive waits. Default: 2 (exponential backoff), so a longer problem is
   * probed less and less often.
   */
  readonly multiplier: number;
  /**
   * Upper bound of any wait, jitter included, in ms. Default: 10000: an outage is retried forever
   * with this cap, so recovery is noticed within ten seconds without hammering the database.
   */
  readonly maxDelayMs: number;
  /**
   * Random spread of each wait as a fraction: 0.2 means ±20 %, 1 means anywhere from 0 to twice
   * the wait. Default: 0.2, so consumers that failed together (an outage) do not all retry in the
   * same millisecond.
   */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 5,
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 10_000,
  jitter: 0.2,
});

/** Overrides of `base`, validated; the merged policy must keep maxDelayMs >= initialDelayMs. */
function policySchema(base: RetryPolicy) {
  return z
    .strictObject({
      attempts: z.int().min(1).optional(),
      initialDelayMs: z.number().min(0).optional(),
      multiplier: z.number().min(1).optional(),
      maxDelayMs: z.number().min(0).optional(),
      jitter: z.number().min(0).max(1).optional(),
    })
    .transform((o): RetryPolicy => ({ ...base, ...withoutUndefined(o) }))
    .refine((p) => p.maxDelayMs >= p.initialDelayMs, {
      path: ['maxDelayMs'],
      message: 'must be >= initialDelayMs',
    });
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * `base` (default DEFAULT_RETRY_POLICY) overridden by `overrides`; throws ERP_INVALID_OPTIONS
 * naming the first bad field (also an unknown one, which is most likely a misspelt option).
 * Explicit undefined keeps the base value, like an absent field.
 */
export function createRetryPolicy(
  overrides: Partial<RetryPolicy> = {},
  base: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryPolicy {
  return Object.freeze(parseOptions(policySchema(base), overrides, 'retry policy'));
}

/**
 * The wait in whole ms after attempt number `attempt` (1-based) failed:
 * `initialDelayMs * multiplier^(attempt - 1)`, spread by ±`jitter`, never above `maxDelayMs`.
 * `random` returns [0, 1) like Math.random; tests pass their own.
 */
export function delayFor(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // A long outage reaches attempts where the power is Infinity; 0 * Infinity would be NaN.
  const grown =
    policy.initialDelayMs === 0 ? 0 : policy.initialDelayMs * policy.multiplier ** exponent;
  const base = Math.min(policy.maxDelayMs, grown);
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(Math.min(policy.maxDelayMs, Math.max(0, base * spread)));
}

/**
 * Whether to try again after attempt number `attempt` (1-based) failed with `err`: only a
 * retryable failure, and only while attempts remain.
 */
export function shouldRetry(policy: RetryPolicy, attempt: number, err: unknown): boolean {
  return attempt < policy.attempts && isRetryable(err);
}

/**
 * Waits `delayFor(policy, attempt)`; resolves true when the wait ran out, false at once when
 * `signal` aborts (before or during it), so that a loop stops waiting when its owner stops.
 */
export async function backoff(
  policy: RetryPolicy,
  attempt: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted === true) return false;
  try {
    await sleep(delayFor(policy, attempt), undefined, signal === undefined ? {} : { signal });
    return true;
  } catch {
    return false;
  }
}
