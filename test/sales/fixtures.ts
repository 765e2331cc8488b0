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
import {
  handleStockReleased,
  handleStockReservationRejected,
  handleStockReserved,
} from '../../src/sales/handlers/order-replies.ts';
import { createOrderSaga } from '../../src/sales/order-saga.ts';
import { getOrder, getOrderHistory } from '../../src/sales/orders-repository.ts';
import { testDatabase } from '../support/database.ts';
import type { Cleanup } from '../support/database.ts';

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

const SAGA_TENANT = 'tenant-1';

function inventoryReply<T extends EventType>(type: T, payload: PayloadInputOf<T>): EventOf<T> {
  return createEvent(type, payload, { tenantId: SAGA_TENANT, sourceService: 'inventory-service' });
}

/**
 * A migrated Sales database with the order saga on a clock that moves 1 ms per call (`advance`
 * jumps), orders of one line (2 of P-1) for `tenant-1`, and Inventory's answers applied as the
 * consumer applies them.
 */
export async function orderSagaFixture(t: Cleanup, timeoutMs = 60_000) {
  const tenantId = SAGA_TENANT;
  const database = await testDatabase<SalesDB>(t, 'sales');
  let clock = Date.parse('2024-03-10T12:00:00Z');
  const advance = (ms: number) => (clock += ms);
  const saga = createOrderSaga({
    database,
    salesTopic: 'sales-events',
    timeoutMs,
    now: () => new Date((clock += 1)),
  });
  const place = () =>
    database.inTenant(tenantId, (trx) =>
      saga.place(tenantId, { customer: 'ACME', lines: [{ product_id: 'P-1', quantity: 2 }] }, trx),
    );
  const line = [{ product_id: 'P-1', quantity: 2 }];
  const reserved = (orderId: string) =>
    inTransaction(database, (ctx) =>
      handleStockReserved(
        consumed(inventoryReply('inventory.stock_reserved', { order_id: orderId, lines: line })),
        ctx,
      ),
    );
  const rejected = (orderId: string) =>
    inTransaction(database, (ctx) =>
      handleStockReservationRejected(
        consumed(
          inventoryReply('inventory.stock_reservation_rejected', {
            order_id: orderId,
            reason: 'insufficient_stock',
            lines_short: [
              { product_id: 'P-1', requested: 2, available: 1, reason: 'insufficient_stock' },
            ],
          }),
        ),
        ctx,
      ),
    );
  const released = (orderId: string, reason: string) =>
    inTransaction(database, (ctx) =>
      handleStockReleased(
        consumed(
          inventoryReply('inventory.stock_released', { order_id: orderId, reason, lines: line }),
        ),
        ctx,
      ),
    );
  const status = async (id: string) => (await getOrder(database.db, tenantId, id))?.status;
  const steps = async (id: string) =>
    (await getOrderHistory(database.db, tenantId, id)).map((h) => [h.step, h.status]);
  const outbox = async () =>
    database.db
      .selectFrom('outbox')
      .select(['event_type', 'message_key', 'topic'])
      .orderBy('position')
      .execute();
  return {
    tenantId,
    database,
    saga,
    place,
    reserved,
    rejected,
    released,
    status,
    steps,
    outbox,
    advance,
  };
}
