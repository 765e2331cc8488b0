import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_REGISTRY, EVENT_TYPES, isEventType } from '../../src/contract/registry.ts';
import type { EventOf, EventType } from '../../src/contract/registry.ts';

test('every EVENT_TYPES constant is registered with major version 1', () => {
  for (const type of Object.values(EVENT_TYPES)) {
    assert.ok(isEventType(type), type);
    assert.deepEqual(EVENT_REGISTRY[type].majorVersions, [1]);
  }
  assert.equal(Object.keys(EVENT_REGISTRY).length, Object.keys(EVENT_TYPES).length);
});

test('isEventType rejects unknown types and inherited keys', () => {
  assert.equal(isEventType('billing.invoice_paid'), false);
  assert.equal(isEventType('toString'), false);
  assert.equal(isEventType('__proto__'), false);
});

test('EventOf gives the typed payload (compile-time check, asserted at run time)', () => {
  const event: EventOf<'inventory.low_stock'> = {
    metadata: {
      event_id: 'e',
      event_type: 'inventory.low_stock',
      event_version: '1.0',
      timestamp: '2024-01-15T10:00:00Z',
      source_service: 's',
      tenant_id: 't',
      correlation_id: 'c',
      priority: 'low',
    },
    payload: {
      product_id: 'p',
      product_sku: 's',
      product_name: 'n',
      current_stock: 1,
      reorder_level: 2,
      reorder_quantity: 3,
      unit_price: 4,
      category: 'c',
      location: 'l',
    },
  };
  const stock: number = event.payload.current_stock;
  const type: EventType = EVENT_TYPES.lowStock;
  assert.equal(stock, 1);
  assert.ok(EVENT_REGISTRY[type].payload.safeParse(event.payload).success);
});
