/**
 * Tells outbox relays that rows committed, after the commit, instead of a NOTIFY inside the
 * writing transaction.
 *
 * Why not NOTIFY in the transaction: PostgreSQL serializes the commits of all transactions that
 * notified (one cluster-wide lock on the notification queue, held until the commit record is
 * flushed), so every writer queued behind the previous one's fsync. Measured on the 2-core bench
 * (`npm run bench -- --only=e2e --engine=postgres`): end-to-end adjustments/s went from 314–365
 * to 399–449 with the NOTIFY moved out, and `Lock:object` waits on `commit` disappeared from
 * pg_stat_activity.
 *
 * After a commit this wakes the relay of this process at once; when that relay does not lead the
 * table (another process publishes), it also sends a NOTIFY of its own. Those are coalesced: at
 * most one in flight, and commits that happen meanwhile share the next one. The signal is only a
 * hint: a crash between commit and signal costs the relay's poll interval, never an event.
 */
import { sql } from 'kysely';
import type { Database, Logger } from '../../platform/index.ts';

export interface OutboxSignal {
  /** Rows were committed to the outbox. Never throws, never waits. */
  committed(): void;
  /** Waits for a NOTIFY in flight (so the database can be closed after it). */
  close(): Promise<void>;
}

export interface OutboxSignalOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
  database: Database<any>;
  /** The channel the relays LISTEN on. */
  channel: string;
  /** This process's relay for the table, if it runs one. */
  relay?: { wake(): void; leads(): boolean };
  logger: Logger;
}

export function createOutboxSignal(options: OutboxSignalOptions): OutboxSignal {
  const { database, channel, relay, logger } = options;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let closed = false;

  const notify = (): void => {
    if (inFlight !== null) {
      again = true;
      return;
    }
    inFlight = sql`SELECT pg_notify(${channel}, '')`
      .execute(database.db)
      .then(
        () => {},
        (err: unknown) => logger.debug({ err, channel }, 'outbox NOTIFY failed; relays poll'),
      )
      .finally(() => {
        inFlight = null;
        if (again && !closed) {
          again = false;
          notify();
        }
      });
  };

  return {
    committed() {
      relay?.wake();
      if (closed || relay?.leads() === true) return;
      notify();
    },
    async close() {
      closed = true;
      await inFlight;
    },
  };
}
