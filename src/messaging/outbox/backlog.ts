/**
 * How far behind the relay is: unpublished rows and the age of the oldest, sampled every second
 * while this relay leads (a stand-by relay would only repeat the leader's numbers).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Logger } from '../../platform/index.ts';
import type { RelayMetrics } from './metrics.ts';

export interface BacklogSampler {
  /** One sample now (skipped while one is running or `active()` is false). */
  sample(): Promise<void>;
  stop(): void;
}

export function startBacklogSampler(options: {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an outbox-shaped table
  db: Kysely<any>;
  table: string;
  metrics: RelayMetrics;
  log: Logger;
  active: () => boolean;
  /** Default: 1000. */
  intervalMs?: number;
}): BacklogSampler {
  const { db, metrics, log, active } = options;
  const table = sql.table(options.table);
  let busy = false;
  const sample = async (): Promise<void> => {
    if (busy || !active()) return;
    busy = true;
    try {
      const result = await sql<{ pending: number; age: number | null }>`
        SELECT count(*) AS pending,
               EXTRACT(EPOCH FROM now() - min(occurred_at)) AS age
        FROM ${table}
        WHERE published_at IS NULL
      `.execute(db);
      const row = result.rows[0];
      metrics.backlog(Number(row?.pending ?? 0), Math.max(0, Number(row?.age ?? 0)));
    } catch (err) {
      // The publishing loop reports database trouble; this is only a sample.
      log.debug({ err }, 'outbox backlog query failed');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), options.intervalMs ?? 1000);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}
