/**
 * The database boundary's verdicts: unit rules on driver-shaped errors, and real errors from both
 * engines coming out of Kysely (queries, COMMIT) already coded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { ContractError } from '../../../src/contract/index.ts';
import {
  AppError,
  isOutage,
  isRetryable,
  isUniqueViolation,
  toDatabaseError,
} from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';

const withCode = (code: string, message = `code ${code}`) =>
  Object.assign(new Error(message), { code });

const coded = (err: unknown): AppError => {
  const result = toDatabaseError(err);
  assert.ok(result instanceof AppError, `${String(err)} is coded`);
  return result;
};

test('connection-level failures are outages: SQLSTATE class 08, 57P01-03, errnos, pg messages', () => {
  for (const err of [
    withCode('08006'),
    withCode('08001'),
    withCode('57P01'),
    withCode('57P03'),
    withCode('53300'),
    withCode('ECONNREFUSED'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client has encountered a connection error and is not queryable'),
    new AggregateError([withCode('ECONNREFUSED')], 'all addresses failed'),
    new Error('wrapped', { cause: withCode('57P01') }),
  ]) {
    const e = coded(err);
    assert.equal(e.code, 'ERP_DB_CONNECTION_LOST', String(err));
    assert.equal(isOutage(e), true, String(err));
    assert.equal(isRetryable(e), true, String(err));
  }
});

test('serialization failures and deadlocks are retryable conflicts, not outages', () => {
  for (const code of ['40001', '40P01']) {
    const e = coded(withCode(code));
    assert.equal(e.code, 'ERP_DB_CONFLICT');
    assert.deepEqual([e.retryable, e.outage, e.context['sqlstate']], [true, false, code]);
  }
});

test('a unique violation names its constraint, also when only the message does (PGlite)', () => {
  const pg = coded(Object.assign(withCode('23505', 'duplicate key'), { constraint: 'x_key' }));
  assert.equal(pg.code, 'ERP_DB_UNIQUE_VIOLATION');
  assert.equal(isUniqueViolation(pg, 'x_key'), true);
  const lite = coded(withCode('23505', 'duplicate key value violates unique constraint "y_key"'));
  assert.equal(isUniqueViolation(lite, 'y_key'), true);
  assert.equal(isUniqueViolation(lite, 'x_key'), false);
  assert.equal(lite.retryable, false);
});

test('other statement errors keep their SQLSTATE and are not retryable', () => {
  const e = coded(withCode('22003', 'value "2200000000" is out of range for type integer'));
  assert.equal(e.code, 'ERP_DB_STATEMENT_FAILED');
  assert.match(e.message, /out of range.*\(SQLSTATE 22003\)/);
  assert.deepEqual([e.retryable, e.outage, e.context['sqlstate']], [false, false, '22003']);
});

test('what is not a driver error passes unchanged: our verdicts, contract errors, bugs', () => {
  const ours = new AppError('ERP_TEST_REFUSED', 'no', { cause: withCode('08006') });
  const contract = new ContractError('ERP_EVT_MALFORMED_JSON', 'not json');
  const bug = new TypeError('x is undefined');
  for (const err of [ours, contract, bug, 'text', undefined]) {
    assert.equal(toDatabaseError(err), err);
  }
  assert.equal(isRetryable(ours), false, 'our own verdict wins over its cause');
});

test('errors out of Kysely are already coded, in a statement and at COMMIT', async (t) => {
  const database = await testDatabase(t, null);
  const { db } = database;
  await assert.rejects(sql`SELECT 1/0`.execute(db), {
    code: 'ERP_DB_STATEMENT_FAILED',
    context: { sqlstate: '22012' },
  });
  await assert.rejects(
    sql`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$`.execute(
      db,
    ),
    (err: AppError) => err.code === 'ERP_DB_CONFLICT' && err.retryable,
  );
  await sql`CREATE TABLE u (id int PRIMARY KEY)`.execute(db);
  await sql`INSERT INTO u VALUES (1)`.execute(db);
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await sql`INSERT INTO u VALUES (1)`.execute(trx);
    }),
    (err: unknown) => isUniqueViolation(err, 'u_pkey'),
  );
  // A deferred constraint fails at COMMIT, outside any statement of ours.
  await sql`CREATE TABLE d (id int, CONSTRAINT d_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`.execute(
    db,
  );
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await sql`INSERT INTO d VALUES (1), (1)`.execute(trx);
    }),
    (err: unknown) => isUniqueViolation(err, 'd_once'),
  );
  // The connection is usable afterwards.
  assert.equal((await sql<{ x: number }>`SELECT 1 AS x`.execute(db)).rows[0]?.x, 1);
});
