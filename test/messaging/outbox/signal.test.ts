import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pino from 'pino';
import { createOutboxSignal } from '../../../src/messaging/outbox/signal.ts';
import { testDatabase } from '../../support/database.ts';
import { uniqueName, waitUntil } from '../../support/kafka.ts';

const logger = pino({ level: 'silent' });

function fakeRelay(leads: boolean) {
  const relay = {
    wakes: 0,
    leading: leads,
    wake: () => void relay.wakes++,
    leads: () => relay.leading,
  };
  return relay;
}

async function listening(t: Parameters<typeof testDatabase>[0]) {
  const database = await testDatabase(t, null);
  const channel = uniqueName('signal_test').replaceAll('-', '_');
  const notified: string[] = [];
  t.after(await database.listen(channel, (payload) => notified.push(payload)));
  return { database, channel, notified };
}

test('a relay that leads is woken in-process and no NOTIFY is sent', async (t) => {
  const { database, channel, notified } = await listening(t);
  const relay = fakeRelay(true);
  const signal = createOutboxSignal({ database, channel, relay, logger });
  for (let i = 0; i < 5; i++) signal.committed();
  await signal.close();
  await sleep(200);
  assert.equal(relay.wakes, 5);
  assert.deepEqual(notified, []);
});

test('when another process leads, commits are NOTIFYed, coalesced while one is in flight', async (t) => {
  const { database, channel, notified } = await listening(t);
  const relay = fakeRelay(false);
  const signal = createOutboxSignal({ database, channel, relay, logger });
  for (let i = 0; i < 50; i++) signal.committed();
  await waitUntil('a notification', () => notified.length >= 1, 5000);
  await signal.close();
  await sleep(200);
  assert.equal(relay.wakes, 50, 'the local relay is still woken');
  // The first call sends one; the 49 made while it was in flight share exactly one more.
  assert.equal(notified.length, 2);

  // Later commits notify again: the coalescing holds only while a NOTIFY is in flight.
  const again = createOutboxSignal({ database, channel, logger });
  again.committed();
  await waitUntil('a third notification', () => notified.length === 3, 5000);
  await again.close();
});

test('after close() nothing more is sent', async (t) => {
  const { database, channel, notified } = await listening(t);
  const signal = createOutboxSignal({ database, channel, logger });
  await signal.close();
  signal.committed();
  await sleep(200);
  assert.deepEqual(notified, []);
});

test('a failing NOTIFY is swallowed: the signal never throws and relays fall back to polling', async (t) => {
  const database = await testDatabase(t, null);
  // pg_notify refuses an empty channel name.
  const signal = createOutboxSignal({ database, channel: '', logger });
  signal.committed();
  signal.committed();
  await signal.close();
  const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
  assert.deepEqual(rows, [{ one: 1 }], 'the pool is still usable');
});
