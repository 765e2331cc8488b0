/**
 * Start-up steps that need a dependency which may not be there yet (Kafka restarting, a cluster
 * still electing): retried with backoff while the failure is retryable, so that a service
 * started during an outage comes up when the dependency does instead of crash-looping.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError } from './errors.ts';
import type { Logger } from './logger.ts';

const INITIAL_MS = 500;
const MAX_MS = 10_000;

export async function retryWhileUnavailable<T>(
  what: string,
  logger: Logger,
  step: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isAppError(err) || !err.retryable) throw err;
      const delay = Math.min(MAX_MS, INITIAL_MS * 2 ** (attempt - 1));
      logger.warn(
        { err: { code: err.code, message: err.message }, attempt, retryInMs: delay },
        `${what}: waiting`,
      );
      await sleep(delay);
    }
  }
}
