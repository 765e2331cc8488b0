import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { createCommandHandler } from '../../src/inventory/commands.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { readStream } from '../../src/inventory/event-store.ts';
import { evolve } from '../../src/inventory/product.ts';
import type { ProductState } from '../../src/inventory/product.ts';
import { getProduct } from '../../src/inventory/products-repository.ts';
import { testDatabase } from '../support/database.ts';
import { laptop } from './fixtures.ts';

/** The product's state in the read model (its view without the timestamps). */
async function findProduct(db: Kysely<InventoryDB>, tenantId: string, id: string) {
  const view = await getProduct(db, tenantId, id);
  if (view === null) return null;
  const { createdAt: _created, updatedAt: _updated, ...state } = view;
  return state;
}

async function setup(t: Parameters<typeof testDatabase>[0]) {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({
    database,
    topic: 'inventory-events',
  });
  return { database, commands, db: database.db };
}

test('commands append to the product stream and the read model equals the fold of the stream', async (t) => {
  const { db, commands } = await setup(t);
  const meta = { tenantId: 'tenant-1', correlationId: 'corr-1' };
  const created = await commands.createProduct(laptop, meta);
  const id = created.product.id;
  await commands.adjustStock(id, { quantityChange: -50, reason: 'sale' }, meta);
  const last = await commands.adjustStock(id, { quantityChange: -42, reason: 'sale' }, meta);
  assert.deepEqual(
    last.events.map((e) => e.metadata.event_type),
    ['inventory.stock_adjusted', 'inventory.low_stock'],
  );

  const stream = await readStream(db, 'tenant-1', id);
  assert.deepEqual(
    stream.map((e) => e.metadata.event_type),
    [
      'inventory.product_created',
      'inventory.stock_adjusted',
      'inventory.stock_adjusted',
      'inventory.low_stock',
    ],
  );
  assert.ok(
    stream.every(
      (e) => e.metadata.correlation_id === 'corr-1' && e.metadata.tenant_id === 'tenant-1',
    ),
  );
  const folded = stream.reduce<ProductState | null>(evolve, null);
  assert.deepEqual(await findProduct(db, 'tenant-1', id), folded);
  assert.equal(folded?.quantityOnHand, 8);
  assert.equal(folded?.version, 4);

  const rows = await db
    .selectFrom('events')
    .select(['stream_version', 'message_key', 'topic', 'published_at'])
    .where('stream_id', '=', id)
    .orderBy('stream_version')
    .execute();
  assert.deepEqual(
    rows.map((r) => r.stream_version),
    [1, 2, 3, 4],
  );
  assert.ok(
    rows.every(
      (r) => r.message_key === id && r.topic === 'inventory-events' && r.published_at === null,
    ),
  );
});

test('days of stock remaining come from the recent outflow and drive the priority', async (t) => {
  const { commands } = await setup(t);
  const meta = { tenantId: 'tenant-1' };
  const { product } = await commands.createProduct(laptop, meta);
  const result = await commands.adjustStock(
    product.id,
    { quantityChange: -92, reason: 'sale' },
    meta,
  );
  const low = result.events[1];
  assert.equal(low?.metadata.event_type, 'inventory.low_stock');
  // 92 units left within the first day: 8 on hand last 8/92 of a day.
  assert.equal(
    (low?.payload as { days_of_stock_remaining?: number }).days_of_stock_remaining,
    0.09,
  );
  assert.equal(low?.metadata.priority, 'high');
});

test('a product created without outflow history has no days_of_stock_remaining', async (t) => {
  const { commands } = await setup(t);
  const result = await commands.createProduct(
    { ...laptop, quantityOnHand: 8 },
    { tenantId: 'tenant-1' },
  );
  const low = result.events[1];
  assert.equal(low?.metadata.event_type, 'inventory.low_stock');
  assert.equal('days_of_stock_remaining' in (low?.payload ?? {}), false);
  assert.equal(low?.metadata.priority, 'medium');
});

test('refusals leave no trace: stock below zero, duplicate sku, another tenant', async (t) => {
  const { db, commands } = await setup(t);
  const { product } = await commands.createProduct(laptop, { tenantId: 'tenant-1' });
  await assert.rejects(
    commands.adjustStock(
      product.id,
      { quantityChange: -101, reason: 'sale' },
      { tenantId: 'tenant-1' },
    ),
    {
      code: 'ERP_INV_INSUFFICIENT_STOCK',
    },
  );
  await assert.rejects(commands.createProduct(laptop, { tenantId: 'tenant-1' }), {
    code: 'ERP_INV_DUPLICATE_SKU',
  });
  await assert.rejects(
    commands.adjustStock(
      product.id,
      { quantityChange: -1, reason: 'sale' },
      { tenantId: 'tenant-2' },
    ),
    {
      code: 'ERP_INV_PRODUCT_NOT_FOUND',
    },
  );
  // The same sku is free in another tenant.
  await commands.createProduct(laptop, { tenantId: 'tenant-2' });
  const events = await db.selectFrom('events').select('event_type').execute();
  assert.equal(events.length, 2);
  assert.equal((await findProduct(db, 'tenant-1', product.id))?.quantityOnHand, 100);
});

test('concurrent adjustments of one product all apply, with a gapless stream', async (t) => {
  const { db, commands } = await setup(t);
  const { product } = await commands.createProduct(
    { ...laptop, reorderLevel: 0 },
    { tenantId: 'tenant-1' },
  );
  await Promise.all(
    Array.from({ length: 20 }, () =>
      commands.adjustStock(
        product.id,
        { quantityChange: -1, reason: 'sale' },
        { tenantId: 'tenant-1' },
      ),
    ),
  );
  assert.equal((await findProduct(db, 'tenant-1', product.id))?.quantityOnHand, 80);
  const versions = await db
    .selectFrom('events')
    .select('stream_version')
    .where('stream_id', '=', product.id)
    .orderBy('stream_version')
    .execute();
  assert.deepEqual(
    versions.map((v) => v.stream_version),
    Array.from({ length: 21 }, (_, i) => i + 1),
  );
});
