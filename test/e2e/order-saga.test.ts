/**
 * The order saga end to end, both services on the real broker, through both outboxes and inboxes:
 * 200 concurrent one-unit orders against 100 available are exactly 100 CONFIRMED and 100
 * REJECTED with nothing left available; cancel releases; fulfil is an outflow; an order Inventory
 * did not answer in time is REJECTED, and the reservation that comes late is released.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { laptopBody } from '../inventory/fixtures.ts';

type Json = Record<string, unknown>;

let system: TestSystem;
const cleanups: Array<() => unknown> = [];
before(async () => {
  system = await startSystem(
    { after: (fn) => cleanups.push(fn) },
    // Generous: the 200-order burst must not time out on a slow machine.
    { ORDER_SAGA_TIMEOUT_MS: '120000', RATE_LIMIT_MAX: '100000' },
  );
});
after(async () => {
  for (const fn of cleanups) await fn();
});

async function createProduct(sys: TestSystem, tenant: string, onHand: number): Promise<string> {
  const created = await sys.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: await sys.headers(tenant),
    payload: { ...laptopBody, sku: uniqueName('SKU'), quantity_on_hand: onHand, reorder_level: 5 },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id: string = created.json().id;
  // Sales accepts orders only for products it learnt of (inventory.product_created).
  await waitUntil('Sales knows the product', async () => {
    const row = await sys.salesDb.db
      .selectFrom('products')
      .select('product_id')
      .where('tenant_id', '=', tenant)
      .where('product_id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  });
  return id;
}

async function product(sys: TestSystem, tenant: string, id: string): Promise<Json> {
  const res = await sys.inventory.http.inject({
    url: `/api/v1/products/${id}`,
    headers: await sys.headers(tenant),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

async function placeOrder(sys: TestSystem, tenant: string, productId: string, quantity = 1) {
  const res = await sys.sales.http.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: await sys.headers(tenant),
    payload: { customer: 'ACME', lines: [{ product_id: productId, quantity }] },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

async function order(sys: TestSystem, tenant: string, id: string): Promise<Json> {
  const res = await sys.sales.http.inject({
    url: `/api/v1/orders/${id}`,
    headers: await sys.headers(tenant),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

async function untilStatus(sys: TestSystem, tenant: string, id: string, statuses: string[]) {
  let last: Json = {};
  await waitUntil(
    `order ${id} ${statuses.join('|')}`,
    async () => {
      last = await order(sys, tenant, id);
      return statuses.includes(last['status'] as string);
    },
    60_000,
  );
  return last;
}

const steps = (o: Json) => (o['history'] as Json[]).map((h) => h['step']);

test('200 concurrent one-unit orders against 100 available: exactly 100 CONFIRMED, 100 REJECTED, available 0', async (t) => {
  const tenant = uniqueName('tenant');
  const productId = await createProduct(system, tenant, 100);
  const started = performance.now();
  const ids = await Promise.all(
    Array.from({ length: 200 }, () => placeOrder(system, tenant, productId)),
  );
  const finals = await Promise.all(
    ids.map((id) => untilStatus(system, tenant, id, ['CONFIRMED', 'REJECTED'])),
  );
  t.diagnostic(`200 orders placed and decided in ${(performance.now() - started).toFixed(0)} ms`);
  const count = (s: string) => finals.filter((o) => o['status'] === s).length;
  assert.equal(count('CONFIRMED'), 100);
  assert.equal(count('REJECTED'), 100);
  for (const o of finals.filter((f) => f['status'] === 'REJECTED')) {
    assert.equal(o['reason'], 'insufficient_stock');
  }
  const p = await product(system, tenant, productId);
  assert.equal(p['quantity_on_hand'], 100);
  assert.equal(p['quantity_reserved'], 100);
  assert.equal(p['quantity_available'], 0);
  // Each decision once in Inventory's event store: no doubled reservation.
  const decided = await system.inventoryDb.db
    .selectFrom('events')
    .select((eb) => ['event_type', eb.fn.countAll<number>().as('n')])
    .where('tenant_id', '=', tenant)
    .where('stream_id', 'like', 'order:%')
    .groupBy('event_type')
    .execute();
  assert.deepEqual(Object.fromEntries(decided.map((r) => [r.event_type, Number(r.n)])), {
    'inventory.stock_reservation_rejected': 100,
    'inventory.stock_reserved': 100,
  });
});

test('cancel: CANCELLED at once, Inventory releases the reservation (stock_released in the history)', async () => {
  const tenant = uniqueName('tenant');
  const productId = await createProduct(system, tenant, 10);
  const id = await placeOrder(system, tenant, productId, 4);
  await untilStatus(system, tenant, id, ['CONFIRMED']);
  assert.equal((await product(system, tenant, productId))['quantity_available'], 6);

  const res = await system.sales.http.inject({
    method: 'POST',
    url: `/api/v1/orders/${id}/cancel`,
    headers: await system.headers(tenant),
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().status, 'CANCELLED');
  await waitUntil('the release in the history', async () =>
    steps(await order(system, tenant, id)).includes('released'),
  );
  const o = await order(system, tenant, id);
  assert.deepEqual(steps(o), ['placed', 'reserved', 'cancelled', 'released']);
  for (const h of o['history'] as Json[]) {
    assert.equal(typeof h['event_id'], 'string');
    assert.ok(!Number.isNaN(Date.parse(h['at'] as string)));
  }
  const p = await product(system, tenant, productId);
  assert.deepEqual(
    [p['quantity_on_hand'], p['quantity_reserved'], p['quantity_available']],
    [10, 0, 10],
  );

  // Cancelled is final: neither a second cancel nor a fulfilment.
  for (const action of ['cancel', 'fulfil']) {
    const again = await system.sales.http.inject({
      method: 'POST',
      url: `/api/v1/orders/${id}/${action}`,
      headers: await system.headers(tenant),
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'ERP_SALES_ORDER_INVALID_TRANSITION');
  }
});

test('fulfil: FULFILLED, Inventory turns the reservation into an outflow (stock_adjusted, low_stock)', async () => {
  const tenant = uniqueName('tenant');
  const productId = await createProduct(system, tenant, 10);
  const id = await placeOrder(system, tenant, productId, 7);
  await untilStatus(system, tenant, id, ['CONFIRMED']);
  const res = await system.sales.http.inject({
    method: 'POST',
    url: `/api/v1/orders/${id}/fulfil`,
    headers: await system.headers(tenant),
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().status, 'FULFILLED');
  await waitUntil('the outflow in Inventory', async () => {
    const p = await product(system, tenant, productId);
    return p['quantity_on_hand'] === 3;
  });
  const p = await product(system, tenant, productId);
  assert.deepEqual([p['quantity_reserved'], p['quantity_available']], [0, 3]);
  const events = await system.inventoryDb.db
    .selectFrom('events')
    .select(['event_type', 'envelope'])
    .where('tenant_id', '=', tenant)
    .where('stream_id', '=', productId)
    .orderBy('stream_version')
    .execute();
  assert.deepEqual(
    events.map((e) => e.event_type),
    ['inventory.product_created', 'inventory.stock_adjusted', 'inventory.low_stock'],
  );
  // 3 left ≤ reorder level 5: the existing low-stock flow raises an alert in Sales.
  await waitUntil('an open alert in Sales', async () => {
    const alerts = await system.sales.http.inject({
      url: '/api/v1/alerts?status=open',
      headers: await system.headers(tenant),
    });
    return (alerts.json().items as Json[]).some((a) => a['product_id'] === productId);
  });
  await waitUntil('the consumed reservation in the history', async () =>
    steps(await order(system, tenant, id)).includes('released'),
  );
  // A second fulfilment is refused: the outflow happened once.
  const again = await system.sales.http.inject({
    method: 'POST',
    url: `/api/v1/orders/${id}/fulfil`,
    headers: await system.headers(tenant),
  });
  assert.equal(again.statusCode, 409);
});

test('an order found unknown or unfulfillable is REJECTED with the reason; unknown ids are 404', async () => {
  const tenant = uniqueName('tenant');
  const productId = await createProduct(system, tenant, 2);
  const id = await placeOrder(system, tenant, productId, 3);
  const o = await untilStatus(system, tenant, id, ['REJECTED']);
  assert.equal(o['reason'], 'insufficient_stock');
  assert.deepEqual(steps(o), ['placed', 'rejected']);
  const missing = await system.sales.http.inject({
    url: '/api/v1/orders/no-such-order',
    headers: await system.headers(tenant),
  });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'ERP_SALES_ORDER_NOT_FOUND');
});

test('timeout: an order Inventory did not answer is REJECTED; the late reservation is released', async (t) => {
  const local = await startSystem(
    { after: (fn) => t.after(fn) },
    { ORDER_SAGA_TIMEOUT_MS: '1500' },
  );
  const tenant = uniqueName('tenant');
  const productId = await createProduct(local, tenant, 5);
  // Inventory is down while the order waits.
  await local.inventory.stop();
  const id = await placeOrder(local, tenant, productId, 2);
  const timedOut = await untilStatus(local, tenant, id, ['REJECTED']);
  assert.equal(timedOut['reason'], 'timeout');

  // Inventory comes back: it reserves (late), then the order_cancelled sent at the timeout
  // releases it.
  const inventory = local.anotherInventory();
  await inventory.start();
  await waitUntil(
    'the late reservation and its release',
    async () => {
      const s = steps(await order(local, tenant, id));
      return s.includes('late_reservation') && s.includes('released');
    },
    60_000,
  );
  const o = await order(local, tenant, id);
  assert.equal(o['status'], 'REJECTED');
  assert.deepEqual(steps(o), ['placed', 'timed_out', 'late_reservation', 'released']);
  const res = await inventory.http.inject({
    url: `/api/v1/products/${productId}`,
    headers: await local.headers(tenant),
  });
  assert.deepEqual(
    [res.json().quantity_on_hand, res.json().quantity_reserved, res.json().quantity_available],
    [5, 0, 5],
  );
});
