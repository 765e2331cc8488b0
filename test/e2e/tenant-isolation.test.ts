/**
 * The isolation attack suite: tenant B, with a valid token of its own and every scope, tries
 * every route of both services on every id of tenant A (read, list, adjust, order, acknowledge,
 * forecast, metrics, idempotency keys). Nothing of A is read or changed, and what B sees of A's
 * ids is exactly what it sees of ids that do not exist: no oracle. The route table of both
 * services is read back, so a route added later without a case here fails this test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { servedRoutes } from '../support/openapi.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

let system: TestSystem;
const cleanups: Array<() => unknown> = [];
before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  for (const fn of cleanups) await fn();
});

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Every API route of an app as `METHOD /path`, from Fastify's own route tree. */
function routesOf(app: FastifyInstance): string[] {
  return servedRoutes(app).filter((route) => route.split(' ')[1]!.startsWith('/api/'));
}

interface Probe {
  route: string;
  app: 'inventory' | 'sales';
  method: 'GET' | 'POST';
  url: (ids: Ids) => string;
  payload?: (ids: Ids) => unknown;
}
interface Ids {
  product: string;
  alert: string;
  order: string;
  /** A replay dry run A's operator started. */
  replay: string;
}

const a = uniqueName('tenant-a');
const b = uniqueName('tenant-b');

/** One case per route, filled with ids: A's, then ids nobody has. */
const PROBES: Probe[] = [
  { route: 'GET /api/v1/products', app: 'inventory', method: 'GET', url: () => '/api/v1/products' },
  {
    route: 'GET /api/v1/products/:id',
    app: 'inventory',
    method: 'GET',
    url: (i) => `/api/v1/products/${i.product}`,
  },
  {
    route: 'POST /api/v1/products/:id/stock-adjustments',
    app: 'inventory',
    method: 'POST',
    url: (i) => `/api/v1/products/${i.product}/stock-adjustments`,
    payload: () => ({ quantity_change: -1, reason: 'sale' }),
  },
  { route: 'GET /api/v1/alerts', app: 'sales', method: 'GET', url: () => '/api/v1/alerts' },
  {
    route: 'GET /api/v1/alerts/:id',
    app: 'sales',
    method: 'GET',
    url: (i) => `/api/v1/alerts/${i.alert}`,
  },
  {
    route: 'POST /api/v1/alerts/:id/acknowledge',
    app: 'sales',
    method: 'POST',
    url: (i) => `/api/v1/alerts/${i.alert}/acknowledge`,
    payload: () => ({}),
  },
  { route: 'GET /api/v1/orders', app: 'sales', method: 'GET', url: () => '/api/v1/orders' },
  {
    route: 'POST /api/v1/orders',
    app: 'sales',
    method: 'POST',
    url: () => '/api/v1/orders',
    payload: (i) => ({ customer: 'mallory', lines: [{ product_id: i.product, quantity: 1 }] }),
  },
  {
    route: 'GET /api/v1/orders/:id',
    app: 'sales',
    method: 'GET',
    url: (i) => `/api/v1/orders/${i.order}`,
  },
  {
    route: 'POST /api/v1/orders/:id/cancel',
    app: 'sales',
    method: 'POST',
    url: (i) => `/api/v1/orders/${i.order}/cancel`,
    payload: () => ({}),
  },
  {
    route: 'POST /api/v1/orders/:id/fulfil',
    app: 'sales',
    method: 'POST',
    url: (i) => `/api/v1/orders/${i.order}/fulfil`,
    payload: () => ({}),
  },
  {
    // B's ops token may replay B only: naming A is refused whatever A holds.
    route: 'POST /api/v1/ops/replays',
    app: 'sales',
    method: 'POST',
    url: () => '/api/v1/ops/replays',
    payload: () => ({ from: '1970-01-01', tenant: a }),
  },
  {
    route: 'GET /api/v1/ops/replays/:id',
    app: 'sales',
    method: 'GET',
    url: (i) => `/api/v1/ops/replays/${i.replay}`,
  },
  {
    route: 'GET /api/v1/forecasts/:productId',
    app: 'sales',
    method: 'GET',
    url: (i) => `/api/v1/forecasts/${i.product}`,
  },
];

