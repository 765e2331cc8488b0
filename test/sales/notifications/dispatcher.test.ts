import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import type { TestContext } from 'node:test';
import type { Priority } from '../../../src/contract/index.ts';
import { AppError } from '../../../src/platform/index.ts';
import type { SalesDB } from '../../../src/sales/db.ts';
import type {
  Notification,
  NotificationChannel,
} from '../../../src/sales/notifications/channel.ts';
import { createNotificationDispatcher } from '../../../src/sales/notifications/dispatcher.ts';
import type { NotificationDispatcherOptions } from '../../../src/sales/notifications/dispatcher.ts';
import {
  insertNotificationsQuery,
  newNotificationRow,
} from '../../../src/sales/notifications-repository.ts';
import type { NewNotification } from '../../../src/sales/notifications-repository.ts';
import { testDatabase } from '../../support/database.ts';
import { silentLogger } from '../fixtures.ts';

const T0 = new Date('2024-03-10T12:00:00Z');

async function insertNotifications(
  db: Kysely<SalesDB>,
  tenantId: string,
  notifications: NewNotification[],
  at: Date,
): Promise<void> {
  await insertNotificationsQuery(
    db,
    notifications.map((n) => newNotificationRow(tenantId, n, at)),
  ).execute();
}

/** A channel of our own interface that records calls and fails as told (no external system). */
function recordingChannel(
  name: string,
  fail?: () => Error,
): NotificationChannel & { sent: Notification[] } {
  const sent: Notification[] = [];
  return {
    name,
    sent,
    send(n) {
      if (fail !== undefined) return Promise.reject(fail());
      sent.push(n);
      return Promise.resolve();
    },
  };
}

async function setup(
  t: TestContext,
  channels: NotificationChannel[],
  rows: { channel: string; priority?: Priority }[],
  options: Partial<NotificationDispatcherOptions> = {},
) {
  const database = await testDatabase<SalesDB>(t, 'sales');
  let clock = T0.getTime();
  await database.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('alerts')
      .values({
        id: 'alert-1',
        tenant_id: 'tenant-a',
        product_id: 'P1',
        product_sku: 'SKU',
        product_name: 'Thing',
        status: 'open',
        priority: 'high',
        current_stock: 1,
        reorder_level: 10,
        pending_order_quantity: 0,
        days_of_stock_remaining: null,
        source_event_id: 'evt-1',
        opened_at: T0,
        updated_at: T0,
        acknowledged_at: null,
      })
      .execute();
    await insertNotifications(
      trx,
      'tenant-a',
      rows.map((r) => ({
        alertId: 'alert-1',
        channel: r.channel,
        priority: r.priority ?? 'high',
        message: 'Low stock HIGH',
      })),
      T0,
    );
  });
  const dispatcher = createNotificationDispatcher({
    database,
    channels,
    logger: silentLogger,
    now: () => new Date(clock),
    ...options,
  });
  t.after(() => dispatcher.stop());
  const rowsNow = () =>
    database.db
      .selectFrom('notifications')
      .select(['channel', 'status', 'attempts', 'last_error', 'next_attempt_at', 'sent_at'])
      .orderBy('channel')
      .execute();
  return {
    database,
    dispatcher,
    rowsNow,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

test('delivers pending notifications and marks them sent', async (t) => {
  const log = recordingChannel('log');
  const s = await setup(t, [log], [{ channel: 'log' }]);
  assert.equal(await s.dispatcher.deliverDue(), 1);
  assert.equal(log.sent.length, 1);
  assert.equal(log.sent[0]?.tenantId, 'tenant-a');
  assert.equal(log.sent[0]?.alertId, 'alert-1');
  const [row] = await s.rowsNow();
  assert.equal(row?.status, 'sent');
  assert.equal(row?.attempts, 1);
  assert.deepEqual(row?.sent_at, T0);
  assert.equal(await s.dispatcher.deliverDue(), 0);
});

test('a retryable failure waits for the backoff, then fails for good after the policy attempts', async (t) => {
  const hook = recordingChannel('webhook', () => new AppError('X', 'down', { retryable: true }));
  const s = await setup(t, [hook], [{ channel: 'webhook' }], {
    retryPolicy: { attempts: 3, initialDelayMs: 1_000, maxDelayMs: 1_500 },
  });
  assert.equal(await s.dispatcher.deliverDue(), 1);
  let [row] = await s.rowsNow();
  assert.equal(row?.status, 'pending');
  assert.equal(row?.attempts, 1);
  assert.equal(row?.last_error, 'down');
  assert.deepEqual(row?.next_attempt_at, new Date(T0.getTime() + 1_000));

  // Not due yet.
  s.advance(999);
  assert.equal(await s.dispatcher.deliverDue(), 0);
  s.advance(1);
  assert.equal(await s.dispatcher.deliverDue(), 1);
  [row] = await s.rowsNow();
  assert.equal(row?.attempts, 2);
  // Capped at maxMs.
  assert.deepEqual(row?.next_attempt_at, new Date(T0.getTime() + 1_000 + 1_500));

  s.advance(1_500);
  assert.equal(await s.dispatcher.deliverDue(), 1);
  [row] = await s.rowsNow();
  assert.equal(row?.status, 'failed');
  assert.equal(row?.attempts, 3);
  s.advance(60_000);
  assert.equal(await s.dispatcher.deliverDue(), 0);
});

test('a final failure or an unknown channel fails at once', async (t) => {
  const hook = recordingChannel(
    'webhook',
    () => new AppError('X', 'refused', { retryable: false }),
  );
  const s = await setup(t, [hook], [{ channel: 'webhook' }, { channel: 'pager' }]);
  assert.equal(await s.dispatcher.deliverDue(), 2);
  const rows = await s.rowsNow();
  assert.deepEqual(
    rows.map((r) => [r.channel, r.status, r.attempts, r.last_error]),
    [
      ['pager', 'failed', 1, 'no channel named pager is configured'],
      ['webhook', 'failed', 1, 'refused'],
    ],
  );
});

test('a claimed notification is not sent twice while its send is in flight', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const calls: string[] = [];
  const slow: NotificationChannel = {
    name: 'slow',
    async send(n) {
      calls.push(n.id);
      await gate;
    },
  };
  const s = await setup(t, [slow], [{ channel: 'slow' }]);
  const first = s.dispatcher.deliverDue();
  while (calls.length === 0) await sleep(5);
  assert.equal(await s.dispatcher.deliverDue(), 0);
  release();
  assert.equal(await first, 1);
  assert.equal(calls.length, 1);
  assert.equal((await s.rowsNow())[0]?.status, 'sent');
});

