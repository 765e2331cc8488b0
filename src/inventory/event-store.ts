/**
 * Product streams in the `events` table. Appending checks the expected stream version: the
 * unique (stream_id, stream_version) index makes a concurrent writer fail instead of
 * interleaving. The same rows are the outbox the relay publishes from.
 */
import type { Kysely } from 'kysely';
import { kafkaHeadersFor, messageKeyOf } from '../contract/index.ts';
import type { AnyEvent } from '../contract/index.ts';
import type { InventoryDB } from './db.ts';
import { versionConflict } from './errors.ts';

export interface AppendRequest {
  tenantId: string;
  streamId: string;
  /** The stream version the decision was made on; 0 for a new stream. */
  expectedVersion: number;
  events: readonly AnyEvent[];
  topic: string;
}

export async function appendToStream(
  trx: Kysely<InventoryDB>,
  request: AppendRequest,
): Promise<number> {
  const rows = request.events.map((event, i) => ({
    tenant_id: request.tenantId,
    stream_id: request.streamId,
    stream_version: request.expectedVersion + i + 1,
    event_id: event.metadata.event_id,
    event_type: event.metadata.event_type,
    topic: request.topic,
    message_key: messageKeyOf(event),
    envelope: JSON.stringify(event),
    headers: JSON.stringify(kafkaHeadersFor(event)),
    occurred_at: event.metadata.timestamp,
  }));
  if (rows.length === 0) return request.expectedVersion;
  try {
    await trx.insertInto('events').values(rows).execute();
  } catch (err) {
    if (isUniqueViolation(err, 'events_stream_id_stream_version_key')) {
      throw versionConflict(request.streamId, request.expectedVersion);
    }
    throw err;
  }
  return request.expectedVersion + rows.length;
}

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
