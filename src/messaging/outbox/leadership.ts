/**
 * One publisher per outbox table. Several relays sharing a table with SKIP LOCKED would each take
 * a batch and race to Kafka, so two events of one key could be published in either order. One
 * relay leads, by a session advisory lock on a dedicated connection (Database.tryLock); the
 * others stand by and try again at their poll interval. A leader whose lock connection ends has
 * lost the lock with it (the server dropped it) and stops publishing at once.
 */
import { sql } from 'kysely';
import type { AdvisoryLock, Database, Logger } from '../../platform/index.ts';
import { unknownOutboxTableError } from '../errors.ts';

export interface Leadership {
  /** Whether this relay holds the table's lock right now. */
  held(): boolean;
  /**
   * Holds the lock after this when it can: true if held (already or now), false when another
   * relay leads. Database failures are thrown.
   */
  acquire(): Promise<boolean>;
  /** Lets the lock go (ends its connection). */
  release(): Promise<void>;
}

/**
 * The lock key of `table`: its oid, not its name, since test schemas (and tenants' schemas) reuse
 * table names and advisory locks are per database. Throws ERP_OUTBOX_UNKNOWN_TABLE.
 */
export async function lockKeyOf(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an outbox-shaped table
  database: Database<any>,
  table: string,
): Promise<string> {
  const result = await sql<{ oid: string | null }>`
    SELECT to_regclass(${table})::oid::text AS oid
  `.execute(database.db);
  const oid = result.rows[0]?.oid;
  if (oid === null || oid === undefined) throw unknownOutboxTableError(table);
  return `erp-outbox-relay:${oid}`;
}

export function createLeadership(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
  database: Database<any>,
  lockKey: string,
  log: Logger,
): Leadership {
  let lock: AdvisoryLock | null = null;
  let standingBy = false;
  const held = (): boolean => lock !== null && lock.held;
  return {
    held,
    async acquire() {
      if (held()) return true;
      if (lock !== null) {
        log.warn('outbox relay lost leadership (its lock connection ended)');
        lock = null;
      }
      lock = await database.tryLock(lockKey);
      if (lock === null) {
        if (!standingBy) log.info('another outbox relay leads this table; standing by');
        standingBy = true;
        return false;
      }
      standingBy = false;
      log.info('outbox relay leads this table');
      return true;
    },
    async release() {
      const current = lock;
      lock = null;
      await current?.release();
    },
  };
}