test('tenant B reaches nothing of tenant A on any route, and cannot tell A ids from missing ones', async () => {
  const [asA, asB] = [await system.headers(a), await system.headers(b)];
  const apps = { inventory: system.inventory.http, sales: system.sales.http };
  const call = async (as: Record<string, string>, p: Probe, ids: Ids, extra = {}) => {
    const res = await apps[p.app].inject({
      method: p.method,
      url: p.url(ids),
      headers: { ...as, ...extra },
      ...(p.payload === undefined ? {} : { payload: p.payload(ids) as object }),
    });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };

  // Every API route of both services has a case here.
  assert.deepEqual(
    [...routesOf(apps.inventory), ...routesOf(apps.sales)].sort(),
    [...PROBES.map((p) => p.route), 'POST /api/v1/products'].sort(),
  );

  // Tenant A's world: a product gone low (an alert, a forecast), an order under an idempotency key.
  const created = await apps.inventory.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: asA,
    payload: {
      sku: 'ISO-1',
      name: 'Secret widget',
      category: 'c',
      unit_price: 5,
      quantity_on_hand: 100,
      reorder_level: 10,
      reorder_quantity: 50,
      location: 'A1',
    },
  });
  assert.equal(created.statusCode, 201);
  const product: string = created.json().id;
  await apps.inventory.inject({
    method: 'POST',
    url: `/api/v1/products/${product}/stock-adjustments`,
    headers: asA,
    payload: { quantity_change: -95, reason: 'sale' },
  });
  let alert = '';
  await waitUntil(
    'an alert and a forecast of A',
    async () => {
      const alerts = await apps.sales.inject({ url: '/api/v1/alerts', headers: asA });
      alert = (alerts.json().items as Array<{ id: string }>)[0]?.id ?? '';
      const forecast = await apps.sales.inject({
        url: `/api/v1/forecasts/${product}`,
        headers: asA,
      });
      return alert !== '' && forecast.statusCode === 200;
    },
    60_000,
  );
  const order = await apps.sales.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: { ...asA, 'idempotency-key': 'shared-key-1' },
    payload: { customer: 'alice', lines: [{ product_id: product, quantity: 3 }] },
  });
  assert.equal(order.statusCode, 201);
  for (const id of [product, alert, order.json().id as string]) assert.match(id, UUID_V4);
  // The saga settles first (Inventory reserves), so that A's product stays as it is below.
  await waitUntil('A order confirmed', async () => {
    const res = await apps.sales.inject({
      url: `/api/v1/orders/${order.json().id as string}`,
      headers: asA,
    });
    return res.json().status === 'CONFIRMED';
  });

  const before = {
    product: (await apps.inventory.inject({ url: `/api/v1/products/${product}`, headers: asA }))
      .body,
    alert: (await apps.sales.inject({ url: `/api/v1/alerts/${alert}`, headers: asA })).body,
  };
  // A's operator replays A (its dry run's differences would name A's products and alerts).
  const replay = await apps.sales.inject({
    method: 'POST',
    url: '/api/v1/ops/replays',
    headers: asA,
    payload: { from: '1970-01-01' },
  });
  assert.equal(replay.statusCode, 202, replay.body);
  const aIds: Ids = {
    product,
    alert,
    order: order.json().id as string,
    replay: replay.json().id as string,
  };
  const missing: Ids = {
    product: randomUUID(),
    alert: randomUUID(),
    order: randomUUID(),
    replay: randomUUID(),
  };
  let tried = 0;
  for (const p of PROBES) {
    const onA = await call(asB, p, aIds);
    const onMissing = await call(asB, p, missing);
    tried++;
    // The same answer for A's ids as for ids that exist nowhere (messages name the id asked for).
    const shape = (r: { status: number; body: Record<string, unknown> }, ids: Ids) =>
      JSON.stringify({ ...r, body: r.body['error'] === undefined ? '(data)' : r.body['error'] })
        .replaceAll(ids.product, '<id>')
        .replaceAll(ids.alert, '<id>')
        .replaceAll(ids.order, '<id>')
        .replaceAll(ids.replay, '<id>');
    assert.equal(shape(onA, aIds), shape(onMissing, missing), `${p.route}: an oracle`);
    assert.ok(onA.status === 200 || onA.status >= 400, `${p.route}: ${onA.status}`);
    // Data holds nothing of A (an error may echo the id that was asked for, as for any id).
    const text = onA.status === 200 ? JSON.stringify(onA.body) : '';
    for (const id of [product, alert, order.json().id as string]) {
      assert.equal(text.includes(id), false, `${p.route} shows A's ${id}`);
    }
  }
  assert.equal(tried, PROBES.length);

  // A's data is as it was: no adjustment, no acknowledgement.
  assert.equal(
    (await apps.inventory.inject({ url: `/api/v1/products/${product}`, headers: asA })).body,
    before.product,
  );
  assert.equal(
    (await apps.sales.inject({ url: `/api/v1/alerts/${alert}`, headers: asA })).body,
    before.alert,
  );
  // An idempotency key is the tenant's own: B's use of A's key is a new request of B, not A's answer.
  const bProduct = await apps.inventory.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: asB,
    payload: {
      sku: 'ISO-1',
      name: 'Same sku, other tenant',
      category: 'c',
      unit_price: 5,
      quantity_on_hand: 1,
      reorder_level: 0,
      reorder_quantity: 1,
      location: 'B1',
    },
  });
  assert.equal(bProduct.statusCode, 201, 'a sku taken by A is free for B: no existence oracle');
  await waitUntil(
    'Sales knows B product',
    async () => {
      const res = await apps.sales.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { ...asB, 'idempotency-key': 'shared-key-1' },
        payload: { customer: 'bob', lines: [{ product_id: bProduct.json().id, quantity: 1 }] },
      });
      if (res.statusCode === 422) return false;
      assert.equal(res.statusCode, 201, res.body);
      assert.notEqual(res.json().id, order.json().id, "B got A's stored answer");
      assert.equal(res.json().customer, 'bob');
      return true;
    },
    30_000,
  );
  const aOrders = await apps.sales.inject({ url: '/api/v1/orders', headers: asA });
  assert.deepEqual(
    (aOrders.json().items as Array<{ customer: string }>).map((o) => o.customer),
    ['alice'],
  );
  // The operator endpoint needs the ops scope, which a tenant's token does not carry.
  const metrics = await apps.sales.inject({
    url: '/metrics',
    headers: await system.headers(b, ['sales:read', 'sales:write']),
  });
  assert.equal(metrics.statusCode, 403);
});
