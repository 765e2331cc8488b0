import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SalesDB } from '../../../src/sales/db.ts';
import { handleProductCreated } from '../../../src/sales/handlers/product-created.ts';
import { handleStockAdjusted } from '../../../src/sales/handlers/stock-adjusted.ts';
import { findProduct } from '../../../src/sales/products-repository.ts';
import { testDatabase } from '../../support/database.ts';
import { consumed, inTransaction, productCreatedEvent, stockAdjustedEvent } from '../fixtures.ts';

test('stores the product in the tenant read model', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const event = productCreatedEvent('tenant-a', {}, '2024-03-01T00:00:00Z');
  await inTransaction(database, (ctx) => handleProductCreated(consumed(event), ctx));
  assert.deepEqual(await findProduct(database.db, 'tenant-a', 'PRD-1'), {
    product_id: 'PRD-1',
    sku: 'LAP-001',
    name: 'Laptop',
    category: 'electronics',
    unit_price: 1200.5,
    quantity_on_hand: 40,
    reorder_level: 10,
    reorder_quantity: 50,
    location: 'Warehouse A',
    updated_at: new Date('2024-03-01T00:00:00Z'),
  });
  assert.equal(await findProduct(database.db, 'tenant-b', 'PRD-1'), undefined);
});

test('completes a row an earlier adjustment created, keeping the newer quantity', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const adjusted = stockAdjustedEvent(
    'tenant-a',
    { before: 40, change: -5 },
    '2024-03-02T00:00:00Z',
  );
  await inTransaction(database, (ctx) => handleStockAdjusted(consumed(adjusted), ctx));
  const created = productCreatedEvent('tenant-a', { quantity_on_hand: 40 }, '2024-03-01T00:00:00Z');
  await inTransaction(database, (ctx) => handleProductCreated(consumed(created), ctx));
  const product = await findProduct(database.db, 'tenant-a', 'PRD-1');
  assert.equal(product?.name, 'Laptop');
  assert.equal(product?.reorder_level, 10);
  assert.equal(product?.quantity_on_hand, 35);
  assert.deepEqual(product?.updated_at, new Date('2024-03-02T00:00:00Z'));
});

test('a run of creations writes what they write one by one, also for one product twice', async (t) => {
  const oneByOne = await testDatabase<SalesDB>(t, 'sales');
  const together = await testDatabase<SalesDB>(t, 'sales');
  const run = [
    productCreatedEvent(
      'tenant-a',
      { quantity_on_hand: 5, product_name: 'First' },
      '2024-03-02T00:00:00Z',
    ),
    productCreatedEvent('tenant-b', { quantity_on_hand: 9 }, '2024-03-01T00:00:00Z'),
    // Older than the first: the catalog fields come from the later event in the run, the
    // quantity from the newer one.
    productCreatedEvent(
      'tenant-a',
      { quantity_on_hand: 7, product_name: 'Second' },
      '2024-03-01T00:00:00Z',
    ),
  ];
  await inTransaction(oneByOne, async (ctx) => {
    for (const event of run) await handleProductCreated(consumed(event), ctx);
  });
  await inTransaction(together, (ctx) => handleProductCreated(consumed(...run), ctx));
  for (const [tenant, name, quantity] of [
    ['tenant-a', 'Second', 5],
    ['tenant-b', 'Laptop', 9],
  ] as const) {
    const expected = await findProduct(oneByOne.db, tenant, 'PRD-1');
    assert.deepEqual(await findProduct(together.db, tenant, 'PRD-1'), expected);
    assert.deepEqual([expected?.name, expected?.quantity_on_hand], [name, quantity]);
  }
});
