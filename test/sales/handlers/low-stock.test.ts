import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeEnvelope, decodeEvent } from '../../../src/contract/index.ts';
import type { EventOf } from '../../../src/contract/index.ts';
import type { Accepted } from '../../../src/messaging/inbox/classify.ts';
import { noopConsumerMetrics } from '../../../src/messaging/inbox/metrics.ts';
import { applyInTransaction } from '../../../src/messaging/inbox/transaction.ts';
import type { ConsumedEvent, HandlerContext } from '../../../src/messaging/index.ts';
import type { Database } from '../../../src/platform/index.ts';
import type { SalesDB } from '../../../src/sales/db.ts';
import { getForecast } from '../../../src/sales/forecasts-repository.ts';
import { createLowStockHandler } from '../../../src/sales/handlers/low-stock.ts';
import type { LowStockOptions } from '../../../src/sales/handlers/low-stock.ts';
import { createOrder } from '../../../src/sales/orders-repository.ts';
import { recordOutflowsQuery } from '../../../src/sales/forecasts-repository.ts';
import { testDatabase } from '../../support/database.ts';
import { consumed, DAY_MS, inTransaction, lowStockEvent, silentLogger } from '../fixtures.ts';

const NOW = new Date('2024-03-10T12:00:00Z');

async function setup(t: Parameters<typeof testDatabase>[0], extra: Partial<LowStockOptions> = {}) {
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
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(consumed(event), ctx));

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
  await inTransaction(s.database, (ctx) => s.handler(consumed(event), ctx));
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
  await inTransaction(s.database, (ctx) => s.handler(consumed(first), ctx));
  await s.order('tenant-a', 'PRD-1', 6);
  await s.order('tenant-a', 'PRD-1', 3);
  // Another tenant's and another product's orders do not count.
  await s.order('tenant-b', 'PRD-1', 100);
  await s.order('tenant-a', 'PRD-2', 100);

  const second = lowStockEvent('tenant-a', { current_stock: 8, reorder_level: 10 });
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(consumed(second), ctx));

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
  await inTransaction(s.database, (ctx) => s.handler(consumed(first), ctx));
  assert.equal((await s.notifications('tenant-a')).length, 2);

  const second = lowStockEvent('tenant-a', { current_stock: 9, reorder_level: 10 });
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(consumed(second), ctx));

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
  await inTransaction(s.database, (ctx) => s.handler(consumed(lowStockEvent('tenant-a')), ctx));
  await s.database.db.updateTable('alerts').set({ status: 'acknowledged' }).execute();
  await inTransaction(s.database, (ctx) => s.handler(consumed(lowStockEvent('tenant-a')), ctx));
  const alerts = await s.alerts('tenant-a');
  assert.deepEqual(alerts.map((a) => a.status).sort(), ['acknowledged', 'open']);
});

test('notifies for critical alerts on every configured channel only', async (t) => {
  const s = await setup(t, { notificationChannels: ['log'] });
  await inTransaction(s.database, (ctx) =>
    s.handler(consumed(lowStockEvent('tenant-a', { current_stock: 0 })), ctx),
  );
  const notifications = await s.notifications('tenant-a');
  assert.deepEqual(
    notifications.map((n) => [n.channel, n.priority]),
    [['log', 'critical']],
  );
});

test('forecasts from outflow history in the window, net of pending orders', async (t) => {
  const s = await setup(t);
  await outflows(s.database, [
    ['tenant-a', 'PRD-1', 30, 10],
    ['tenant-a', 'PRD-1', 10, 2],
    // Outside the window, another product, another tenant: none of them count.
    ['tenant-a', 'PRD-1', 500, 40],
    ['tenant-a', 'PRD-2', 500, 1],
    ['tenant-b', 'PRD-1', 500, 1],
  ]);
  await s.order('tenant-a', 'PRD-1', 4);
  const event = lowStockEvent('tenant-a', { current_stock: 16, reorder_level: 20 });
  await inTransaction(s.database, (ctx) => s.handler(consumed(event), ctx));

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
    s.handler(
      consumed(lowStockEvent('tenant-a', { current_stock: 8, days_of_stock_remaining: 4 })),
      ctx,
    ),
  );
  let forecast = await getForecast(s.database.db, 'tenant-a', 'PRD-1');
  assert.equal(forecast?.expected_daily_demand, 2);
  assert.equal(forecast?.stockout_date, '2024-03-14');

  await inTransaction(s.database, (ctx) =>
    s.handler(
      consumed(lowStockEvent('tenant-a', { current_stock: 8, days_of_stock_remaining: null })),
      ctx,
    ),
  );
  forecast = await getForecast(s.database.db, 'tenant-a', 'PRD-1');
  assert.equal(forecast?.expected_daily_demand, 0);
  assert.equal(forecast?.stockout_date, null);
  assert.equal(forecast?.days_of_stock_remaining, null);
});

