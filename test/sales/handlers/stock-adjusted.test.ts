import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely, KyselyPlugin } from 'kysely';
import type { EventOf } from '../../../src/contract/index.ts';
import type { SalesDB } from '../../../src/sales/db.ts';
import { handleProductCreated } from '../../../src/sales/handlers/product-created.ts';
import { handleStockAdjusted } from '../../../src/sales/handlers/stock-adjusted.ts';
import { findProduct } from '../../../src/sales/products-repository.ts';
import { testDatabase } from '../../support/database.ts';
import { consumed, inTransaction, productCreatedEvent, stockAdjustedEvent } from '../fixtures.ts';

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
    handleProductCreated(
      consumed(productCreatedEvent('tenant-a', {}, '2024-03-01T00:00:00Z')),
      ctx,
    ),
  );
  await inTransaction(database, async (ctx) => {
    await handleStockAdjusted(
      consumed(stockAdjustedEvent('tenant-a', { before: 40, change: -7 }, '2024-03-02T00:00:00Z')),
      ctx,
    );
    await handleStockAdjusted(
      consumed(stockAdjustedEvent('tenant-a', { before: 33, change: 20 }, '2024-03-03T00:00:00Z')),
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
      consumed(stockAdjustedEvent('tenant-a', { product_id: 'GHOST', before: 10, change: -4 })),
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
      consumed(stockAdjustedEvent('tenant-a', { before: 10, change: -4 }, '2024-03-05T00:00:00Z')),
      ctx,
    );
    await handleStockAdjusted(
      consumed(stockAdjustedEvent('tenant-a', { before: 12, change: -2 }, '2024-03-04T00:00:00Z')),
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
    await handleStockAdjusted(
      consumed(stockAdjustedEvent('tenant-a', { before: 10, change: -4 })),
      ctx,
    );
    await handleStockAdjusted(
      consumed(stockAdjustedEvent('tenant-b', { before: 50, change: -1 })),
      ctx,
    );
  });
  assert.equal((await findProduct(database.db, 'tenant-a', 'PRD-1'))?.quantity_on_hand, 6);
  assert.equal((await findProduct(database.db, 'tenant-b', 'PRD-1'))?.quantity_on_hand, 49);
});

/** Every products row and the demand history in id order, without the generated ids. */
async function readModel(database: { db: Kysely<SalesDB> }) {
  const products = await database.db
    .selectFrom('products')
    .selectAll()
    .orderBy('tenant_id')
    .orderBy('product_id')
    .execute();
  return { products, demand: await demand(database) };
}

/** Runs the batch handler in one transaction; returns how many statements it executed. */
async function applyBatch(
  database: Parameters<typeof inTransaction>[0],
  events: EventOf<'inventory.stock_adjusted'>[],
): Promise<number> {
  let statements = 0;
  const counter: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: (args) => {
      statements++;
      return Promise.resolve(args.result);
    },
  };
  await inTransaction(database, (ctx) =>
    handleStockAdjusted(consumed(...events), { ...ctx, trx: ctx.trx.withPlugin(counter) }),
  );
  return statements;
}

