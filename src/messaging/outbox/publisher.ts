/**
 * One publishing pass over an outbox table: read the oldest unpublished rows, send them to Kafka,
 * mark them published once Kafka acknowledged them; again until a short batch shows the table
 * drained. At-least-once: a crash between the acknowledgement and the UPDATE sends a batch again;
 * consumers deduplicate by event_id.
 *
 * Why scanning `published_at IS NULL ORDER BY position` keeps per-key order and skips nothing:
 * sequence values are handed out before commit, so positions can become visible out of order
 * (a reader tracking "position > last seen" could skip a late committer forever). We never track
 * a high-water mark: every scan starts from the oldest unpublished row, so a row that commits late
 * is simply published by a later scan. Order per key still holds because the rows of one key (one
 * product stream, one aggregate) are written by transactions that serialize on that stream's
 * version (a row lock or the unique (stream_id, stream_version) constraint): the row with the
 * smaller position commits before the next one of the same key is even inserted, so no scan can
 * see a later row of a key without the earlier one. Rows of different keys may overtake each
 * other, which Kafka's per-key (per-partition) ordering allows.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { tracingOn } from '../../platform/index.ts';
import { sendTimeoutError } from '../kafka/errors.ts';
import type { EventProducer, OutgoingRecord } from '../kafka/producer.ts';
import type { RelayHealth, Trouble } from './health.ts';
import type { RelayMetrics } from './metrics.ts';
import { schemaIdKey } from '../schema-registry/subjects.ts';
import { startSendSpans } from '../tracing.ts';

export interface PublisherOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an outbox-shaped table
  db: Kysely<any>;
  table: string;
  producer: EventProducer;
  batchSize: number;
  sendTimeoutMs: number;
  metrics: RelayMetrics;
  health: RelayHealth;
  /**
   * Schema ids by `schemaIdKey(event_type, event_version)`, put in each record's `schema_id`
   * header at send time (rows written before the registry was configured get it too). Default:
   * none, no header.
   */
  schemaIds?: ReadonlyMap<string, string>;
}

export interface Publisher {
  /**
   * Publishes until the table is drained or `goOn()` turns false (stopping, leadership lost).
   * A failure is reported to the health (which side failed) and thrown; the next pass first
   * marks what Kafka acknowledged before the failure.
   */
  pass(goOn: () => boolean): Promise<void>;
  /** Positions Kafka acknowledged that are not marked yet (after a failed UPDATE). */
  unmarked(): number | undefined;
}

interface PendingRow {
  position: number;
  topic: string;
  message_key: string;
  /** The envelope's JSON text as written (the column is `json`, which keeps text and key order). */
  envelope: string;
  headers: Record<string, string> | null;
}

export function createPublisher(options: PublisherOptions): Publisher {
  const { db, producer, batchSize, sendTimeoutMs, metrics, health } = options;
  const schemaIds = options.schemaIds ?? new Map<string, string>();
  const toRecord = (row: PendingRow): OutgoingRecord => recordOf(row, schemaIds);
  const table = sql.table(options.table);
  // Positions Kafka acknowledged but the UPDATE did not record: marked before anything is re-sent.
  let unmarked: number[] | null = null;

  /** The oldest unpublished rows, except those `inFlight` (sent or being sent, not yet marked). */
  const fetchBatch = async (inFlight: number[]): Promise<PendingRow[]> => {
    const result = await sql<PendingRow>`
      SELECT position, topic, message_key, envelope::text AS envelope, headers
      FROM ${table}
      WHERE published_at IS NULL AND position <> ALL(${inFlight}::bigint[])
      ORDER BY position
      LIMIT ${batchSize}
    `.execute(db);
    return result.rows;
  };

  const mark = async (positions: number[]): Promise<void> => {
    await sql`
      UPDATE ${table} SET published_at = now()
      WHERE position = ANY(${positions}::bigint[]) AND published_at IS NULL
    `.execute(db);
  };

  /**
   * A send not acknowledged within `sendTimeoutMs` is reported as a failure (log, metric). It is
   * still awaited rather than repeated: an idempotent producer retries on its own while Kafka is
   * unreachable, and piling up copies would only add duplicates.
   */
  const send = async (records: OutgoingRecord[]): Promise<void> => {
    // A send span per record, whose context replaces its row's in the headers.
    const spans = tracingOn() ? startSendSpans(records) : undefined;
    const sending = producer.send(records);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), sendTimeoutMs);
    });
    try {
      if ((await Promise.race([sending, slow])) === 'slow') {
        health.failed('kafka', sendTimeoutError(sendTimeoutMs, records.length));
        await sending;
      }
      spans?.end();
    } catch (err) {
      spans?.fail(err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    unmarked: () => unmarked?.length,

    /**
     * The next batch is read while the current one is being sent. It excludes exactly the rows
     * in flight, never "everything up to the last position": a row that commits late with a
     * smaller position must still come before later rows of its key.
     */
    async pass(goOn) {
      let side: Trouble = 'database';
      let next: Promise<PendingRow[]> | null = null;
      try {
        if (unmarked !== null) {
          const startedAt = performance.now();
          await mark(unmarked);
          metrics.published(unmarked.length, (performance.now() - startedAt) / 1000);
          unmarked = null;
        }
        next = fetchBatch([]);
        for (;;) {
          const rows: PendingRow[] = await next;
          next = null;
          if (rows.length === 0 || !goOn()) return;
          const startedAt = performance.now();
          const positions = rows.map((row) => row.position);
          side = 'kafka';
          const sending = send(rows.map(toRecord));
          if (rows.length === batchSize) next = fetchBatch(positions);
          await sending;
          unmarked = positions;
          side = 'database';
          await mark(positions);
          unmarked = null;
          metrics.published(rows.length, (performance.now() - startedAt) / 1000);
          if (next === null) return;
        }
      } catch (err) {
        // A read-ahead that is no longer wanted must not surface as an unhandled rejection.
        next?.catch(() => {});
        health.failed(side, err);
        throw err;
      }
    },
  };
}

function recordOf(row: PendingRow, schemaIds: ReadonlyMap<string, string>): OutgoingRecord {
  const record: OutgoingRecord = {
    topic: row.topic,
    key: row.message_key,
    value: Buffer.from(row.envelope, 'utf8'),
  };
  const headers = row.headers;
  if (headers === null) return record;
  // The hot path: one Map lookup on the row's own headers (the value is never parsed), and the
  // row's headers object is fresh from the query, so it is extended in place.
  if (schemaIds.size > 0) {
    const type = headers['event_type'];
    const version = headers['event_version'];
    const id =
      type === undefined || version === undefined
        ? undefined
        : schemaIds.get(schemaIdKey(type, version));
    if (id !== undefined) headers['schema_id'] = id;
  }
  record.headers = headers;
  return record;
}
