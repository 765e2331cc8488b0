import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEnvelope, decodeEvent } from '../../../src/contract/index.ts';
import type { SalesDB } from '../../../src/sales/db.ts';
import { getForecast } from '../../../src/sales/forecasts-repository.ts';
import {
  createLowStockBatchHandler,
  createLowStockHandler,
} from '../../../src/sales/handlers/low-stock.ts';
import type { LowStockHandlerOptions } from '../../../src/sales/handlers/low-stock.ts';
import { createOrder } from '../../../src/sales/orders-repository.ts';
import { recordOutflow } from '../../../src/sales/forecasts-repository.ts';
import { testDatabase } from '../../support/database.ts';
import { DAY_MS, inTransaction, lowStockEvent } from '../fixtures.ts';

const NOW = new Date('2024-03-10T12:00:00Z');

async function setup(
  t: Parameters<typeof testDatabase>[0],
  extra: Partial<LowStockHandlerOptions> = {},
) {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const kicks: string[] = [];
  const handler = createLowStockHandler({
    salesTopic: 'sales-events-test',
    notificationChannels: ['log', 'webhook'],
    dispatcher: { kick: () => kicks.push('kick') },
    now: () => NOW,
    ...extra,
  });
  const alerts = (tenant: string) =>
    database.db.selectFrom('alerts').selectAll().where('tenant_id', '=', tenant).execute();
  const history = (tenant: string) =>
    database.db
      .selectFrom('alert_history')
      .select(['change', 'priority', 'event_id'])
      .where('tenant_id', '=', tenant)
      .orderBy('id')
      .execute();
  const notifications = (tenant: string) =>
    database.db
      .selectFrom('notifications')
      .selectAll()
      .where('tenant_id', '=', tenant)
      .orderBy('channel')
      .execute();
  const outbox = () => database.db.selectFrom('outbox').selectAll().orderBy('position').execute();
  const order = (tenant: string, product: string, quantity: number) =>
    database.db
      .transaction()
      .execute((trx) =>
        createOrder(
          trx,
          tenant,
          { customer: 'ACME', lines: [{ product_id: product, quantity }] },
          NOW,
        ),
      );
  return { database, handler, kicks, alerts, history, notifications, outbox, order };
}

test('opens a medium alert for a product Sales has never seen, from the payload alone', async (t) => {
  const s = await setup(t);
  const event = lowStockEvent('tenant-a', {
    product_id: 'NEW-1',
    current_stock: 8,
    reorder_level: 10,
  });
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(event, ctx));

  const [alert, ...rest] = await s.alerts('tenant-a');
  assert.equal(rest.length, 0);
  assert.ok(alert);
  assert.equal(alert.product_id, 'NEW-1');
  assert.equal(alert.product_sku, 'LAP-001');
  assert.equal(alert.status, 'open');
  assert.equal(alert.priority, 'medium');
  assert.equal(alert.current_stock, 8);
  assert.equal(alert.pending_order_quantity, 0);
  assert.equal(alert.source_event_id, event.metadata.event_id);
  assert.deepEqual(await s.history('tenant-a'), [
    { change: 'opened', priority: 'medium', event_id: event.metadata.event_id },
  ]);
  // Medium: no notification, but the alert is news for other services.
  assert.deepEqual(await s.notifications('tenant-a'), []);
  assert.equal((await s.outbox()).length, 1);
  // Only the outbox signal would be registered; none was given, no dispatcher kick either.
  assert.equal(callbacks.length, 0);
});

test('appends sales.low_stock_alert_raised with the contract envelope, keyed by product', async (t) => {
  const s = await setup(t);
  const event = lowStockEvent('tenant-a', { current_stock: 8, reorder_level: 10 }, 'corr-42');
  await inTransaction(s.database, (ctx) => s.handler(event, ctx));
  const [row] = await s.outbox();
  assert.ok(row);
  assert.equal(row.tenant_id, 'tenant-a');
  assert.equal(row.event_type, 'sales.low_stock_alert_raised');
  assert.equal(row.topic, 'sales-events-test');
  assert.equal(row.message_key, 'PRD-1');
  assert.equal(row.published_at, null);

  const decoded = decodeEvent(decodeEnvelope(JSON.stringify(row.envelope)));
  assert.ok(decoded.known && decoded.type === 'sales.low_stock_alert_raised');
  const { metadata, payload } = decoded.event;
  const [alert] = await s.alerts('tenant-a');
  assert.equal(metadata.event_id, row.event_id);
  assert.equal(metadata.source_service, 'sales-service');
  assert.equal(metadata.tenant_id, 'tenant-a');
  assert.equal(metadata.correlation_id, 'corr-42');
  assert.equal(metadata.priority, 'medium');
  assert.equal(payload.alert_id, alert?.id);
  assert.equal(payload.priority, 'medium');
  assert.equal(payload.previous_priority, null);
  assert.equal(payload.source_event_id, event.metadata.event_id);
  assert.equal(payload.pending_order_quantity, 0);
  assert.deepEqual(row.headers, {
    event_id: row.event_id,
    event_type: 'sales.low_stock_alert_raised',
    event_version: '1.0',
    tenant_id: 'tenant-a',
    correlation_id: 'corr-42',
  });
});

