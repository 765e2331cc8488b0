/**
 * The tenant pool's memo, against a fake pool (the rule is the wrapper's, not the server's; the
 * real sessions are proven in row-level-security.test.ts): the tenant is sent to a connection,
 * just ahead of the checkout's first statement, only when it last served another one; a failed
 * setting fails the statement behind it and is sent again next time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import {
  SET_TENANT_SQL,
  tenantSessionPool,
} from '../../../src/platform/database/tenant-sessions.ts';

function fakePool() {
  const sent: string[] = [];
  let failNext = false;
  const client = {
    query: (text: string, parameters: readonly unknown[]) => {
      sent.push(text === SET_TENANT_SQL ? `set ${String(parameters[0])}` : text);
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('connection lost'));
      }
      return Promise.resolve({ command: 'SELECT', rowCount: 1, rows: [] });
    },
    release: () => {},
  } as unknown as PostgresPoolClient;
  const pool: PostgresPool = {
    options: {},
    connect: () => Promise.resolve(client),
    end: () => Promise.resolve(),
  };
  return { pool, sent, failNextQuery: () => void (failNext = true) };
}

async function checkout(pool: PostgresPool, tenant: string, statements = ['SELECT 1']) {
  const client = await pool.connect();
  try {
    await client.query(SET_TENANT_SQL, [tenant]);
    for (const statement of statements) await client.query(statement, []);
  } finally {
    client.release();
  }
}

test('the tenant goes to a connection only when it served another tenant last', async () => {
  const fake = fakePool();
  const pool = tenantSessionPool(fake.pool);
  for (const tenant of ['a', 'a', 'b', 'b', 'a']) await checkout(pool, tenant);
  assert.deepEqual(fake.sent, [
    'set a',
    'SELECT 1',
    'SELECT 1',
    'set b',
    'SELECT 1',
    'SELECT 1',
    'set a',
    'SELECT 1',
  ]);
});

test('a failed tenant setting is sent again on the next checkout', async () => {
  const fake = fakePool();
  const pool = tenantSessionPool(fake.pool);
  await checkout(pool, 'a');
  fake.failNextQuery();
  // The statement was pipelined behind the setting: it ran, but its result is not the caller's.
  await assert.rejects(checkout(pool, 'b', ['SELECT 2']), /connection lost/);
  await checkout(pool, 'a');
  assert.deepEqual(fake.sent, ['set a', 'SELECT 1', 'set b', 'SELECT 2', 'set a', 'SELECT 1']);
});

test('a checkout that runs no statement sends no tenant, and leaves none for the next one', async () => {
  const fake = fakePool();
  const pool = tenantSessionPool(fake.pool);
  await checkout(pool, 'a');
  await checkout(pool, 'b', []);
  await checkout(pool, 'a');
  assert.deepEqual(fake.sent, ['set a', 'SELECT 1', 'SELECT 1']);
});
