/**
 * The relay's view of its own trouble: which side is failing (Kafka not acknowledging, or the
 * outbox table unreachable), since when, and how many attempts in a row. It logs a transition
 * once (not every retry) and counts every failure in the metrics; the attempt count paces the
 * relay's backoff.
 */
import type { Logger } from '../../platform/index.ts';
import type { RelayMetrics } from './metrics.ts';

export type Trouble = 'kafka' | 'database';

export interface RelayHealth {
  /** A read, send or mark failed on `side`. */
  failed(side: Trouble, err: unknown): void;
  /** A cycle completed: logs the recovery if there was trouble. */
  succeeded(): void;
  /** Failures since the last success (0 when healthy). */
  readonly attempts: number;
}

export function createRelayHealth(
  log: Logger,
  metrics: RelayMetrics,
  /** Rows acknowledged but not yet marked, for the log line. */
  pendingPositions: () => number | undefined,
  now: () => number = Date.now,
): RelayHealth {
  let state: Trouble | 'ok' = 'ok';
  let failingSince = 0;
  let attempts = 0;
  return {
    get attempts() {
      return attempts;
    },
    failed(side, err) {
      attempts++;
      metrics.failed(err);
      if (state === side) return;
      if (state === 'ok') failingSince = now();
      state = side;
      log.warn(
        { err, pendingPositions: pendingPositions() },
        side === 'kafka'
          ? 'Kafka is not acknowledging outbox batches; retrying with backoff'
          : 'outbox table unreachable; retrying with backoff',
      );
    },
    succeeded() {
      if (state !== 'ok') {
        log.info({ attempts, downForMs: now() - failingSince }, 'outbox publishing recovered');
      }
      state = 'ok';
      attempts = 0;
    },
  };
}
