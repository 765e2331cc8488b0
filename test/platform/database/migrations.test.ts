import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { migrate, readMigrations } from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';

test('applies each file once, in name order, and records it', async (t) => {
  const database = await testDatabase(t, null);
  const folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  writeFileSync(join(folder, '002_b.sql'), 'INSERT INTO things (name) VALUES ($$second$$);');
  writeFileSync(
    join(folder, '001_a.sql'),
    'CREATE TABLE things (id serial PRIMARY KEY, name text);\nINSERT INTO things (name) VALUES ($$first$$);',
  );
  assert.deepEqual(await migrate(database, readMigrations(folder)), ['001_a.sql', '002_b.sql']);
  assert.deepEqual(await migrate(database, readMigrations(folder)), []);
  const rows = await sql<{ name: string }>`SELECT name FROM things ORDER BY id`.execute(
    database.db,
  );
  assert.deepEqual(
    rows.rows.map((r) => r.name),
    ['first', 'second'],
  );
});

test('a failing file is rolled back whole and reported with a stable code', async (t) => {
  const database = await testDatabase(t, null);
  const folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  writeFileSync(
    join(folder, '001_bad.sql'),
    'CREATE TABLE half (id int);\nSELECT * FROM missing_table;',
  );
  await assert.rejects(migrate(database, readMigrations(folder)), {
    code: 'ERP_DB_MIGRATION_FAILED',
  });
  const exists = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half' AND table_schema = current_schema()`.execute(
    database.db,
  );
  assert.equal(exists.rows[0]?.n, 0);
  // The connection is usable afterwards: the aborted transaction was rolled back.
  const one = await sql<{ x: number }>`SELECT 1 AS x`.execute(database.db);
  assert.equal(one.rows[0]?.x, 1);
});

test('the project migrations apply on this engine', async (t) => {
  const inventory = await testDatabase(t, 'inventory');
  const sales = await testDatabase(t, 'sales');
  for (const [database, table] of [
    [inventory, 'events'],
    [sales, 'inbox'],
  ] as const) {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(
      database.db,
    );
    assert.equal(r.rows[0]?.n, 0);
  }
});

test('a migration that fails on a unique violation of its own is reported, not taken as applied', async (t) => {
  const database = await testDatabase(t, null);
  const migrations = [
    { name: 'a', sql: 'CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1);' },
    { name: 'b', sql: 'INSERT INTO u VALUES (1);' },
  ];
  await assert.rejects(migrate(database, migrations), (err: { code: string; message: string }) => {
    assert.equal(err.code, 'ERP_DB_MIGRATION_FAILED');
    assert.match(err.message, /migration b failed/);
    return true;
  });
  const applied = await sql<{ name: string }>`SELECT name FROM schema_migrations`.execute(
    database.db,
  );
  assert.deepEqual(
    applied.rows.map((r) => r.name),
    ['a'],
  );
});