test('escalates medium to high when pending orders exceed stock, and notifies', async (t) => {
  const s = await setup(t);
  const first = lowStockEvent('tenant-a', { current_stock: 8, reorder_level: 10 });
  await inTransaction(s.database, (ctx) => s.handler(first, ctx));
  await s.order('tenant-a', 'PRD-1', 6);
  await s.order('tenant-a', 'PRD-1', 3);
  // Another tenant's and another product's orders do not count.
  await s.order('tenant-b', 'PRD-1', 100);
  await s.order('tenant-a', 'PRD-2', 100);

  const second = lowStockEvent('tenant-a', { current_stock: 8, reorder_level: 10 });
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(second, ctx));

  const alerts = await s.alerts('tenant-a');
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.priority, 'high');
  assert.equal(alerts[0]?.pending_order_quantity, 9);
  assert.equal(alerts[0]?.source_event_id, second.metadata.event_id);
  assert.deepEqual(await s.history('tenant-a'), [
    { change: 'opened', priority: 'medium', event_id: first.metadata.event_id },
    { change: 'escalated', priority: 'high', event_id: second.metadata.event_id },
  ]);

  const notifications = await s.notifications('tenant-a');
  assert.deepEqual(
    notifications.map((n) => [n.channel, n.status, n.priority, n.attempts, n.alert_id]),
    [
      ['log', 'pending', 'high', 0, alerts[0]?.id],
      ['webhook', 'pending', 'high', 0, alerts[0]?.id],
    ],
  );
  assert.match(notifications[0]?.message ?? '', /escalated to HIGH.*9 on pending orders/);

  const outbox = await s.outbox();
  assert.equal(outbox.length, 2);
  const raised = decodeEvent(decodeEnvelope(JSON.stringify(outbox[1]?.envelope)));
  assert.ok(raised.known && raised.type === 'sales.low_stock_alert_raised');
  assert.equal(raised.event.payload.priority, 'high');
  assert.equal(raised.event.payload.previous_priority, 'medium');
  assert.equal(raised.event.metadata.priority, 'high');

  assert.equal(callbacks.length, 1);
  await callbacks[0]?.();
  assert.deepEqual(s.kicks, ['kick']);
});

test('updates figures without lowering an open alert, and neither notifies nor publishes', async (t) => {
  const s = await setup(t);
  const first = lowStockEvent('tenant-a', { current_stock: 3, reorder_level: 10 });
  await inTransaction(s.database, (ctx) => s.handler(first, ctx));
  assert.equal((await s.notifications('tenant-a')).length, 2);

  const second = lowStockEvent('tenant-a', { current_stock: 9, reorder_level: 10 });
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(second, ctx));

  const [alert] = await s.alerts('tenant-a');
  assert.equal(alert?.priority, 'high');
  assert.equal(alert?.current_stock, 9);
  assert.deepEqual(
    (await s.history('tenant-a')).map((h) => [h.change, h.priority]),
    [
      ['opened', 'high'],
      ['updated', 'high'],
    ],
  );
  assert.equal((await s.notifications('tenant-a')).length, 2);
  assert.equal((await s.outbox()).length, 1);
  assert.equal(callbacks.length, 0);
});

test('an acknowledged alert does not absorb the next event: a new alert opens', async (t) => {
  const s = await setup(t);
  await inTransaction(s.database, (ctx) => s.handler(lowStockEvent('tenant-a'), ctx));
  await s.database.db.updateTable('alerts').set({ status: 'acknowledged' }).execute();
  await inTransaction(s.database, (ctx) => s.handler(lowStockEvent('tenant-a'), ctx));
  const alerts = await s.alerts('tenant-a');
  assert.deepEqual(alerts.map((a) => a.status).sort(), ['acknowledged', 'open']);
});

test('notifies for critical alerts on every configured channel only', async (t) => {
  const s = await setup(t, { notificationChannels: ['log'] });
  await inTransaction(s.database, (ctx) =>
    s.handler(lowStockEvent('tenant-a', { current_stock: 0 }), ctx),
  );
  const notifications = await s.notifications('tenant-a');
  assert.deepEqual(
    notifications.map((n) => [n.channel, n.priority]),
    [['log', 'critical']],
  );
});

