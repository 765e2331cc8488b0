import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowStockAlertRaisedPayloadSchema } from '../../../src/contract/events/sales.ts';

const alert = {
  alert_id: 'alr-1',
  product_id: 'PRD-123',
  product_sku: 'LAP-001',
  product_name: 'Laptop Computer',
  current_stock: 8,
  reorder_level: 10,
  pending_order_quantity: 12,
  priority: 'high',
  previous_priority: null,
  source_event_id: 'evt-123456',
};

test('low_stock_alert_raised: minimal alert is valid; optional fields may be null or absent', () => {
  assert.ok(lowStockAlertRaisedPayloadSchema.safeParse(alert).success);
  assert.ok(
    lowStockAlertRaisedPayloadSchema.safeParse({
      ...alert,
      previous_priority: 'medium',
      days_of_stock_remaining: 2.5,
      stockout_date: '2024-01-18',
    }).success,
  );
  assert.ok(
    lowStockAlertRaisedPayloadSchema.safeParse({
      ...alert,
      days_of_stock_remaining: null,
      stockout_date: null,
    }).success,
  );
});

test('low_stock_alert_raised: previous_priority is required (null when first)', () => {
  const { previous_priority: _omit, ...without } = alert;
  assert.ok(!lowStockAlertRaisedPayloadSchema.safeParse(without).success);
});

test('low_stock_alert_raised: bad priority, date and counts are refused', () => {
  const bad = (patch: Record<string, unknown>) =>
    !lowStockAlertRaisedPayloadSchema.safeParse({ ...alert, ...patch }).success;
  assert.ok(bad({ priority: 'HIGH' }));
  assert.ok(bad({ stockout_date: '2024-01-18T00:00:00Z' }));
  assert.ok(bad({ stockout_date: '18/01/2024' }));
  assert.ok(bad({ pending_order_quantity: -1 }));
  assert.ok(bad({ source_event_id: '' }));
});
