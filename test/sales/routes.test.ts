import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import {
  createHttpServer,
  createMetricsRegistry,
  headerTenancy,
} from '../../src/platform/index.ts';
import type { SalesDB } from '../../src/sales/db.ts';
import { createLowStockHandler } from '../../src/sales/handlers/low-stock.ts';
import { createOrderSaga } from '../../src/sales/order-saga.ts';
import { registerSalesRoutes, SALES_HTTP_STATUSES } from '../../src/sales/routes.ts';
import { testDatabase } from '../support/database.ts';
import {
  consumed,
  inTransaction,
  lowStockEvent,
  productCreatedEvent,
  silentLogger,
} from './fixtures.ts';
import { handleProductCreated } from '../../src/sales/handlers/product-created.ts';

async function setup(t: TestContext) {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const { app } = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry('sales-test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
    errorStatuses: SALES_HTTP_STATUSES,
  });
  // A clock a second further on each call, so that "newest first" never hinges on a tie.
  let tick = Date.parse('2024-03-10T12:00:00Z');
  const now = () => new Date((tick += 1000));
  const saga = createOrderSaga({ database, salesTopic: 'sales-events', timeoutMs: 30_000, now });
  registerSalesRoutes(app, { database, saga, now });
  t.after(() => app.close());
  const handler = createLowStockHandler({
    salesTopic: 'sales-events',
    notificationChannels: ['log'],
    now,
  });
  const raise = (tenant: string, payload: Parameters<typeof lowStockEvent>[1] = {}) =>
    inTransaction(database, (ctx) => handler(consumed(lowStockEvent(tenant, payload)), ctx));
  const as = (tenant: string) => ({ 'x-tenant-id': tenant });
  // Sales knows products from inventory.product_created; orders may name only those.
  const products = (tenant: string, ...ids: string[]) =>
    inTransaction(database, (ctx) =>
      handleProductCreated(
        consumed(...ids.map((id) => productCreatedEvent(tenant, { product_id: id }))),
        ctx,
      ),
    );
  await products('tenant-a', 'P1', 'P2');
  return { app, database, raise, as, products };
}

test('lists alerts newest first, filtered by status, with priority and figures', async (t) => {
  const { app, raise, as } = await setup(t);
  await raise('tenant-a', { product_id: 'P1', current_stock: 8 });
  await raise('tenant-a', { product_id: 'P2', current_stock: 0 });

  const all = await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: as('tenant-a') });
  assert.equal(all.statusCode, 200);
  const alerts = all.json().items;
  assert.deepEqual(
    alerts.map((a: { product_id: string; priority: string }) => [a.product_id, a.priority]),
    [
      ['P2', 'critical'],
      ['P1', 'medium'],
    ],
  );
  assert.equal(alerts[1].current_stock, 8);
  assert.equal(alerts[1].reorder_level, 10);
  assert.equal(alerts[1].pending_order_quantity, 0);
  assert.equal(alerts[1].status, 'open');
  assert.equal(alerts[1].tenant_id, undefined);

  const ack = await app.inject({
    method: 'POST',
    url: `/api/v1/alerts/${alerts[0].id}/acknowledge`,
    headers: as('tenant-a'),
  });
  assert.equal(ack.statusCode, 200);
  assert.equal(ack.json().status, 'acknowledged');
  assert.ok(ack.json().acknowledged_at);

  const open = await app.inject({
    method: 'GET',
    url: '/api/v1/alerts?status=open',
    headers: as('tenant-a'),
  });
  assert.deepEqual(
    open.json().items.map((a: { product_id: string }) => a.product_id),
    ['P1'],
  );
  const acknowledged = await app.inject({
    method: 'GET',
    url: '/api/v1/alerts?status=acknowledged',
    headers: as('tenant-a'),
  });
  assert.deepEqual(
    acknowledged.json().items.map((a: { product_id: string }) => a.product_id),
    ['P2'],
  );
  const bad = await app.inject({
    method: 'GET',
    url: '/api/v1/alerts?status=closed',
    headers: as('tenant-a'),
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'ERP_HTTP_INVALID_INPUT');
  assert.equal(bad.json().error.field, 'status');
});

test('acknowledging twice is 409, and the history shows both steps', async (t) => {
  const { app, raise, as } = await setup(t);
  await raise('tenant-a');
  const [alert] = (
    await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: as('tenant-a') })
  ).json().items;
  const url = `/api/v1/alerts/${alert.id}/acknowledge`;
  assert.equal(
    (await app.inject({ method: 'POST', url, headers: as('tenant-a') })).statusCode,
    200,
  );
  const again = await app.inject({ method: 'POST', url, headers: as('tenant-a') });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error.code, 'ERP_SALES_ALERT_NOT_OPEN');

  const detail = await app.inject({
    method: 'GET',
    url: `/api/v1/alerts/${alert.id}`,
    headers: as('tenant-a'),
  });
  assert.equal(detail.statusCode, 200);
  assert.equal(detail.json().status, 'acknowledged');
  assert.deepEqual(
    detail.json().history.map((h: { change: string; priority: string }) => [h.change, h.priority]),
    [
      ['opened', 'medium'],
      ['acknowledged', 'medium'],
    ],
  );
});