test('forecasts from outflow history in the window, net of pending orders', async (t) => {
  const s = await setup(t);
  await s.database.db.transaction().execute(async (trx) => {
    await recordOutflow(trx, 'tenant-a', 'PRD-1', 30, new Date(NOW.getTime() - 10 * DAY_MS));
    await recordOutflow(trx, 'tenant-a', 'PRD-1', 10, new Date(NOW.getTime() - 2 * DAY_MS));
    // Outside the window, another product, another tenant: none of them count.
    await recordOutflow(trx, 'tenant-a', 'PRD-1', 500, new Date(NOW.getTime() - 40 * DAY_MS));
    await recordOutflow(trx, 'tenant-a', 'PRD-2', 500, new Date(NOW.getTime() - 1 * DAY_MS));
    await recordOutflow(trx, 'tenant-b', 'PRD-1', 500, new Date(NOW.getTime() - 1 * DAY_MS));
  });
  await s.order('tenant-a', 'PRD-1', 4);
  const event = lowStockEvent('tenant-a', { current_stock: 16, reorder_level: 20 });
  await inTransaction(s.database, (ctx) => s.handler(event, ctx));

  const forecast = await getForecast(s.database.db, 'tenant-a', 'PRD-1');
  // 40 units over 10 days = 4 a day; 16 - 4 pending = 12 units = 3 days.
  assert.deepEqual(forecast, {
    product_id: 'PRD-1',
    expected_daily_demand: 4,
    pending_order_quantity: 4,
    current_stock: 16,
    days_of_stock_remaining: 3,
    stockout_date: '2024-03-13',
    source_event_id: event.metadata.event_id,
    updated_at: NOW,
  });
  const [row] = await s.outbox();
  const raised = decodeEvent(decodeEnvelope(JSON.stringify(row?.envelope)));
  assert.ok(raised.known && raised.type === 'sales.low_stock_alert_raised');
  assert.equal(raised.event.payload.stockout_date, '2024-03-13');
});

test('without history the forecast uses the payload days; a second event overwrites it', async (t) => {
  const s = await setup(t);
  await inTransaction(s.database, (ctx) =>
    s.handler(lowStockEvent('tenant-a', { current_stock: 8, days_of_stock_remaining: 4 }), ctx),
  );
  let forecast = await getForecast(s.database.db, 'tenant-a', 'PRD-1');
  assert.equal(forecast?.expected_daily_demand, 2);
  assert.equal(forecast?.stockout_date, '2024-03-14');

  await inTransaction(s.database, (ctx) =>
    s.handler(lowStockEvent('tenant-a', { current_stock: 8, days_of_stock_remaining: null }), ctx),
  );
  forecast = await getForecast(s.database.db, 'tenant-a', 'PRD-1');
  assert.equal(forecast?.expected_daily_demand, 0);
  assert.equal(forecast?.stockout_date, null);
  assert.equal(forecast?.days_of_stock_remaining, null);
});

test('the same product in two tenants gets two independent alerts', async (t) => {
  const s = await setup(t);
  await inTransaction(s.database, (ctx) =>
    s.handler(lowStockEvent('tenant-a', { current_stock: 8 }), ctx),
  );
  await inTransaction(s.database, (ctx) =>
    s.handler(lowStockEvent('tenant-b', { current_stock: 0 }), ctx),
  );
  assert.equal((await s.alerts('tenant-a'))[0]?.priority, 'medium');
  assert.equal((await s.alerts('tenant-b'))[0]?.priority, 'critical');
  assert.equal((await s.history('tenant-a')).length, 1);
  assert.equal((await s.notifications('tenant-a')).length, 0);
  assert.equal((await s.notifications('tenant-b')).length, 2);
});

test('a failure rolls back the alert, forecast, notifications and outbox together', async (t) => {
  const s = await setup(t);
  await assert.rejects(
    inTransaction(s.database, async (ctx) => {
      await s.handler(lowStockEvent('tenant-a', { current_stock: 0 }), ctx);
      throw new Error('later in the batch');
    }),
    /later in the batch/,
  );
  assert.deepEqual(await s.alerts('tenant-a'), []);
  assert.deepEqual(await s.notifications('tenant-a'), []);
  assert.deepEqual(await s.outbox(), []);
  assert.equal(await getForecast(s.database.db, 'tenant-a', 'PRD-1'), undefined);
});

