import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCommandHandler } from '../../src/inventory/commands.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { INVENTORY_HTTP_STATUSES, registerInventoryRoutes } from '../../src/inventory/routes.ts';
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  headerTenancy,
} from '../../src/platform/index.ts';
import { testDatabase } from '../support/database.ts';
import { laptopBody } from './fixtures.ts';

async function setup(t: Parameters<typeof testDatabase>[0]) {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  let committed = 0;
  const commands = createCommandHandler({
    database,
    topic: 'inventory-events',
    outbox: { committed: () => void committed++ },
  });
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
    errorStatuses: INVENTORY_HTTP_STATUSES,
  });
  registerInventoryRoutes(server.app, { database, commands });
  t.after(() => server.app.close());
  return { app: server.app, committed: () => committed };
}

const product = laptopBody;
const tenant = (id: string) => ({ 'x-tenant-id': id });

test('create, adjust and read a product over HTTP', async (t) => {
  const { app, committed } = await setup(t);
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: tenant('tenant-1'),
    payload: product,
  });
  assert.equal(created.statusCode, 201);
  const body = created.json();
  assert.equal(created.headers.location, `/api/v1/products/${body.id}`);
  assert.equal(body.quantity_on_hand, 100);

  const adjusted = await app.inject({
    method: 'POST',
    url: `/api/v1/products/${body.id}/stock-adjustments`,
    headers: tenant('tenant-1'),
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201);
  assert.equal(adjusted.json().product.quantity_on_hand, 8);
  assert.deepEqual(
    adjusted.json().events.map((e: { event_type: string }) => e.event_type),
    ['inventory.stock_adjusted', 'inventory.low_stock'],
  );
  assert.equal(committed(), 2);

  const read = await app.inject({
    url: `/api/v1/products/${body.id}`,
    headers: tenant('tenant-1'),
  });
  assert.equal(read.json().quantity_on_hand, 8);
  assert.equal(read.json().needs_reorder, true);
  const list = await app.inject({ url: '/api/v1/products', headers: tenant('tenant-1') });
  assert.deepEqual(
    list.json().items.map((p: { id: string }) => p.id),
    [body.id],
  );
});

test('tenants see only their own products', async (t) => {
  const { app } = await setup(t);
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: tenant('tenant-1'),
    payload: product,
  });
  const id = created.json().id;
  const other = await app.inject({ url: `/api/v1/products/${id}`, headers: tenant('tenant-2') });
  assert.equal(other.statusCode, 404);
  assert.equal(other.json().error.code, 'ERP_INV_PRODUCT_NOT_FOUND');
  assert.deepEqual(
    (await app.inject({ url: '/api/v1/products', headers: tenant('tenant-2') })).json().items,
    [],
  );
});

test('bad input gets 400 naming the field; going below zero gets 409; no tenant gets 400', async (t) => {
  const { app } = await setup(t);
  const bad = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: tenant('tenant-1'),
    payload: { ...product, reorder_level: -1 },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'ERP_HTTP_INVALID_INPUT');
  assert.equal(bad.json().error.field, 'reorder_level');

  const malformed = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: { ...tenant('tenant-1'), 'content-type': 'application/json' },
    payload: '{"sku":',
  });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().error.code, 'ERP_HTTP_BAD_REQUEST');

  const id = (
    await app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: tenant('tenant-1'),
      payload: product,
    })
  ).json().id;
  const zero = await app.inject({
    method: 'POST',
    url: `/api/v1/products/${id}/stock-adjustments`,
    headers: tenant('tenant-1'),
    payload: { quantity_change: 0, reason: 'sale' },
  });
  assert.equal(zero.json().error.field, 'quantity_change');
  const below = await app.inject({
    method: 'POST',
    url: `/api/v1/products/${id}/stock-adjustments`,
    headers: tenant('tenant-1'),
    payload: { quantity_change: -101, reason: 'sale' },
  });
  assert.equal(below.statusCode, 409);
  assert.equal(below.json().error.code, 'ERP_INV_INSUFFICIENT_STOCK');

  const noTenant = await app.inject({ url: '/api/v1/products' });
  assert.equal(noTenant.statusCode, 400);
  assert.equal(noTenant.json().error.code, 'ERP_HTTP_MISSING_TENANT');
  const dup = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: tenant('tenant-1'),
    payload: product,
  });
  assert.equal(dup.statusCode, 409);
  assert.equal(dup.json().error.code, 'ERP_INV_DUPLICATE_SKU');
});

