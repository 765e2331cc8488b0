/** Events and a handler context for calling Sales handlers directly, without Kafka. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { createEvent, messageKeyOf } from '../../src/contract/index.ts';
import type { PayloadInputOf } from '../../src/contract/index.ts';
import type { AnyEvent, EventOf, EventType } from '../../src/contract/index.ts';
import type { ConsumedEvent, HandlerContext } from '../../src/messaging/index.ts';
import type { Database } from '../../src/platform/index.ts';
import type { SalesDB } from '../../src/sales/db.ts';

export const silentLogger = pino({ level: 'silent' });

export function lowStockEvent(
  tenantId: string,
  payload: Partial<PayloadInputOf<'inventory.low_stock'>> = {},
  correlationId = `corr-${randomUUID()}`,
): EventOf<'inventory.low_stock'> {
  return createEvent(
    'inventory.low_stock',
    {
      product_id: 'PRD-1',
      product_sku: 'LAP-001',
      product_name: 'Laptop',
      current_stock: 8,
      reorder_level: 10,
      reorder_quantity: 50,
      unit_price: 1200,
      category: 'electronics',
      location: 'Warehouse A',
      days_of_stock_remaining: null,
      ...payload,
    },
    { tenantId, sourceService: 'inventory-service', correlationId, priority: 'medium' },
  );
}

export function productCreatedEvent(
  tenantId: string,
  payload: Partial<PayloadInputOf<'inventory.product_created'>> = {},
  timestamp?: string,
): EventOf<'inventory.product_created'> {
  return createEvent(
    'inventory.product_created',
    {
      product_id: 'PRD-1',
      product_sku: 'LAP-001',
      product_name: 'Laptop',
      category: 'electronics',
      unit_price: 1200.5,
      quantity_on_hand: 40,
      reorder_level: 10,
      reorder_quantity: 50,
      location: 'Warehouse A',
      ...payload,
    },
    { tenantId, sourceService: 'inventory-service', ...(timestamp ? { timestamp } : {}) },
  );
}

export function stockAdjustedEvent(
  tenantId: string,
  change: { product_id?: string; product_sku?: string; before: number; change: number },
  timestamp?: string,
): EventOf<'inventory.stock_adjusted'> {
  return createEvent(
    'inventory.stock_adjusted',
    {
      product_id: change.product_id ?? 'PRD-1',
      product_sku: change.product_sku ?? 'LAP-001',
      quantity_change: change.change,
      quantity_before: change.before,
      quantity_after: change.before + change.change,
      reason: change.change < 0 ? 'sale' : 'restock',
    },
    { tenantId, sourceService: 'inventory-service', ...(timestamp ? { timestamp } : {}) },
  );
}

/**
 * Runs `fn` in a transaction with a context like the consumer's; returns the after-commit
 * callbacks it registered (not run: the test decides).
 */
export async function inTransaction(
  database: Database<SalesDB>,
  fn: (ctx: HandlerContext<SalesDB>) => Promise<void>,
): Promise<(() => void | Promise<void>)[]> {
  const callbacks: (() => void | Promise<void>)[] = [];
  await database.db.transaction().execute(async (trx: Kysely<SalesDB>) => {
    await fn({ trx, log: silentLogger, afterCommit: (cb) => callbacks.push(cb) });
  });
  return callbacks;
}

export const DAY_MS = 86_400_000;

/** `events` as a handler receives them, each with a Kafka record of its own (offsets in order). */
export function consumed<T extends EventType>(...events: EventOf<T>[]): ConsumedEvent<T>[] {
  return events.map((event, i) => ({
    event,
    record: {
      topic: 'inventory-events',
      partition: 0,
      offset: BigInt(i),
      key: Buffer.from(messageKeyOf(event as AnyEvent)),
      value: Buffer.from(JSON.stringify(event)),
      headers: {},
      timestamp: Date.parse(event.metadata.timestamp),
    },
  }));
}
