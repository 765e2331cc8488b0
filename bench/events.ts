/** Realistic `inventory.low_stock` events for the benchmarks, built with the contract. */
import { randomUUID } from 'node:crypto';
import { computePriority, createEvent } from '../src/contract/index.ts';
import type { EventOf } from '../src/contract/index.ts';
import { tenantOf } from './support.ts';

const CATEGORIES = ['electronics', 'office supplies', 'furniture', 'networking', 'peripherals'];
const NAMES = ['Laptop Computer', 'Office Chair', 'USB-C Docking Station', 'Wireless Mouse'];

export interface BenchProduct {
  tenantId: string;
  productId: string;
  sku: string;
  name: string;
  category: string;
  location: string;
  unitPrice: number;
}

/** `count` products spread round-robin over the benchmark tenants. */
export function benchProducts(count: number): BenchProduct[] {
  return Array.from({ length: count }, (_, i) => ({
    tenantId: tenantOf(i),
    productId: randomUUID(),
    sku: `SKU-${String(i).padStart(6, '0')}`,
    name: `${NAMES[i % NAMES.length]!} ${i}`,
    category: CATEGORIES[i % CATEGORIES.length]!,
    location: `Warehouse ${String.fromCharCode(65 + (i % 4))}`,
    unitPrice: Math.round(1000 + ((i * 7919) % 200_000)) / 100,
  }));
}

/** `count` low-stock events over `products`, each with figures a real adjustment could leave. */
export function lowStockEvents(
  products: readonly BenchProduct[],
  count: number,
): EventOf<'inventory.low_stock'>[] {
  const events: EventOf<'inventory.low_stock'>[] = [];
  for (let i = 0; i < count; i++) {
    const p = products[i % products.length]!;
    const reorderLevel = 20 + (i % 80);
    const currentStock = (i * 31) % (reorderLevel + 1);
    const days = currentStock === 0 ? 0 : Math.round((currentStock / (1 + (i % 9))) * 100) / 100;
    events.push(
      createEvent(
        'inventory.low_stock',
        {
          product_id: p.productId,
          product_sku: p.sku,
          product_name: p.name,
          current_stock: currentStock,
          reorder_level: reorderLevel,
          reorder_quantity: reorderLevel * 5,
          unit_price: p.unitPrice,
          category: p.category,
          location: p.location,
          days_of_stock_remaining: days,
        },
        {
          tenantId: p.tenantId,
          sourceService: 'inventory-service',
          correlationId: randomUUID(),
          priority: computePriority({
            currentStock,
            reorderLevel,
            daysOfStockRemaining: days,
          }),
        },
      ),
    );
  }
  return events;
}