test('NUL characters and lone surrogates are refused naming the field, in bodies and paths', async (t) => {
  const { app } = await setup(t);
  const post = (payload: object) =>
    app.inject({ method: 'POST', url: '/api/v1/products', headers: tenant('tenant-1'), payload });
  for (const [field, value] of [
    ['name', 'a\u0000b'],
    ['sku', 'S-\u0000'],
    ['location', 'A\u0000'],
    ['sku', 'S-\ud800'],
    ['category', '\udc00x'],
  ] as const) {
    const res = await post({ ...product, sku: `SKU-${field}-${value.length}`, [field]: value });
    assert.equal(res.statusCode, 400, `${field}: ${JSON.stringify(value)}`);
    assert.equal(res.json().error.code, 'ERP_HTTP_INVALID_INPUT');
    assert.equal(res.json().error.field, field);
  }
  // Two skus differing only in a lone surrogate no longer collide: both are refused up front.
  assert.equal((await post({ ...product, sku: 'S-\ud800' })).statusCode, 400);
  assert.equal((await post({ ...product, sku: 'S-\ud801' })).statusCode, 400);
  // A well-formed pair is stored and read back unchanged.
  const emoji = await post({ ...product, sku: 'S-😀', name: 'Laptop 😀' });
  assert.equal(emoji.statusCode, 201);
  const read = await app.inject({
    url: `/api/v1/products/${emoji.json().id}`,
    headers: tenant('tenant-1'),
  });
  assert.equal(read.json().sku, 'S-😀');

  const byPath = await app.inject({
    url: '/api/v1/products/abc%00def',
    headers: tenant('tenant-1'),
  });
  assert.equal(byPath.statusCode, 400);
  assert.deepEqual(
    [byPath.json().error.code, byPath.json().error.field],
    ['ERP_HTTP_INVALID_INPUT', 'id'],
  );
  const reason = await app.inject({
    method: 'POST',
    url: `/api/v1/products/${emoji.json().id}/stock-adjustments`,
    headers: tenant('tenant-1'),
    payload: { quantity_change: -1, reason: 'sale\u0000' },
  });
  assert.deepEqual([reason.statusCode, reason.json().error.field], [400, 'reason']);
});

test('stock never passes the bound a product can be created with: 409 ERP_INV_STOCK_LIMIT', async (t) => {
  const { app } = await setup(t);
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: tenant('tenant-1'),
    payload: { ...product, quantity_on_hand: 9 },
  });
  const id = created.json().id as string;
  const adjust = (quantity_change: number) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/products/${id}/stock-adjustments`,
      headers: tenant('tenant-1'),
      payload: { quantity_change, reason: 'restock' },
    });
  const over = await adjust(1_000_000_000);
  assert.equal(over.statusCode, 409);
  assert.equal(over.json().error.code, 'ERP_INV_STOCK_LIMIT');
  assert.equal((await adjust(999_999_991)).statusCode, 201, 'exactly the bound is allowed');
  assert.equal((await adjust(1)).json().error.code, 'ERP_INV_STOCK_LIMIT');
  const read = await app.inject({ url: `/api/v1/products/${id}`, headers: tenant('tenant-1') });
  assert.equal(read.json().quantity_on_hand, 1_000_000_000);
});

test('unknown keys are refused in bodies and queries alike, naming the key', async (t) => {
  const { app } = await setup(t);
  const body = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: tenant('tenant-1'),
    payload: { ...product, tenant_id: 'tenant-2' },
  });
  assert.equal(body.statusCode, 400);
  assert.equal(body.json().error.field, 'tenant_id');
  const query = await app.inject({
    url: '/api/v1/products?limit=5&colour=red',
    headers: tenant('tenant-1'),
  });
  assert.equal(query.statusCode, 400);
  assert.equal(query.json().error.field, 'colour');
});

test('Idempotency-Key: a retried create or adjustment answers the first response, with one effect', async (t) => {
  const { app } = await setup(t);
  const withKey = (key: string) => ({ ...tenant('tenant-1'), 'idempotency-key': key });
  const create = () =>
    app.inject({
      method: 'POST',
      url: '/api/v1/products',
      headers: withKey('create-1'),
      payload: product,
    });
  const created = await create();
  const again = await create();
  assert.equal(again.statusCode, 201);
  assert.deepEqual(again.json(), created.json());
  assert.equal(again.headers.location, created.headers.location);
  const list = await app.inject({ url: '/api/v1/products', headers: tenant('tenant-1') });
  assert.equal(list.json().items.length, 1, 'one product, not a duplicate sku error either');

  const id = created.json().id as string;
  const adjust = (key: string, quantity_change: number) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/products/${id}/stock-adjustments`,
      headers: withKey(key),
      payload: { quantity_change, reason: 'sale' },
    });
  const first = await adjust('adj-1', -5);
  const retried = await adjust('adj-1', -5);
  assert.deepEqual(retried.json(), first.json());
  assert.equal(retried.headers['idempotent-replayed'], 'true');
  const reused = await adjust('adj-1', -6);
  assert.equal(reused.statusCode, 422);
  assert.equal(reused.json().error.code, 'ERP_HTTP_IDEMPOTENCY_KEY_REUSED');
  const read = await app.inject({ url: `/api/v1/products/${id}`, headers: tenant('tenant-1') });
  assert.equal(read.json().quantity_on_hand, 95, 'adjusted once');
});
