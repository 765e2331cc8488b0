import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createCommandHandler } from '../../src/inventory/commands.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { rebuildProducts } from '../../src/inventory/rebuild.ts';
import type { ProductDifference } from '../../src/inventory/rebuild.ts';
import { testDatabase } from '../support/database.ts';
import { laptop } from './fixtures.ts';

const tenantId = 'tenant-1';

async function quantities(db: Awaited<ReturnType<typeof testDatabase<InventoryDB>>>['db']) {
  const rows = await db
    .selectFrom('products')
    .select(['id', 'quantity_on_hand', 'version'])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

test('a corrupted, a missing and an orphan row are found, reported and repaired', async (t) => {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { product } = await commands.createProduct({ ...laptop, sku: `SKU-${i}` }, { tenantId });
    await commands.adjustStock(product.id, { quantityChange: -3, reason: 'sale' }, { tenantId });
    ids.push(product.id);
  }
  const [corrupt, missing, , other] = ids as [string, string, string, string];
  const before = await quantities(database.db);
  await sql`UPDATE products SET quantity_on_hand = 5, name = 'wrong' WHERE id = ${corrupt}`.execute(
    database.db,
  );
  await sql`DELETE FROM products WHERE id = ${missing}`.execute(database.db);
  await sql`INSERT INTO products SELECT 'orphan', tenant_id, 'SKU-X', name, category, unit_price,
    quantity_on_hand, reorder_level, reorder_quantity, location, version, created_at, updated_at
    FROM products WHERE id = ${other}`.execute(database.db);

  const seen: ProductDifference[] = [];
  const verify = await rebuildProducts(database, {
    verifyOnly: true,
    onDifference: (d) => seen.push(d),
  });
  assert.deepEqual(verify, { checked: 5, differences: 3, fixed: 0 });
  assert.deepEqual(
    seen.map((d) => [d.productId, d.kind]).sort(),
    [
      [corrupt, 'fields'],
      [missing, 'missing row'],
      ['orphan', 'orphan row'],
    ].sort(),
  );
  const fields = seen.find((d) => d.productId === corrupt)?.fields;
  assert.deepEqual(fields, {
    name: ['wrong', laptop.name],
    quantityOnHand: [5, laptop.quantityOnHand - 3],
  });
  // Verify-only changed nothing.
  assert.equal((await quantities(database.db)).get(corrupt)?.quantity_on_hand, 5);

  const fixed = await rebuildProducts(database);
  assert.deepEqual(fixed, { checked: 5, differences: 3, fixed: 3 });
  const after = await quantities(database.db);
  assert.deepEqual(after, before);
  assert.deepEqual(await rebuildProducts(database, { verifyOnly: true }), {
    checked: 4,
    differences: 0,
    fixed: 0,
  });
});

test('--tenant limits the rebuild to one tenant', async (t) => {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const a = await commands.createProduct(laptop, { tenantId: 'tenant-a' });
  const b = await commands.createProduct(laptop, { tenantId: 'tenant-b' });
  await sql`UPDATE products SET quantity_on_hand = 1`.execute(database.db);
  assert.deepEqual(await rebuildProducts(database, { tenant: 'tenant-a' }), {
    checked: 1,
    differences: 1,
    fixed: 1,
  });
  const rows = await quantities(database.db);
  assert.equal(rows.get(a.product.id)?.quantity_on_hand, laptop.quantityOnHand);
  assert.equal(rows.get(b.product.id)?.quantity_on_hand, 1);
});

test('stock adjustments running during rebuilds are all kept, and no rebuild sees a torn stream', async (t) => {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const { product } = await commands.createProduct(
      { ...laptop, sku: `SKU-${i}`, quantityOnHand: 10_000 },
      { tenantId },
    );
    ids.push(product.id);
  }
  // One product corrupted before the run: the only difference any pass may find.
  const corrupt = ids[0]!;
  await sql`UPDATE products SET quantity_on_hand = 7 WHERE id = ${corrupt}`.execute(database.db);

  const expected = new Map(ids.map((id) => [id, 10_000]));
  let writing = true;
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; i < 60; i++) {
      const id = ids[1 + ((w + i) % (ids.length - 1))]!;
      const change = i % 3 === 0 ? 5 : -2;
      await commands.adjustStock(id, { quantityChange: change, reason: 'count' }, { tenantId });
      expected.set(id, expected.get(id)! + change);
    }
  });
  const differences: ProductDifference[] = [];
  let passes = 0;
  const rebuilding = (async () => {
    while (writing || passes === 0) {
      await rebuildProducts(database, { pageSize: 3, onDifference: (d) => differences.push(d) });
      passes++;
    }
  })();
  await Promise.all(writers);
  writing = false;
  await rebuilding;

  assert.ok(passes >= 2, `only ${passes} rebuild pass(es) overlapped the writes`);
  assert.deepEqual(
    differences.map((d) => [d.productId, Object.keys(d.fields)]),
    [[corrupt, ['quantityOnHand']]],
  );
  const rows = await quantities(database.db);
  for (const [id, quantity] of expected) assert.equal(rows.get(id)?.quantity_on_hand, quantity, id);
  assert.deepEqual(await rebuildProducts(database, { verifyOnly: true }), {
    checked: ids.length,
    differences: 0,
    fixed: 0,
  });
});
