import { createEvent, EVENT_TYPES } from '../../src/contract/index.ts';
import type { EventOf } from '../../src/contract/index.ts';

// The design document's own example, written as the document shows it: the "Event Structure"
// metadata block around the "Low Stock Event" payload block.
export const DOCUMENT_LOW_STOCK_JSON = `{
  "metadata": {
    "event_id": "evt-123456",
    "event_type": "inventory.low_stock",
    "event_version": "1.0",
    "timestamp": "2024-01-15T10:00:00Z",
    "source_service": "inventory-service",
    "tenant_id": "tenant-1",
    "correlation_id": "corr-789",
    "priority": "high"
  },
  "payload": {
    "product_id": "PRD-123",
    "product_sku": "LAP-001",
    "product_name": "Laptop Computer",
    "current_stock": 8,
    "reorder_level": 10,
    "reorder_quantity": 50,
    "unit_price": 1200.00,
    "category": "electronics",
    "location": "Warehouse A",
    "days_of_stock_remaining": 3.5
  }
}`;

/** A fresh, mutable copy of the document's example. */
export function documentExample(): {
  metadata: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  return JSON.parse(DOCUMENT_LOW_STOCK_JSON) as {
    metadata: Record<string, unknown>;
    payload: Record<string, unknown>;
  };
}

/** A valid inventory.low_stock for `productId` (key) and `tenantId`, with fresh ids. */
export function lowStock(productId: string, tenantId = 'tenant-1'): EventOf<'inventory.low_stock'> {
  return createEvent(
    EVENT_TYPES.lowStock,
    {
      product_id: productId,
      product_sku: `SKU-${productId}`,
      product_name: `Product ${productId}`,
      current_stock: 3,
      reorder_level: 10,
      reorder_quantity: 50,
      unit_price: 12.5,
      category: 'electronics',
      location: 'Warehouse A',
    },
    { tenantId, sourceService: 'inventory-service' },
  );
}
