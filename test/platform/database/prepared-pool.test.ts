/**
 * The pg driver is only used on PostgreSQL, so these run in the suite's PostgreSQL pass
 * (`DATABASE_URL=… npm test`, which CI runs); on PGlite there is nothing to register.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { openDatabase } from '../../../src/platform/index.ts';
import { databaseUrl, testDatabase } from '../../support/database.ts';

/** The named statements of the connection the callback runs on (a transaction pins one). */
async function preparedOn(db: Kysely<unknown>, run: (trx: Kysely<unknown>) => Promise<unknown>) {
  return db.transaction().execute(async (trx) => {
    await run(trx);
    const { rows } = await sql<{ statement: string }>`
      SELECT statement FROM pg_prepared_statements WHERE name LIKE 'k\\_%'`.execute(trx);
    return rows.map((r) => r.statement);
  });
}

if (databaseUrl !== undefined) {
  test('a parameterized statement is prepared once per connection and reused', async (t) => {
    const database = await testDatabase<unknown>(t, null);
    const statements = await preparedOn(database.db, async (trx) => {
      for (let i = 0; i < 3; i++) {
        const { rows } = await sql<{ x: number }>`SELECT ${i}::int AS x`.execute(trx);
        assert.deepEqual(rows, [{ x: i }]);
      }
    });
    assert.deepEqual(statements, ['SELECT $1::int AS x']);
  });

  test('statements without parameters, or with very many, stay unnamed', async (t) => {
    const database = await testDatabase<unknown>(t, null);
    const many = Array.from({ length: 65 }, (_, i) => sql`${i}::int`);
    const statements = await preparedOn(database.db, async (trx) => {
      await sql`SELECT 1 AS one`.execute(trx);
      await sql`SELECT ${sql.join(many)}`.execute(trx);
    });
    assert.deepEqual(statements, []);
  });

  test('a statement that fails to parse fails the same way again, not as an unknown statement', async (t) => {
    const database = await testDatabase<unknown>(t, null);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(sql`SELEC ${i}::int`.execute(database.db), (err: Error) =>
        /syntax error/.test(err.message),
      );
    }
    const { rows } = await sql<{ x: number }>`SELECT ${7}::int AS x`.execute(database.db);
    assert.deepEqual(rows, [{ x: 7 }]);
  });

  test('a table changed under a prepared statement: retried at once outside a transaction, on the next try inside one', async (t) => {
    const database = await testDatabase<unknown>(t, null);
    const db = database.db;
    await database.exec(
      'CREATE TABLE widgets (id int PRIMARY KEY); INSERT INTO widgets VALUES (1);',
    );
    const read = (on: Kysely<unknown>) =>
      sql<Record<string, unknown>>`SELECT * FROM widgets WHERE id = ${1}`.execute(on);
    // One thing at a time, so the pool holds one connection and everything runs on it.
    await db.transaction().execute(async (trx) => {
      assert.deepEqual((await read(trx)).rows, [{ id: 1 }]);
    });
    await database.exec('ALTER TABLE widgets ADD COLUMN colour text');
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await read(trx);
      }),
      /cached plan must not change result type/,
    );
    await db.transaction().execute(async (trx) => {
      assert.deepEqual((await read(trx)).rows, [{ id: 1, colour: null }]);
    });

    await database.exec('ALTER TABLE widgets ADD COLUMN size int');
    assert.deepEqual((await read(db)).rows, [{ id: 1, colour: null, size: null }]);
  });

  test('preparedStatements: false leaves every statement unnamed (for poolers that cannot keep them)', async (t) => {
    const database = await openDatabase<unknown>({ url: databaseUrl, preparedStatements: false });
    t.after(() => database.close());
    const statements = await preparedOn(database.db, async (trx) => {
      await sql`SELECT ${1}::int AS x`.execute(trx);
      await sql`SELECT ${1}::int AS x`.execute(trx);
    });
    assert.deepEqual(statements, []);
  });
}
