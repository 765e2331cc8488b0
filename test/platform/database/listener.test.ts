/**
 * LISTEN connections are PostgreSQL's (PGlite's listen never loses a connection), so these run
 * in the suite's PostgreSQL pass (`DATABASE_URL=… npm test`, which CI runs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { databaseUrl, testDatabase } from '../../support/database.ts';
import { uniqueName, waitUntil } from '../../support/kafka.ts';

if (databaseUrl !== undefined) {
  test('a LISTEN connection that the server drops comes back, says so once, and hears the next NOTIFY', async (t) => {
    const database = await testDatabase<unknown>(t, null);
    const channel = uniqueName('listen_test').replaceAll('-', '_');
    const heard: string[] = [];
    t.after(await database.listen(channel, (payload) => heard.push(payload)));
    const notify = (payload: string) =>
      sql`SELECT pg_notify(${channel}, ${payload})`.execute(database.db);

    await notify('before');
    await waitUntil('the first notification', () => heard.length === 1, 5000);

    const killed = await sql<{ ok: boolean }>`
      SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE query = ${`LISTEN "${channel}"`}`.execute(database.db);
    assert.deepEqual(killed.rows, [{ ok: true }]);
    // The reconnection announces itself with an empty payload (notifications may have been missed).
    await waitUntil('the reconnection', () => heard.length === 2, 10_000);
    await notify('after');
    await waitUntil('the notification after it', () => heard.length === 3, 5000);
    assert.deepEqual(heard, ['before', '', 'after']);
  });

  test('after stop() nothing is heard and nothing reconnects', async (t) => {
    const database = await testDatabase<unknown>(t, null);
    const channel = uniqueName('listen_stop').replaceAll('-', '_');
    const heard: string[] = [];
    const stop = await database.listen(channel, (payload) => heard.push(payload));
    await stop();
    await sql`SELECT pg_notify(${channel}, 'x')`.execute(database.db);
    await sleep(300);
    const listening = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = ${`LISTEN "${channel}"`}`.execute(
      database.db,
    );
    assert.deepEqual(heard, []);
    assert.deepEqual(listening.rows, [{ n: 0 }]);
  });
}