test('creates pending orders with lines and lists them newest first', async (t) => {
  const { app, as } = await setup(t);
  const first = await app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: as('tenant-a'),
    payload: { customer: 'ACME', lines: [{ product_id: 'P1', quantity: 3 }] },
  });
  assert.equal(first.statusCode, 201);
  assert.equal(first.json().status, 'PENDING');
  assert.deepEqual(first.json().lines, [{ line_no: 1, product_id: 'P1', quantity: 3 }]);
  const second = await app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: as('tenant-a'),
    payload: {
      customer: 'Globex',
      lines: [
        { product_id: 'P1', quantity: 1 },
        { product_id: 'P2', quantity: 2 },
      ],
    },
  });
  assert.equal(second.statusCode, 201);

  const list = await app.inject({ method: 'GET', url: '/api/v1/orders', headers: as('tenant-a') });
  assert.equal(list.statusCode, 200);
  const orders = list.json().items;
  assert.deepEqual(
    orders.map((o: { customer: string; lines: unknown[] }) => [o.customer, o.lines.length]),
    [
      ['Globex', 2],
      ['ACME', 1],
    ],
  );
  assert.equal(orders[0].id, second.json().id);
});

test('rejects invalid orders with the field named', async (t) => {
  const { app, as } = await setup(t);
  const cases: [unknown, string][] = [
    [{ customer: 'A', lines: [] }, 'lines'],
    [{ customer: 'A', lines: [{ product_id: 'P1', quantity: 0 }] }, 'lines.0.quantity'],
    [{ customer: 'A', lines: [{ product_id: 'P1', quantity: 1.5 }] }, 'lines.0.quantity'],
    [{ lines: [{ product_id: 'P1', quantity: 1 }] }, 'customer'],
    [
      {
        customer: 'A',
        lines: Array.from({ length: 101 }, () => ({ product_id: 'P1', quantity: 1 })),
      },
      'lines',
    ],
  ];
  for (const [payload, field] of cases) {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: as('tenant-a'),
      payload: payload as object,
    });
    assert.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 80));
    assert.equal(response.json().error.code, 'ERP_HTTP_INVALID_INPUT');
    assert.equal(response.json().error.field, field);
  }
  const noTenant = await app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    payload: { customer: 'A', lines: [{ product_id: 'P1', quantity: 1 }] },
  });
  assert.equal(noTenant.statusCode, 400);
  assert.equal(noTenant.json().error.code, 'ERP_HTTP_MISSING_TENANT');
});

test('returns the forecast of a product, 404 before any low-stock event', async (t) => {
  const { app, raise, as } = await setup(t);
  const missing = await app.inject({
    method: 'GET',
    url: '/api/v1/forecasts/P1',
    headers: as('tenant-a'),
  });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'ERP_SALES_FORECAST_NOT_FOUND');
  await raise('tenant-a', { product_id: 'P1', current_stock: 8, days_of_stock_remaining: 4 });
  const found = await app.inject({
    method: 'GET',
    url: '/api/v1/forecasts/P1',
    headers: as('tenant-a'),
  });
  assert.equal(found.statusCode, 200);
  assert.equal(found.json().expected_daily_demand, 2);
  assert.match(found.json().stockout_date, /^\d{4}-\d{2}-\d{2}$/);
});

test('tenant B sees none of tenant A alerts, orders or forecasts', async (t) => {
  const { app, raise, as } = await setup(t);
  await raise('tenant-a', { product_id: 'P1' });
  const order = await app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: as('tenant-a'),
    payload: { customer: 'ACME', lines: [{ product_id: 'P1', quantity: 3 }] },
  });
  assert.equal(order.statusCode, 201);
  const [alert] = (
    await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: as('tenant-a') })
  ).json().items;
  assert.ok(alert);

  const b = as('tenant-b');
  const alerts = await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: b });
  assert.deepEqual(alerts.json(), { items: [] });
  const orders = await app.inject({ method: 'GET', url: '/api/v1/orders', headers: b });
  assert.deepEqual(orders.json(), { items: [] });
  const detail = await app.inject({ method: 'GET', url: `/api/v1/alerts/${alert.id}`, headers: b });
  assert.equal(detail.statusCode, 404);
  assert.equal(detail.json().error.code, 'ERP_SALES_ALERT_NOT_FOUND');
  const ack = await app.inject({
    method: 'POST',
    url: `/api/v1/alerts/${alert.id}/acknowledge`,
    headers: b,
  });
  assert.equal(ack.statusCode, 404);
  assert.equal(ack.json().error.code, 'ERP_SALES_ALERT_NOT_FOUND');
  const forecast = await app.inject({ method: 'GET', url: '/api/v1/forecasts/P1', headers: b });
  assert.equal(forecast.statusCode, 404);

  // Tenant A's alert is untouched by B's attempt.
  const still = await app.inject({
    method: 'GET',
    url: `/api/v1/alerts/${alert.id}`,
    headers: as('tenant-a'),
  });
  assert.equal(still.json().status, 'open');
});

