/** The outbox table's DDL: idempotent, a no-op where the table already exists, safe names only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { appendToOutbox } from '../../../src/messaging/outbox/append.ts';
import { outboxMigration } from '../../../src/messaging/outbox/table.ts';
import { AppError, migrate, type Database } from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';
import type { OutboxDB } from '../fixtures.ts';
import { outboxRow } from './fixtures.ts';

/** Sales' outbox as its own migration created it before the messaging layer owned the table. */
const OLD_LAYOUT = `
CREATE TABLE outbox (
  position        bigserial PRIMARY KEY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tenant_id       text NOT NULL,
  event_id        text NOT NULL UNIQUE,
  event_type      text NOT NULL,
  topic           text NOT NULL,
  message_key     text NOT NULL,
  envelope        json NOT NULL,  -- json, not jsonb: keeps the text (and key order) as written
  headers         jsonb NOT NULL,
  occurred_at     timestamptz NOT NULL,
  published_at    timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
`;

/** Columns (name, type, nullable, default) and index definitions of `table`. */
async function layoutOf(database: Database<OutboxDB>, table: string) {
  const columns = await sql<{
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
  }>`
    SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table}
    ORDER BY ordinal_position`.execute(database.db);
  const indexes = await sql<{ indexname: string; indexdef: string }>`
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = ${table}
    ORDER BY indexname`.execute(database.db);
  return { columns: columns.rows, indexes: indexes.rows };
}

async function rowCount(database: Database<OutboxDB>): Promise<number> {
  const { n } = await database.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

test('outboxMigration creates the outbox shape; running its script again changes nothing', async (t) => {
  const database = await testDatabase<OutboxDB>(t, null);
  const migration = outboxMigration('outbox');
  assert.equal(migration.name, 'messaging:outbox:outbox');
  await database.exec(migration.sql);
  const created = await layoutOf(database, 'outbox');
  assert.deepEqual(
    created.columns.map((c) => [c.column_name, c.data_type, c.is_nullable]),
    [
      ['position', 'bigint', 'NO'],
      ['transaction_id', 'xid8', 'NO'],
      ['tenant_id', 'text', 'NO'],
      ['event_id', 'text', 'NO'],
      ['event_type', 'text', 'NO'],
      ['topic', 'text', 'NO'],
      ['message_key', 'text', 'NO'],
      ['envelope', 'json', 'NO'],
      ['headers', 'jsonb', 'NO'],
      ['occurred_at', 'timestamp with time zone', 'NO'],
      ['published_at', 'timestamp with time zone', 'YES'],
    ],
  );
  assert.ok(created.indexes.some((i) => i.indexname === 'outbox_unpublished'));

  const row = outboxRow('topic', 'k', 0);
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', [row]));
  await database.exec(migration.sql);
  assert.deepEqual(await layoutOf(database, 'outbox'), created);
  assert.equal(await rowCount(database), 1, 'the second run kept the row');
  // The defaults of the shape fill what appendToOutbox does not write.
  const stored = await database.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
  assert.equal(stored.event_id, row.eventId);
  assert.equal(stored.published_at, null);
  assert.ok(Number(stored.position) >= 1);
  assert.match(String(stored.transaction_id), /^\d+$/);
});

test('on a database whose outbox predates the migration, it is recorded and changes nothing', async (t) => {
  const database = await testDatabase<OutboxDB>(t, null);
  await database.exec(OLD_LAYOUT);
  const rows = [outboxRow('topic', 'k', 0), outboxRow('topic', 'k', 1)];
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', rows));
  const before = await layoutOf(database, 'outbox');

  assert.deepEqual(await migrate(database, [outboxMigration('outbox')]), [
    'messaging:outbox:outbox',
  ]);
  assert.deepEqual(await layoutOf(database, 'outbox'), before);
  assert.equal(await rowCount(database), 2);
  // Recorded: the next start does not run it again.
  assert.deepEqual(await migrate(database, [outboxMigration('outbox')]), []);
});

test('a table name that is not a plain identifier is refused with ERP_INVALID_OPTIONS', () => {
  for (const name of ['x; drop', 'outbox; DROP TABLE inbox', 'Outbox', 'sales.outbox', '']) {
    assert.throws(
      () => outboxMigration(name),
      (err) =>
        err instanceof AppError &&
        err.code === 'ERP_INVALID_OPTIONS' &&
        err.context['field'] === 'table' &&
        err.message.includes(name),
      name,
    );
  }
});
