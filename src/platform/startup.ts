/**
 * Start-up steps that need a dependency which may not be there yet (Kafka restarting, a cluster
 * still electing): retried with backoff while the failure is retryable, so that a service
 * started during an outage comes up when the dependency does instead of crash-looping.
 */
import { isAppError } from './errors.ts';
import type { Logger } from './logger.ts';
import { backoff, createRetryPolicy } from './retry-policy.ts';
import type { RetryPolicy } from './retry-policy.ts';

/** From 500 ms doubling to 10 s: a broker restart takes seconds, an election less. */
export const STARTUP_RETRY_POLICY: RetryPolicy = createRetryPolicy({
  initialDelayMs: 500,
  maxDelayMs: 10_000,
});

export async function retryWhileUnavailable<T>(
  what: string,
  logger: Logger,
  step: () => Promise<T>,
  policy: RetryPolicy = STARTUP_RETRY_POLICY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isAppError(err) || !err.retryable) throw err;
      logger.warn({ err: { code: err.code, message: err.message }, attempt }, `${what}: waiting`);
      await backoff(policy, attempt);
    }
  }
}
