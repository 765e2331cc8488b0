/**
 * Reading product streams from the `events` table (appending is in unit-of-work.ts, where the
 * unique (stream_id, stream_version) index makes a concurrent writer fail instead of
 * interleaving). The same rows are the outbox the relay publishes from.
 */
import type { Kysely } from 'kysely';
import type { AnyEvent } from '../contract/index.ts';
import type { InventoryDB } from './db.ts';

/** The whole stream in version order, for rebuilding state and replay. */
export async function readStream(
  db: Kysely<InventoryDB>,
  tenantId: string,
  streamId: string,
): Promise<AnyEvent[]> {
  const rows = await db
    .selectFrom('events')
    .select(['envelope'])
    .where('tenant_id', '=', tenantId)
    .where('stream_id', '=', streamId)
    .orderBy('stream_version')
    .execute();
  return rows.map((r) => r.envelope as AnyEvent);
}

export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (e?.code !== '23505') return false;
  // PGlite does not always fill `constraint`; its message names it.
  return (
    e.constraint === constraint || (typeof e.message === 'string' && e.message.includes(constraint))
  );
}
