/** One relay leads a table: the lock key is the table's, and a second contender stands by. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createLeadership, lockKeyOf } from '../../../src/messaging/outbox/leadership.ts';
import { AppError } from '../../../src/platform/index.ts';
import { databaseUrl, testDatabase } from '../../support/database.ts';
import { waitUntil } from '../../support/kafka.ts';
import { cleanupStack, type OutboxDB } from '../fixtures.ts';
import { captureLogs, INFO, WARN } from './fixtures.ts';

test('lockKeyOf refuses a table that does not exist', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  await assert.rejects(
    lockKeyOf(database, 'no_such_outbox'),
    (err) =>
      err instanceof AppError &&
      err.code === 'ERP_OUTBOX_UNKNOWN_TABLE' &&
      err.context['table'] === 'no_such_outbox',
  );
});

test('the lock key is the table itself: stable for it, different for a same-named table elsewhere', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const key = await lockKeyOf(database, 'outbox');
  assert.match(key, /^erp-outbox-relay:\d+$/);
  assert.equal(await lockKeyOf(database, 'outbox'), key);
  const other = `o_${randomBytes(4).toString('hex')}`;
  await database.exec(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.outbox (position bigint)`);
  try {
    const elsewhere = await lockKeyOf(database, `${other}.outbox`);
    assert.notEqual(elsewhere, key);
  } finally {
    // Outside the test's own schema: not dropped with it (and after() hooks run after the close).
    await database.exec(`DROP SCHEMA ${other} CASCADE`);
  }
});

test('two contenders on one key: the first leads, the second stands by until the first releases', async (t) => {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const key = await lockKeyOf(database, 'outbox');
  const a = captureLogs();
  const b = captureLogs();
  const first = createLeadership(database, key, a.logger);
  const second = createLeadership(database, key, b.logger);
  c.after(async () => {
    await first.release();
    await second.release();
  });
  assert.equal(first.held(), false);

  assert.equal(await first.acquire(), true);
  assert.equal(first.held(), true);
  assert.equal(await first.acquire(), true, 'already held');
  assert.equal(await second.acquire(), false);
  assert.equal(await second.acquire(), false);
  assert.equal(second.held(), false);
  assert.deepEqual(
    b.lines.map((l) => [l.level, l.msg]),
    [[INFO, 'another outbox relay leads this table; standing by']],
    'standing by is logged once, not at every try',
  );

  await first.release();
  assert.equal(first.held(), false);
  assert.equal(await second.acquire(), true);
  assert.equal(second.held(), true);
  assert.equal(b.lines.at(-1)?.msg, 'outbox relay leads this table');
  assert.equal(await first.acquire(), false, 'now the first stands by');
  assert.equal(
    a.lines.filter((l) => l.level >= WARN).length,
    0,
    'releasing is not losing leadership',
  );
});

// PGlite holds its lock in-process: there is no connection to lose, so this runs in the suite's
// PostgreSQL pass only (CI runs both).
if (databaseUrl !== undefined) {
  test('a leader whose lock connection ends loses leadership at once and says so', async (t) => {
    const c = cleanupStack(t);
    const database = await testDatabase<OutboxDB>(c, 'sales');
    const key = await lockKeyOf(database, 'outbox');
    const { logger, lines } = captureLogs();
    const leader = createLeadership(database, key, logger);
    c.after(() => leader.release());
    assert.equal(await leader.acquire(), true);
    // The server ends the session holding the advisory lock (hashtext(key), as a bigint key).
    const { rows } = await sql<{ ended: boolean }>`
      SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
      WHERE locktype = 'advisory' AND objsubid = 1
        AND classid::text::bigint = ((hashtext(${key})::bigint >> 32) & 4294967295)
        AND objid::text::bigint = (hashtext(${key})::bigint & 4294967295)`.execute(database.db);
    assert.deepEqual(rows, [{ ended: true }]);
    await waitUntil('the lock connection gone', () => !leader.held(), 10_000);
    assert.equal(await leader.acquire(), true, 'nobody else leads: taken again');
    assert.equal(
      lines
        .filter((l) => l.level >= WARN)
        .map((l) => l.msg)
        .join(),
      'outbox relay lost leadership (its lock connection ended)',
    );
  });
}
