/**
 * The inbox table: the ids of the events a consumer applied, written in the same transaction as
 * their effects, so a redelivered event finds its id and has no second effect. One definition of
 * its columns and DDL for every consuming service (the service kit migrates it).
 */
import { sql } from 'kysely';
import type { ColumnType, Kysely } from 'kysely';
import type { AnyEvent } from '../../contract/index.ts';
import type { Migration } from '../../platform/index.ts';
import { tableName } from '../table-name.ts';

export interface InboxTable {
  event_id: string;
  event_type: string;
  tenant_id: string;
  processed_at: ColumnType<Date, Date | undefined, never>;
}

/** Creates `table` in the inbox shape if it does not exist. Named `messaging:inbox:<table>`. */
export function inboxMigration(table: string): Migration {
  const name = tableName(table);
  return {
    name: `messaging:inbox:${name}`,
    sql: `
CREATE TABLE IF NOT EXISTS ${name} (
  event_id      text PRIMARY KEY,
  event_type    text NOT NULL,
  tenant_id     text NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now()
);
`,
  };
}

/** Inbox rows per INSERT statement: 3 parameters a row, well under PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 5_000;

/**
 * Inserts the ids of `events` not in the inbox yet and returns them, one statement per chunk. A
 * second occurrence of an id within `events` is not inserted twice (nor returned twice).
 */
export async function insertIntoInbox(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an inbox-shaped table
  trx: Kysely<any>,
  table: string,
  events: readonly AnyEvent[],
): Promise<Set<string>> {
  const unique = new Map<string, AnyEvent>();
  for (const event of events) {
    if (!unique.has(event.metadata.event_id)) unique.set(event.metadata.event_id, event);
  }
  const rows = [...unique.values()];
  const inserted = new Set<string>();
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const values = rows.slice(start, start + ROWS_PER_INSERT).map(({ metadata }) => {
      const { event_id, event_type, tenant_id } = metadata;
      return sql`(${event_id}, ${event_type}, ${tenant_id})`;
    });
    const result = await sql<{ event_id: string }>`
      INSERT INTO ${sql.table(table)} (event_id, event_type, tenant_id)
      VALUES ${sql.join(values)}
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id`.execute(trx);
    for (const row of result.rows) inserted.add(row.event_id);
  }
  return inserted;
}