test('start delivers what is due, and kick delivers what was committed later', async (t) => {
  const log = recordingChannel('log');
  const s = await setup(t, [log], [{ channel: 'log' }], { pollIntervalMs: 60_000 });
  s.dispatcher.start();
  for (let i = 0; i < 200 && log.sent.length < 1; i++) await sleep(10);
  assert.equal(log.sent.length, 1);

  await insertNotifications(
    s.database.db,
    'tenant-a',
    [{ alertId: 'alert-1', channel: 'log', priority: 'critical', message: 'again' }],
    T0,
  );
  s.dispatcher.kick();
  for (let i = 0; i < 200 && log.sent.length < 2; i++) await sleep(10);
  assert.deepEqual(
    log.sent.map((n) => n.message),
    ['Low stock HIGH', 'again'],
  );
  await s.dispatcher.stop();
  // Stopped: a kick does nothing.
  await insertNotifications(
    s.database.db,
    'tenant-a',
    [{ alertId: 'alert-1', channel: 'log', priority: 'critical', message: 'late' }],
    T0,
  );
  s.dispatcher.kick();
  await sleep(50);
  assert.equal(log.sent.length, 2);
});

test('options are validated when the dispatcher is created, naming the field', () => {
  for (const [options, field] of [
    [{ batchSize: 0 }, 'batchSize'],
    [{ pollIntervalMs: 1.5 }, 'pollIntervalMs'],
    [{ retryPolicy: { attempts: 0 } }, 'attempts'],
    [{ retryPolicy: { maxAttemps: 3 } }, 'maxAttemps'],
  ] as const) {
    assert.throws(
      () =>
        createNotificationDispatcher({
          database: { db: undefined } as never,
          channels: [],
          logger: silentLogger,
          ...(options as object),
        }),
      (err: { code: string; context: { field: string } }) =>
        err.code === 'ERP_INVALID_OPTIONS' && err.context.field === field,
      JSON.stringify(options),
    );
  }
});