/** Every row the low-stock path writes, with the random ids replaced by stable names. */
async function lowStockRows(s: Awaited<ReturnType<typeof setup>>) {
  const db = s.database.db;
  const alerts = await db
    .selectFrom('alerts')
    .selectAll()
    .orderBy('tenant_id')
    .orderBy('product_id')
    .orderBy('opened_at')
    .execute();
  const names = new Map(alerts.map((a, i) => [a.id, `alert-${i}`]));
  const name = (id: string) => names.get(id) ?? id;
  const history = await db
    .selectFrom('alert_history')
    .select(['alert_id', 'tenant_id', 'change', 'priority', 'event_id', 'at'])
    .orderBy('id')
    .execute();
  const notifications = await db
    .selectFrom('notifications')
    .selectAll()
    .orderBy('created_at')
    .orderBy('alert_id')
    .orderBy('channel')
    .execute();
  const forecasts = await db
    .selectFrom('forecasts')
    .selectAll()
    .orderBy('tenant_id')
    .orderBy('product_id')
    .execute();
  const outbox = await s.outbox();
  return {
    alerts: alerts.map((a) => ({ ...a, id: name(a.id) })),
    history: history.map((h) => ({ ...h, alert_id: name(h.alert_id) })),
    notifications: notifications
      .map(({ id: _id, ...n }) => ({ ...n, alert_id: name(n.alert_id) }))
      .toSorted((a, b) =>
        `${a.alert_id}${a.channel}${a.message}`.localeCompare(
          `${b.alert_id}${b.channel}${b.message}`,
        ),
      ),
    forecasts,
    outbox: outbox.map(({ position: _p, transaction_id: _x, event_id: _e, envelope, ...row }) => {
      const decoded = decodeEvent(decodeEnvelope(JSON.stringify(envelope)));
      assert.ok(decoded.known && decoded.type === 'sales.low_stock_alert_raised');
      const { event_id: _id, ...metadata } = decoded.event.metadata;
      return {
        ...row,
        headers: { ...row.headers, event_id: undefined },
        metadata,
        payload: { ...decoded.event.payload, alert_id: name(decoded.event.payload.alert_id) },
      };
    }),
  };
}

test('the batch handler writes exactly what the per-event handler writes for the same events', async (t) => {
  const perEvent = await setup(t);
  const batched = await setup(t);
  const batch = createLowStockBatchHandler({
    salesTopic: 'sales-events-test',
    notificationChannels: ['log', 'webhook'],
    dispatcher: { kick: () => batched.kicks.push('kick') },
    now: () => NOW,
  });
  // An alert opened before the run, orders and outflows: the same in both databases.
  const before = lowStockEvent('tenant-a', { product_id: 'PRD-3', current_stock: 9 });
  for (const s of [perEvent, batched]) {
    await inTransaction(s.database, (ctx) => s.handler(before, ctx));
    await s.order('tenant-a', 'PRD-1', 9);
    await s.order('tenant-a', 'PRD-3', 20);
    await s.database.db.transaction().execute(async (trx) => {
      await recordOutflow(trx, 'tenant-a', 'PRD-1', 30, new Date(NOW.getTime() - 10 * DAY_MS));
      await recordOutflow(trx, 'tenant-b', 'PRD-2', 5, new Date(NOW.getTime() - 2 * DAY_MS));
    });
  }
  const run = [
    // Opened medium (9 pending > 8 in stock: high), then escalated, then an update.
    lowStockEvent('tenant-a', { product_id: 'PRD-1', current_stock: 12, reorder_level: 10 }),
    lowStockEvent('tenant-b', { product_id: 'PRD-2', current_stock: 4, reorder_level: 10 }),
    lowStockEvent('tenant-a', { product_id: 'PRD-1', current_stock: 8, reorder_level: 10 }),
    lowStockEvent('tenant-a', { product_id: 'PRD-3', current_stock: 5, reorder_level: 10 }),
    lowStockEvent('tenant-a', { product_id: 'PRD-1', current_stock: 0, reorder_level: 10 }),
    lowStockEvent('tenant-a', { product_id: 'PRD-1', current_stock: 7, reorder_level: 10 }),
    lowStockEvent('tenant-b', {
      product_id: 'PRD-2',
      current_stock: 9,
      reorder_level: 10,
      days_of_stock_remaining: 2,
    }),
    lowStockEvent('tenant-b', { product_id: 'PRD-9', current_stock: 3, reorder_level: 10 }),
  ];
  await inTransaction(perEvent.database, async (ctx) => {
    for (const event of run) await perEvent.handler(event, ctx);
  });
  const callbacks = await inTransaction(batched.database, (ctx) =>
    batch(
      run.map((event) => ({ event })),
      ctx,
    ),
  );

  const expected = await lowStockRows(perEvent);
  const actual = await lowStockRows(batched);
  assert.deepEqual(actual, expected);
  // The sequence really exercised the cases: opened, escalated and updated within the run.
  assert.deepEqual(
    new Set(expected.history.map((h) => h.change)),
    new Set(['opened', 'escalated', 'updated']),
  );
  assert.ok(expected.notifications.length > 0);
  assert.equal(expected.outbox.length, actual.outbox.length);
  // One dispatcher kick for the run, however many events notified.
  assert.equal(callbacks.length, 1);
});
