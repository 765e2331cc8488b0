import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import type { SalesDB } from '../../../src/sales/db.ts';
import { handleProductCreated } from '../../../src/sales/handlers/product-created.ts';
import { handleStockAdjusted } from '../../../src/sales/handlers/stock-adjusted.ts';
import { findProduct } from '../../../src/sales/products-repository.ts';
import { testDatabase } from '../../support/database.ts';
import { inTransaction, productCreatedEvent, stockAdjustedEvent } from '../fixtures.ts';

function demand(database: { db: Kysely<SalesDB> }) {
  return database.db
    .selectFrom('demand_history')
    .select(['tenant_id', 'product_id', 'quantity', 'occurred_at'])
    .orderBy('id')
    .execute();
}

test('updates the quantity and records outflows, not inflows', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await inTransaction(database, (ctx) =>
    handleProductCreated(productCreatedEvent('tenant-a', {}, '2024-03-01T00:00:00Z'), ctx),
  );
  await inTransaction(database, async (ctx) => {
    await handleStockAdjusted(
      stockAdjustedEvent('tenant-a', { before: 40, change: -7 }, '2024-03-02T00:00:00Z'),
      ctx,
    );
    await handleStockAdjusted(
      stockAdjustedEvent('tenant-a', { before: 33, change: 20 }, '2024-03-03T00:00:00Z'),
      ctx,
    );
  });
  const product = await findProduct(database.db, 'tenant-a', 'PRD-1');
  assert.equal(product?.quantity_on_hand, 53);
  assert.equal(product?.name, 'Laptop');
  assert.deepEqual(await demand(database), [
    {
      tenant_id: 'tenant-a',
      product_id: 'PRD-1',
      quantity: 7,
      occurred_at: new Date('2024-03-02T00:00:00Z'),
    },
  ]);
});

test('an adjustment for an unknown product stores what the payload has', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await inTransaction(database, (ctx) =>
    handleStockAdjusted(
      stockAdjustedEvent('tenant-a', { product_id: 'GHOST', before: 10, change: -4 }),
      ctx,
    ),
  );
  const product = await findProduct(database.db, 'tenant-a', 'GHOST');
  assert.equal(product?.sku, 'LAP-001');
  assert.equal(product?.quantity_on_hand, 6);
  assert.equal(product?.name, null);
  assert.equal(product?.reorder_level, null);
  assert.equal((await demand(database)).length, 1);
});

test('an adjustment older than the row does not roll the quantity back', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await inTransaction(database, async (ctx) => {
    await handleStockAdjusted(
      stockAdjustedEvent('tenant-a', { before: 10, change: -4 }, '2024-03-05T00:00:00Z'),
      ctx,
    );
    await handleStockAdjusted(
      stockAdjustedEvent('tenant-a', { before: 12, change: -2 }, '2024-03-04T00:00:00Z'),
      ctx,
    );
  });
  assert.equal((await findProduct(database.db, 'tenant-a', 'PRD-1'))?.quantity_on_hand, 6);
  // The late outflow still happened: demand history keeps it.
  assert.deepEqual(
    (await demand(database)).map((d) => d.quantity),
    [4, 2],
  );
});

test('tenants do not share products', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await inTransaction(database, async (ctx) => {
    await handleStockAdjusted(stockAdjustedEvent('tenant-a', { before: 10, change: -4 }), ctx);
    await handleStockAdjusted(stockAdjustedEvent('tenant-b', { before: 50, change: -1 }), ctx);
  });
  assert.equal((await findProduct(database.db, 'tenant-a', 'PRD-1'))?.quantity_on_hand, 6);
  assert.equal((await findProduct(database.db, 'tenant-b', 'PRD-1'))?.quantity_on_hand, 49);
});