test('NUL characters, lone surrogates and unknown keys are refused naming the field', async (t) => {
  const { app, as } = await setup(t);
  const order = (payload: object) =>
    app.inject({ method: 'POST', url: '/api/v1/orders', headers: as('tenant-a'), payload });
  const cases: [object, string][] = [
    [{ customer: 'AC\u0000ME', lines: [{ product_id: 'P1', quantity: 1 }] }, 'customer'],
    [{ customer: 'ACME', lines: [{ product_id: 'P\u0000', quantity: 1 }] }, 'lines.0.product_id'],
    [{ customer: 'ACME\ud800', lines: [{ product_id: 'P1', quantity: 1 }] }, 'customer'],
    // The same rule as Inventory's: unknown keys are refused, not ignored.
    [
      { customer: 'ACME', status: 'fulfilled', lines: [{ product_id: 'P1', quantity: 1 }] },
      'status',
    ],
    [{ customer: 'ACME', lines: [{ product_id: 'P1', quantity: 1, id: 'x' }] }, 'lines.0.id'],
  ];
  for (const [payload, field] of cases) {
    const res = await order(payload);
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.deepEqual(
      [res.json().error.code, res.json().error.field],
      ['ERP_HTTP_INVALID_INPUT', field],
    );
  }
  for (const url of ['/api/v1/alerts/abc%00def', '/api/v1/forecasts/abc%00def']) {
    const res = await app.inject({ url, headers: as('tenant-a') });
    assert.equal(res.statusCode, 400, url);
    assert.equal(res.json().error.code, 'ERP_HTTP_INVALID_INPUT');
  }
  const ack = await app.inject({
    method: 'POST',
    url: '/api/v1/alerts/x%00/acknowledge',
    headers: as('tenant-a'),
  });
  assert.equal(ack.statusCode, 400);
});

test('an order for a product Sales does not know is 422 ERP_SALES_UNKNOWN_PRODUCT, nothing stored', async (t) => {
  const { app, as, products } = await setup(t);
  const order = (tenant: string, ids: string[]) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: as(tenant),
      payload: { customer: 'ACME', lines: ids.map((product_id) => ({ product_id, quantity: 1 })) },
    });
  const res = await order('tenant-a', ['P1', 'does-not-exist-anywhere', 'P9', 'P9']);
  assert.equal(res.statusCode, 422);
  assert.equal(res.json().error.code, 'ERP_SALES_UNKNOWN_PRODUCT');
  assert.deepEqual(res.json().error.product_ids, ['does-not-exist-anywhere', 'P9']);
  // Another tenant's product is unknown too.
  await products('tenant-b', 'PB');
  assert.equal((await order('tenant-a', ['PB'])).statusCode, 422);
  const list = await app.inject({ url: '/api/v1/orders', headers: as('tenant-a') });
  assert.deepEqual(list.json().items, []);
  assert.equal((await order('tenant-b', ['PB'])).statusCode, 201);
});

test('Idempotency-Key: a retried order or acknowledgement answers the first response, once', async (t) => {
  const { app, raise, as } = await setup(t);
  const headers = (key: string) => ({ ...as('tenant-a'), 'idempotency-key': key });
  const order = () =>
    app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: headers('order-1'),
      payload: { customer: 'ACME', lines: [{ product_id: 'P1', quantity: 2 }] },
    });
  const first = await order();
  const again = await order();
  assert.equal(again.statusCode, 201);
  assert.deepEqual(again.json(), first.json());
  const orders = await app.inject({ url: '/api/v1/orders', headers: as('tenant-a') });
  assert.equal(orders.json().items.length, 1);

  await raise('tenant-a', { product_id: 'P1' });
  const [alert] = (await app.inject({ url: '/api/v1/alerts', headers: as('tenant-a') })).json()
    .items;
  const ack = () =>
    app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${alert.id}/acknowledge`,
      headers: headers('ack-1'),
    });
  const acked = await ack();
  assert.equal(acked.statusCode, 200);
  const retried = await ack();
  assert.deepEqual([retried.statusCode, retried.json()], [200, acked.json()]);
  // Without the key, acknowledging again is the 409 it always was.
  const plain = await app.inject({
    method: 'POST',
    url: `/api/v1/alerts/${alert.id}/acknowledge`,
    headers: as('tenant-a'),
  });
  assert.equal(plain.statusCode, 409);
});
