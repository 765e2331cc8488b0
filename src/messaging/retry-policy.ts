/**
 * How a consumer retries a record that failed with a retryable error: a validated, frozen value,
 * so a bad setting fails at start naming the field instead of misbehaving under load. The
 * decision to retry reads only `retryable` (src/messaging/retryable.ts), never a code or message.
 */
import { invalidRetryPolicyError } from './errors.ts';
import { isRetryableError } from './retryable.ts';

export interface RetryPolicy {
  /**
   * Attempts per record, the first included, before a retryable failure is dead-lettered.
   * Default: 5: with the other defaults that is about 1.5 s of waiting (0.1 + 0.2 + 0.4 + 0.8 s),
   * long enough for a deadlock or a serialization conflict to clear, short enough that one bad
   * record does not hold its partition for long.
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
   * Random spread of each wait as a fraction: 0.2 means ±20 %. Default: 0.2, so consumers that
   * failed together (an outage) do not all retry in the same millisecond.
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

const FIELDS = Object.keys(DEFAULT_RETRY_POLICY);

function check(field: string, value: unknown, ok: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw invalidRetryPolicyError(field, `must be ${rule} (got ${String(value)})`);
  }
  return value;
}

/**
 * The defaults overridden by `overrides`; throws ERP_MSG_INVALID_RETRY_POLICY naming the first
 * bad field (also an unknown one, which is most likely a misspelt option).
 */
export function createRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  for (const field of Object.keys(overrides)) {
    if (!FIELDS.includes(field))
      throw invalidRetryPolicyError(field, 'is not a retry policy field');
  }
  // Explicit undefined keeps the default, like an absent field.
  const pick = <K extends keyof RetryPolicy>(k: K): unknown =>
    overrides[k] ?? DEFAULT_RETRY_POLICY[k];
  const attempts = check(
    'attempts',
    pick('attempts'),
    (v) => Number.isInteger(v) && v >= 1,
    'an integer >= 1',
  );
  const initialDelayMs = check(
    'initialDelayMs',
    pick('initialDelayMs'),
    (v) => v >= 0,
    'a number >= 0',
  );
  const multiplier = check('multiplier', pick('multiplier'), (v) => v >= 1, 'a number >= 1');
  const maxDelayMs = check(
    'maxDelayMs',
    pick('maxDelayMs'),
    (v) => v >= initialDelayMs,
    `a number >= initialDelayMs (${initialDelayMs})`,
  );
  const jitter = check('jitter', pick('jitter'), (v) => v >= 0 && v <= 1, 'a number from 0 to 1');
  return Object.freeze({ attempts, initialDelayMs, multiplier, maxDelayMs, jitter });
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
  return attempt < policy.attempts && isRetryableError(err);
}
