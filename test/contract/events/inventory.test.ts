import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  lowStockPayloadSchema,
  productCreatedPayloadSchema,
  stockAdjustedPayloadSchema,
} from '../../../src/contract/events/inventory.ts';
import { documentExample } from '../fixtures.ts';

test('low_stock: the document payload is valid', () => {
  assert.ok(lowStockPayloadSchema.safeParse(documentExample().payload).success);
});

test('low_stock: days_of_stock_remaining may be absent or null, not negative', () => {
  const p = documentExample().payload;
  assert.ok(lowStockPayloadSchema.safeParse({ ...p, days_of_stock_remaining: null }).success);
  const { days_of_stock_remaining: _omit, ...without } = p;
  assert.ok(lowStockPayloadSchema.safeParse(without).success);
  assert.ok(!lowStockPayloadSchema.safeParse({ ...p, days_of_stock_remaining: -1 }).success);
});

test('low_stock: counts are integers, location is required', () => {
  const p = documentExample().payload;
  assert.ok(lowStockPayloadSchema.safeParse({ ...p, current_stock: -2 }).success);
  assert.ok(!lowStockPayloadSchema.safeParse({ ...p, current_stock: 1.5 }).success);
  assert.ok(!lowStockPayloadSchema.safeParse({ ...p, reorder_level: '10' }).success);
  assert.ok(!lowStockPayloadSchema.safeParse({ ...p, reorder_quantity: -1 }).success);
  const { location: _omit, ...noLocation } = p;
  assert.ok(!lowStockPayloadSchema.safeParse(noLocation).success);
});

const created = {
  product_id: 'PRD-1',
  product_sku: 'SKU-1',
  product_name: 'Widget',
  category: 'tools',
  unit_price: 9.99,
  quantity_on_hand: 0,
  reorder_level: 5,
  reorder_quantity: 20,
  location: 'Warehouse A',
};

test('product_created: valid and invalid', () => {
  assert.ok(productCreatedPayloadSchema.safeParse(created).success);
  assert.ok(!productCreatedPayloadSchema.safeParse({ ...created, quantity_on_hand: -1 }).success);
  assert.ok(!productCreatedPayloadSchema.safeParse({ ...created, product_id: '' }).success);
});

const adjusted = {
  product_id: 'PRD-1',
  product_sku: 'SKU-1',
  quantity_change: 5,
  quantity_before: 2,
  quantity_after: 7,
  reason: 'restock',
};

test('stock_adjusted: adjustment_id is optional', () => {
  assert.ok(stockAdjustedPayloadSchema.safeParse(adjusted).success);
  assert.ok(stockAdjustedPayloadSchema.safeParse({ ...adjusted, adjustment_id: 'adj-1' }).success);
});

test('stock_adjusted: quantity_change must be a non-zero integer', () => {
  const zero = stockAdjustedPayloadSchema.safeParse({
    ...adjusted,
    quantity_change: 0,
    quantity_after: 2,
  });
  assert.ok(!zero.success);
  assert.deepEqual(zero.error.issues[0]?.path, ['quantity_change']);
  assert.ok(!stockAdjustedPayloadSchema.safeParse({ ...adjusted, quantity_change: 2.5 }).success);
});

test('stock_adjusted: quantity_after must equal quantity_before + quantity_change', () => {
  const result = stockAdjustedPayloadSchema.safeParse({ ...adjusted, quantity_after: 8 });
  assert.ok(!result.success);
  assert.deepEqual(result.error.issues[0]?.path, ['quantity_after']);
});