const day = (d: number, hour = 0) =>
  `2024-03-${String(d).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;

test('a run handled in one call writes exactly what its events handled one by one write', async (t) => {
  const perEvent = await testDatabase<SalesDB>(t, 'sales');
  const batched = await testDatabase<SalesDB>(t, 'sales');
  // Rows written before the run, the same in both databases: PRD-2's is newer than some events.
  for (const database of [perEvent, batched]) {
    await inTransaction(database, async (ctx) => {
      await handleProductCreated(consumed(productCreatedEvent('tenant-a', {}, day(5))), ctx);
      await handleStockAdjusted(
        consumed(
          stockAdjustedEvent('tenant-a', { product_id: 'PRD-2', before: 30, change: -10 }, day(10)),
        ),
        ctx,
      );
    });
  }
  const a1 = (before: number, change: number, at: string, sku = 'LAP-001') =>
    stockAdjustedEvent('tenant-a', { before, change, product_sku: sku }, at);
  const run = [
    a1(40, -5, day(6)),
    // Another tenant's PRD-1: the same product id, a row of its own.
    stockAdjustedEvent('tenant-b', { before: 9, change: -4 }, day(6)),
    a1(35, 10, day(8), 'LAP-001-B'),
    // Older than the row the run left: the row keeps day 8, the outflow is recorded.
    a1(35, -3, day(7)),
    // As old as the row: applied one by one it overwrites, so it wins here too.
    a1(45, -2, day(8), 'LAP-001-C'),
    stockAdjustedEvent('tenant-b', { before: 5, change: 2 }, day(6)),
    // Older than the row stored before the run: outflow only.
    stockAdjustedEvent('tenant-a', { product_id: 'PRD-2', before: 26, change: -6 }, day(9)),
    a1(43, -1, day(4)),
    // A product Sales has never seen, then an older adjustment of it.
    stockAdjustedEvent('tenant-b', { product_id: 'NEW-1', before: 0, change: 5 }, day(2)),
    stockAdjustedEvent('tenant-b', { product_id: 'NEW-1', before: 7, change: -1 }, day(1)),
    // As old as the stored row: it wins.
    stockAdjustedEvent('tenant-a', { product_id: 'PRD-2', before: 20, change: 1 }, day(10)),
    stockAdjustedEvent('tenant-b', { before: 7, change: -7 }, day(5, 23)),
  ];
  await inTransaction(perEvent, async (ctx) => {
    for (const event of run) await handleStockAdjusted(consumed(event), ctx);
  });
  const statements = await applyBatch(batched, run);

  const expected = await readModel(perEvent);
  assert.deepEqual(await readModel(batched), expected);
  assert.equal(statements, 1);
  // The run really exercised the cases: the equal-time winner, the stored row kept or replaced.
  assert.deepEqual(
    expected.products.map((p) => [p.tenant_id, p.product_id, p.sku, p.quantity_on_hand, p.name]),
    [
      ['tenant-a', 'PRD-1', 'LAP-001-C', 43, 'Laptop'],
      ['tenant-a', 'PRD-2', 'LAP-001', 21, null],
      ['tenant-b', 'NEW-1', 'LAP-001', 5, null],
      ['tenant-b', 'PRD-1', 'LAP-001', 7, null],
    ],
  );
  assert.deepEqual(
    expected.demand.map((d) => [d.tenant_id, d.product_id, d.quantity]),
    [
      ['tenant-a', 'PRD-2', 10],
      ['tenant-a', 'PRD-1', 5],
      ['tenant-b', 'PRD-1', 4],
      ['tenant-a', 'PRD-1', 3],
      ['tenant-a', 'PRD-1', 2],
      ['tenant-a', 'PRD-2', 6],
      ['tenant-a', 'PRD-1', 1],
      ['tenant-b', 'NEW-1', 1],
      ['tenant-b', 'PRD-1', 7],
    ],
  );
});

test('a run past the parameter limit is split into more statements', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const base = Date.parse('2024-03-01T00:00:00Z');
  const at = (i: number) => new Date(base + i * 1000).toISOString();
  // 7,000 products and 9,000 outflows: 71,000 parameters in a single statement, over 65,535.
  const run = Array.from({ length: 9000 }, (_, i) =>
    i < 7000
      ? stockAdjustedEvent('tenant-a', { product_id: `P${i}`, before: 100, change: -1 }, at(i))
      : stockAdjustedEvent(
          'tenant-a',
          { product_id: `P${i - 7000}`, before: 99, change: -2 },
          at(i),
        ),
  );
  const statements = await applyBatch(database, run);

  assert.equal(statements, 2);
  const { products, demand: history } = await readModel(database);
  const quantities = new Map(products.map((p) => [p.product_id, p.quantity_on_hand]));
  assert.equal(quantities.size, 7000);
  assert.equal(quantities.get('P0'), 97);
  assert.equal(quantities.get('P1999'), 97);
  assert.equal(quantities.get('P2000'), 99);
  assert.equal(quantities.get('P6999'), 99);
  // Every outflow, in run order across the statements.
  assert.deepEqual(
    history.map((d) => `${d.product_id}:${d.quantity}:${d.occurred_at.toISOString()}`),
    run.map((e) => `${e.payload.product_id}:${-e.payload.quantity_change}:${e.metadata.timestamp}`),
  );
});
