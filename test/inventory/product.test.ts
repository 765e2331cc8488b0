import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEvent } from '../../src/contract/index.ts';
import type { AnyEvent } from '../../src/contract/index.ts';
import { decide, evolve } from '../../src/inventory/product.ts';
import type { ProductState } from '../../src/inventory/product.ts';
import { laptop } from './fixtures.ts';

const base: ProductState = {
  id: 'p-1',
  tenantId: 'tenant-1',
  ...laptop,
  quantityReserved: 0,
  version: 1,
};
const noHistory = { daysOfStockRemaining: () => undefined };
const adjust = (quantityChange: number) => ({
  kind: 'adjust' as const,
  productId: 'p-1',
  quantityChange,
  reason: 'sale',
  adjustmentId: 'a-1',
});

test('an adjustment above the reorder level emits only stock_adjusted', () => {
  const events = decide(base, adjust(-5), noHistory);
  assert.deepEqual(
    events.map((e) => e.type),
    ['inventory.stock_adjusted'],
  );
  assert.deepEqual(events[0]?.payload, {
    product_id: 'p-1',
    product_sku: 'LAP-001',
    quantity_change: -5,
    quantity_before: 100,
    quantity_after: 95,
    reason: 'sale',
    adjustment_id: 'a-1',
  });
});

test('reaching the reorder level emits low_stock with the document payload and its priority', () => {
  const at10 = decide(base, adjust(-90), noHistory);
  assert.deepEqual(
    at10.map((e) => [e.type, e.priority]),
    [
      ['inventory.stock_adjusted', 'low'],
      ['inventory.low_stock', 'medium'],
    ],
  );
  assert.deepEqual(at10[1]?.payload, {
    product_id: 'p-1',
    product_sku: 'LAP-001',
    product_name: 'Laptop Computer',
    current_stock: 10,
    reorder_level: 10,
    reorder_quantity: 50,
    unit_price: 1200,
    category: 'electronics',
    location: 'Warehouse A',
  });
  assert.equal(decide(base, adjust(-89), noHistory).length, 1, '11 on hand is above the level');
  assert.equal(decide(base, adjust(-96), noHistory)[1]?.priority, 'high', '4 is under half of 10');
  assert.equal(decide(base, adjust(-100), noHistory)[1]?.priority, 'critical');
});

test('days of stock remaining come from the context and raise the priority under 3 days', () => {
  const events = decide(base, adjust(-92), { daysOfStockRemaining: (after) => after / 4 });
  assert.equal(events[1]?.payload.days_of_stock_remaining, 2);
  assert.equal(events[1]?.priority, 'high');
});

test('stock never goes below zero, and unknown or existing products are refused with stable codes', () => {
  assert.throws(() => decide(base, adjust(-101), noHistory), {
    code: 'ERP_INV_INSUFFICIENT_STOCK',
  });
  assert.throws(() => decide(null, adjust(-1), noHistory), {
    code: 'ERP_INV_PRODUCT_NOT_FOUND',
  });
  const create = {
    kind: 'create' as const,
    productId: 'p-1',
    sku: 'S',
    name: 'N',
    category: 'c',
    unitPrice: 1,
    quantityOnHand: 1,
    reorderLevel: 0,
    reorderQuantity: 0,
    location: 'L',
  };
  assert.throws(() => decide(base, create, noHistory), { code: 'ERP_INV_PRODUCT_EXISTS' });
});

test('creating a product at or under its reorder level reports low stock at once', () => {
  const create = {
    kind: 'create' as const,
    productId: 'p-2',
    sku: 'S',
    name: 'N',
    category: 'c',
    unitPrice: 1,
    quantityOnHand: 0,
    reorderLevel: 5,
    reorderQuantity: 10,
    location: 'L',
  };
  const events = decide(null, create, noHistory);
  assert.deepEqual(
    events.map((e) => [e.type, e.priority]),
    [
      ['inventory.product_created', 'low'],
      ['inventory.low_stock', 'critical'],
    ],
  );
});

test('folding the stream rebuilds the state, every event counting toward the version', () => {
  const create = { kind: 'create' as const, productId: 'p-1', ...laptop };
  const toEvents = (decided: ReturnType<typeof decide>) =>
    decided.map(
      (d) =>
        createEvent(d.type, d.payload, {
          tenantId: 'tenant-1',
          sourceService: 'inventory-service',
          priority: d.priority,
        }) as AnyEvent,
    );
  let state: ProductState | null = null;
  const stream: AnyEvent[] = [];
  for (const command of [create, adjust(-50), adjust(-45)]) {
    const events = toEvents(decide(state, command, noHistory));
    stream.push(...events);
    state = events.reduce(evolve, state);
  }
  assert.equal(stream.length, 4, 'created, adjusted, adjusted, low stock');
  assert.deepEqual(state, { ...base, quantityOnHand: 5, version: 4 });
});
