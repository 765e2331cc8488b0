/** The inbox table: its DDL, and the one statement that records events and tells new from seen. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { AnyEvent } from '../../../src/contract/index.ts';
import { inboxMigration, insertIntoInbox } from '../../../src/messaging/inbox/table.ts';
import type { InboxTable } from '../../../src/messaging/inbox/table.ts';
import { AppError, migrate, type Database } from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';
import { lowStock, productCreated } from './fixtures.ts';

interface InboxDB {
  inbox: InboxTable;
}

async function inboxDatabase(t: Parameters<typeof testDatabase>[0]) {
  const database = await testDatabase<InboxDB>(t, null);
  await migrate(database, [inboxMigration('inbox')]);
  return database;
}

async function columnsOf(database: Database<InboxDB>, table: string) {
  const { rows } = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
    SELECT column_name, data_type, is_nullable FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table}
    ORDER BY ordinal_position`.execute(database.db);
  return rows;
}

test('inboxMigration creates the table once; running its script again changes nothing', async (t) => {
  const database = await testDatabase<InboxDB>(t, null);
  const migration = inboxMigration('inbox');
  assert.equal(migration.name, 'messaging:inbox:inbox');
  await database.exec(migration.sql);
  await insertIntoInbox(database.db, 'inbox', [lowStock('P1')]);
  await database.exec(migration.sql);
  assert.deepEqual(await columnsOf(database, 'inbox'), [
    { column_name: 'event_id', data_type: 'text', is_nullable: 'NO' },
    { column_name: 'event_type', data_type: 'text', is_nullable: 'NO' },
    { column_name: 'tenant_id', data_type: 'text', is_nullable: 'NO' },
    { column_name: 'processed_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
  ]);
  const rows = await database.db.selectFrom('inbox').selectAll().execute();
  assert.equal(rows.length, 1, 'the second run kept the row');
  assert.ok(rows[0]!.processed_at instanceof Date);
});

test('a table name that is not a plain identifier is refused', () => {
  for (const name of ['x; drop', 'Inbox', '1inbox', 'a'.repeat(64), '']) {
    assert.throws(
      () => inboxMigration(name),
      (err) =>
        err instanceof AppError &&
        err.code === 'ERP_INVALID_OPTIONS' &&
        err.context['field'] === 'table',
      name,
    );
  }
});

test('insertIntoInbox records new events and returns only their ids', async (t) => {
  const database = await inboxDatabase(t);
  const a = lowStock('P1');
  const b = productCreated('P2');
  const c = lowStock('P3', 'tenant-2');
  const first = await insertIntoInbox(database.db, 'inbox', [a, b, a]);
  assert.deepEqual([...first].toSorted(), [a, b].map((e) => e.metadata.event_id).toSorted());
  // An id seen by an earlier call is not new; one repeated within the call is new once.
  const second = await insertIntoInbox(database.db, 'inbox', [b, c, c, a]);
  assert.deepEqual([...second], [c.metadata.event_id]);
  assert.deepEqual([...(await insertIntoInbox(database.db, 'inbox', [a, b, c]))], []);
  assert.deepEqual([...(await insertIntoInbox(database.db, 'inbox', []))], []);

  const rows = await database.db
    .selectFrom('inbox')
    .select(['event_id', 'event_type', 'tenant_id'])
    .orderBy('event_id')
    .execute();
  assert.deepEqual(
    rows,
    [a, b, c]
      .map(({ metadata }) => ({
        event_id: metadata.event_id,
        event_type: metadata.event_type,
        tenant_id: metadata.tenant_id,
      }))
      .toSorted((x, y) => (x.event_id < y.event_id ? -1 : 1)),
  );
});

test('insertIntoInbox in a transaction that rolls back records nothing', async (t) => {
  const database = await inboxDatabase(t);
  const a = lowStock('P1');
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      assert.equal((await insertIntoInbox(trx, 'inbox', [a])).size, 1);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.deepEqual([...(await insertIntoInbox(database.db, 'inbox', [a]))], [a.metadata.event_id]);
});

test('insertIntoInbox takes more events than one statement can carry (65,535 parameters)', async (t) => {
  const database = await inboxDatabase(t);
  const base = lowStock('P1');
  // 3 parameters an event: 25,000 events in one statement would be 75,000 parameters.
  const events: AnyEvent[] = Array.from({ length: 25_000 }, (_, i) => ({
    ...base,
    metadata: { ...base.metadata, event_id: `evt-${i}` },
  }));
  const inserted = await insertIntoInbox(database.db, 'inbox', [...events, events[7]!]);
  assert.equal(inserted.size, 25_000);
  const again = await insertIntoInbox(database.db, 'inbox', [
    events[24_999]!,
    { ...base, metadata: { ...base.metadata, event_id: 'evt-new' } },
  ]);
  assert.deepEqual([...again], ['evt-new']);
});