test('the same product in two tenants gets two independent alerts', async (t) => {
  const s = await setup(t);
  await inTransaction(s.database, (ctx) =>
    s.handler(consumed(lowStockEvent('tenant-a', { current_stock: 8 })), ctx),
  );
  await inTransaction(s.database, (ctx) =>
    s.handler(consumed(lowStockEvent('tenant-b', { current_stock: 0 })), ctx),
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
      await s.handler(consumed(lowStockEvent('tenant-a', { current_stock: 0 })), ctx);
      throw new Error('later in the batch');
    }),
    /later in the batch/,
  );
  assert.deepEqual(await s.alerts('tenant-a'), []);
  assert.deepEqual(await s.notifications('tenant-a'), []);
  assert.deepEqual(await s.outbox(), []);
  assert.equal(await getForecast(s.database.db, 'tenant-a', 'PRD-1'), undefined);
});

/** Outflows of [tenant, product, quantity, days before NOW] in the demand history. */
async function outflows(
  database: Database<SalesDB>,
  rows: readonly (readonly [string, string, number, number])[],
): Promise<void> {
  if (rows.length === 0) return;
  await recordOutflowsQuery(
    database.db,
    rows.map(([tenant, product, quantity, daysAgo]) => ({
      tenant_id: tenant,
      product_id: product,
      quantity,
      occurred_at: new Date(NOW.getTime() - daysAgo * DAY_MS),
    })),
  ).execute();
}

/** Every row the low-stock path writes, with the random ids replaced by stable names. */
async function lowStockRows(s: Awaited<ReturnType<typeof setup>>) {
  const db = s.database.db;
  const alerts = await db
    .selectFrom('alerts')
    .selectAll()
    .orderBy('tenant_id')
    .orderBy('product_id')
    .orderBy('opened_at')
    // Alerts of one product opened at one time: the acknowledged one first, then by last event.
    .orderBy('status')
    .orderBy('source_event_id')
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

test('a run handled in one call writes exactly what its events handled one by one write', async (t) => {
  const oneByOne = await setup(t);
  const together = await setup(t);
  const tenants = ['tenant-a', 'tenant-b'];
  const products = ['PRD-1', 'PRD-2', 'PRD-3'];
  const event = fc.record({
    tenant: fc.constantFrom(...tenants),
    product: fc.constantFrom(...products),
    stock: fc.integer({ min: 0, max: 30 }),
    reorder: fc.integer({ min: 1, max: 30 }),
    days: fc.option(fc.double({ min: 0, max: 20, noNaN: true }), { nil: null }),
  });
  const before = fc.record({
    // Alerts opened (and some acknowledged) before the run, orders and outflows.
    opened: fc.array(fc.tuple(event, fc.boolean()), { maxLength: 3 }),
    orders: fc.array(
      fc.tuple(
        fc.constantFrom(...tenants),
        fc.constantFrom(...products),
        fc.integer({ min: 1, max: 20 }),
      ),
      { maxLength: 3 },
    ),
    outflows: fc.array(
      fc.tuple(
        fc.constantFrom(...tenants),
        fc.constantFrom(...products),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 40 }),
      ),
      { maxLength: 4 },
    ),
  });
  const toEvent = (e: {
    tenant: string;
    product: string;
    stock: number;
    reorder: number;
    days: number | null;
  }) =>
    lowStockEvent(e.tenant, {
      product_id: e.product,
      current_stock: e.stock,
      reorder_level: e.reorder,
      days_of_stock_remaining: e.days,
    });
  const changes = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      before,
      fc.array(event, { minLength: 1, maxLength: 12 }),
      async (pre, specs) => {
        const run = specs.map(toEvent);
        const opened = pre.opened.map(
          ([spec, acknowledged]) => [toEvent(spec), acknowledged] as const,
        );
        for (const s of [oneByOne, together]) {
          await s.database.exec(
            'TRUNCATE alerts, alert_history, notifications, forecasts, outbox, orders, order_lines, order_history, demand_history',
          );
          for (const [e, acknowledged] of opened) {
            await inTransaction(s.database, (ctx) => s.handler(consumed(e), ctx));
            if (acknowledged) {
              await s.database.db.updateTable('alerts').set({ status: 'acknowledged' }).execute();
            }
          }
          for (const [tenant, product, quantity] of pre.orders)
            await s.order(tenant, product, quantity);
          await outflows(s.database, pre.outflows);
        }
        await inTransaction(oneByOne.database, async (ctx) => {
          for (const e of run) await oneByOne.handler(consumed(e), ctx);
        });
        await inTransaction(together.database, (ctx) => together.handler(consumed(...run), ctx));
        const expected = await lowStockRows(oneByOne);
        assert.deepEqual(await lowStockRows(together), expected);
        for (const h of expected.history) changes.add(h.change);
      },
    ),
    { numRuns: 40, seed: 20261202 },
  );
  // The sequences really exercised the cases: opened, escalated and updated within runs.
  assert.deepEqual([...changes].sort(), ['escalated', 'opened', 'updated']);
});

