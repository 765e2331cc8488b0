/**
 * Writing side of the transactional outbox: rows are inserted in the caller's transaction, so an
 * event exists exactly when the state change that caused it committed. The relay
 * (relay.ts) publishes them afterwards.
 */
import { sql, type Kysely } from 'kysely';
import { kafkaHeadersFor } from '../../contract/index.ts';
import type { Envelope, EventOf, EventType } from '../../contract/index.ts';
import { traceHeaders } from '../../platform/index.ts';
import type { IncomingRecord } from '../kafka/index.ts';
import { traceHeadersOf } from '../tracing.ts';

export interface OutboxRow {
  eventId: string;
  tenantId: string;
  eventType: string;
  topic: string;
  /** Kafka key: every event of one entity carries the same key so that they stay in order. */
  key: string;
  envelope: Envelope | EventOf<EventType>;
  headers: Record<string, string>;
  occurredAt: Date;
}

/**
 * The headers of an outbox row: the contract's (kafkaHeadersFor) and, with tracing on, the trace
 * context of the action that wrote it, so that the relay's send span continues that trace: the
 * active span's, or that of the consumed record `causedBy` (a handler applies several records in
 * one call, each in its own trace).
 */
export function outboxHeadersFor(
  envelope: Envelope | EventOf<EventType>,
  causedBy?: IncomingRecord,
): Record<string, string> {
  const trace = causedBy === undefined ? traceHeaders() : traceHeadersOf(causedBy);
  return { ...kafkaHeadersFor(envelope), ...trace };
}

// 8 parameters a row; PostgreSQL allows 65,535 parameters in one statement.
const ROWS_PER_INSERT = 1000;

/**
 * Inserts into a table of the outbox shape (Sales' `outbox`), in the caller's transaction. Rows get
 * positions in the order given. Signal the relay after the commit (signal.ts).
 */
export async function appendToOutbox(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an outbox-shaped table
  trx: Kysely<any>,
  table: string,
  rows: readonly OutboxRow[],
): Promise<void> {
  if (rows.length === 0) return;
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const values = rows
      .slice(start, start + ROWS_PER_INSERT)
      .map(
        (row) =>
          sql`(${row.tenantId}, ${row.eventId}, ${row.eventType}, ${row.topic}, ${row.key}, ${JSON.stringify(row.envelope)}::json, ${JSON.stringify(row.headers)}::jsonb, ${row.occurredAt})`,
      );
    await sql`
      INSERT INTO ${sql.table(table)}
        (tenant_id, event_id, event_type, topic, message_key, envelope, headers, occurred_at)
      VALUES ${sql.join(values)}
    `.execute(trx);
  }
}
