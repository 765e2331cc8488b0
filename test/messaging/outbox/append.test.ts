import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Envelope } from '../../../src/contract/index.ts';
import { appendToOutbox, type OutboxRow } from '../../../src/messaging/outbox/append.ts';
import { testDatabase } from '../../support/database.ts';
import type { OutboxDB } from '../fixtures.ts';

function row(key: string, seq: number): OutboxRow {
  const eventId = randomUUID();
  const envelope: Envelope = {
    metadata: {
      event_id: eventId,
      event_type: 'test.happened',
      event_version: '1.0',
      timestamp: '2025-01-02T03:04:05.678Z',
      source_service: 'outbox-test',
      tenant_id: 'tenant-a',
      correlation_id: eventId,
      priority: 'low',
    },
    payload: { seq, text: 'ünïcode "quoted"', nested: { list: [1, 2.5, null] } },
  };
  return {
    eventId,
    tenantId: 'tenant-a',
    eventType: 'test.happened',
    topic: 'some-topic',
    key,
    envelope,
    headers: { event_id: eventId, seq: String(seq) },
    occurredAt: new Date('2025-01-02T03:04:05.678Z'),
  };
}

test('appendToOutbox stores every column in the given order; a rollback leaves nothing', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const rows = [row('k1', 0), row('k2', 1), row('k1', 2)];
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', rows));

  const stored = await database.db.selectFrom('outbox').selectAll().orderBy('position').execute();
  assert.equal(stored.length, 3);
  stored.forEach((s, i) => {
    const r = rows[i]!;
    assert.equal(s.event_id, r.eventId);
    assert.equal(s.tenant_id, r.tenantId);
    assert.equal(s.event_type, r.eventType);
    assert.equal(s.topic, r.topic);
    assert.equal(s.message_key, r.key);
    assert.deepEqual(s.envelope, r.envelope);
    assert.deepEqual(s.headers, r.headers);
    assert.equal(new Date(s.occurred_at).getTime(), r.occurredAt.getTime());
    assert.equal(s.published_at, null);
    if (i > 0) assert.ok(s.position > stored[i - 1]!.position);
  });

  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      await appendToOutbox(trx, 'outbox', [row('k3', 3)]);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  const count = await database.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(Number(count.n), 3);
});

test('appendToOutbox splits large appends into several statements and keeps the order', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  const rows = Array.from({ length: 2500 }, (_, i) => row(`k${i % 7}`, i));
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', rows));
  const stored = await database.db
    .selectFrom('outbox')
    .select(['event_id', 'position'])
    .orderBy('position')
    .execute();
  assert.deepEqual(
    stored.map((s) => s.event_id),
    rows.map((r) => r.eventId),
  );
});

test('appendToOutbox with no rows writes nothing', async (t) => {
  const database = await testDatabase<OutboxDB>(t, 'sales');
  await database.db.transaction().execute((trx) => appendToOutbox(trx, 'outbox', []));
  const count = await database.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(Number(count.n), 0);
});