test('pending orders past integer range still raise the alert: no event lost to a derived sum', async (t) => {
  const s = await setup(t);
  // 22 orders of 100 lines of 1,000,000 units on one product, each within the documented limits.
  const lines = Array.from({ length: 100 }, () => ({ product_id: 'PRD-1', quantity: 1_000_000 }));
  for (let i = 0; i < 22; i++) {
    await s.database.db
      .transaction()
      .execute((trx) => createOrder(trx, 'tenant-a', { customer: `C-${i}`, lines }, NOW));
  }
  const event = lowStockEvent('tenant-a', { current_stock: 5, reorder_level: 100 });
  await inTransaction(s.database, (ctx) => s.handler(consumed(event), ctx));

  const [alert] = await s.alerts('tenant-a');
  assert.equal(alert?.pending_order_quantity, 2_200_000_000);
  assert.equal(alert?.priority, 'critical', 'stock promised many times over');
  const forecast = await getForecast(s.database.db, 'tenant-a', 'PRD-1');
  assert.equal(forecast?.pending_order_quantity, 2_200_000_000);
  const [row] = await s.outbox();
  const raised = decodeEvent(decodeEnvelope(JSON.stringify(row?.envelope)));
  assert.ok(raised.known && raised.type === 'sales.low_stock_alert_raised');
  assert.equal(raised.event.payload.pending_order_quantity, 2_200_000_000);
});

/** `event` as if Inventory committed it `secondsBefore` NOW. */
function committedBefore<T extends { metadata: { timestamp: string } }>(
  event: T,
  secondsBefore: number,
): T {
  const timestamp = new Date(NOW.getTime() - secondsBefore * 1000).toISOString();
  return { ...event, metadata: { ...event.metadata, timestamp } };
}

/**
 * Applies `events` the way the inbox consumer does (its transaction, then its afterCommit
 * callbacks), with `after` run in the transaction after the handler.
 */
async function applyAsConsumer(
  s: Awaited<ReturnType<typeof setup>>,
  events: EventOf<'inventory.low_stock'>[],
  after: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const items: Accepted<SalesDB>[] = consumed(...events).map(({ event, record }) => ({
    kind: 'accepted',
    record,
    type: 'inventory.low_stock',
    event,
    handler: (async (run: ConsumedEvent<'inventory.low_stock'>[], ctx: HandlerContext<SalesDB>) => {
      await s.handler(run, ctx);
      await after();
    }) as Accepted<SalesDB>['handler'],
    failures: 0,
  }));
  await applyInTransaction(
    {
      database: s.database,
      inboxTable: 'inbox',
      ordering: 'key',
      logger: silentLogger,
      metrics: noopConsumerMetrics,
    },
    items,
  );
}

test('alert latency: from the stock change in Inventory to each alert opened or escalated, once committed', async (t) => {
  const raised: [string, number][] = [];
  const s = await setup(t, {
    metrics: { alertRaised: (priority, seconds) => void raised.push([priority, seconds]) },
  });
  const opened = committedBefore(
    lowStockEvent('tenant-a', { product_id: 'LAT-1', current_stock: 8, reorder_level: 10 }),
    90,
  );
  // In the handler's transaction nothing is observed: it might still roll back.
  const callbacks = await inTransaction(s.database, (ctx) => s.handler(consumed(opened), ctx));
  assert.deepEqual(raised, []);
  for (const callback of callbacks) await callback();
  assert.deepEqual(raised, [['medium', 90]]);

  raised.length = 0;
  const escalated = committedBefore(
    lowStockEvent('tenant-a', { product_id: 'LAT-1', current_stock: 0, reorder_level: 10 }),
    2.5,
  );
  // Same figures again: an update, not news, so no latency for it.
  const updated = committedBefore(
    lowStockEvent('tenant-a', { product_id: 'LAT-1', current_stock: 0, reorder_level: 10 }),
    1,
  );
  // Inventory's clock a little ahead of ours: 0, not a negative latency.
  const ahead = committedBefore(
    lowStockEvent('tenant-a', { product_id: 'LAT-2', current_stock: 0, reorder_level: 10 }),
    -3,
  );
  await applyAsConsumer(s, [escalated, updated, ahead]);
  assert.deepEqual(raised, [
    ['critical', 2.5],
    ['critical', 0],
  ]);
});

test('alert latency: a rolled-back transaction observes nothing', async (t) => {
  const raised: [string, number][] = [];
  const s = await setup(t, {
    metrics: { alertRaised: (priority, seconds) => void raised.push([priority, seconds]) },
  });
  const event = committedBefore(lowStockEvent('tenant-a', { current_stock: 0 }), 10);
  await assert.rejects(
    applyAsConsumer(s, [event], () => Promise.reject(new Error('later in the batch'))),
    /later in the batch/,
  );
  assert.deepEqual(await s.alerts('tenant-a'), []);
  assert.deepEqual(raised, []);
  // Its redelivery commits, and is the one observation.
  await applyAsConsumer(s, [event]);
  assert.deepEqual(raised, [['critical', 10]]);
});
