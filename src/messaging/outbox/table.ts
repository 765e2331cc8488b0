/**
 * The outbox table: one definition of its columns (the Kysely type) and of its DDL, used by every
 * service that publishes. A service's migrations run `outboxMigration(table)` first (the service
 * kit does it) and may add columns of their own: Inventory's event store is an outbox with
 * `stream_id` and `stream_version`.
 */
import type { ColumnType, Generated } from 'kysely';
import type { Migration } from '../../platform/index.ts';
import { tableName } from '../table-name.ts';

export interface OutboxTable {
  /** Publication order. */
  position: Generated<number>;
  transaction_id: Generated<string>;
  tenant_id: string;
  event_id: string;
  event_type: string;
  topic: string;
  /** Kafka key: every event of one entity carries the same key so that they stay in order. */
  message_key: string;
  /** `json`, not `jsonb`: keeps the text (and key order) as written. */
  envelope: ColumnType<unknown, string, string>;
  headers: ColumnType<Record<string, string>, string, string>;
  occurred_at: ColumnType<Date, Date | string, Date | string>;
  /** Set once Kafka acknowledged the row; the relay publishes rows where it is null. */
  published_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
}

/**
 * Creates `table` in the outbox shape if it does not exist (databases migrated before this
 * definition existed already have it). Named `messaging:outbox:<table>` in schema_migrations.
 */
export function outboxMigration(table: string): Migration {
  const name = tableName(table);
  return {
    name: `messaging:outbox:${name}`,
    sql: `
CREATE TABLE IF NOT EXISTS ${name} (
  position        bigserial PRIMARY KEY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tenant_id       text NOT NULL,
  event_id        text NOT NULL UNIQUE,
  event_type      text NOT NULL,
  topic           text NOT NULL,
  message_key     text NOT NULL,
  envelope        json NOT NULL,
  headers         jsonb NOT NULL,
  occurred_at     timestamptz NOT NULL,
  published_at    timestamptz
);
CREATE INDEX IF NOT EXISTS ${name}_unpublished ON ${name} (position) WHERE published_at IS NULL;
`,
  };
}
