/**
 * Sales' side of the order saga (choreographed over Kafka; Inventory's side is
 * src/inventory/reservations.ts):
 *
 *   place  → PENDING, sales.order_placed
 *   inventory.stock_reserved             PENDING → CONFIRMED
 *   inventory.stock_reservation_rejected PENDING → REJECTED (reason kept)
 *   timeout (ORDER_SAGA_TIMEOUT_MS)      PENDING → REJECTED (timeout), sales.order_cancelled
 *   cancel PENDING | CONFIRMED → CANCELLED, sales.order_cancelled → Inventory releases
 *   fulfil CONFIRMED → FULFILLED, sales.order_fulfilled → Inventory's outflow
 *
 * Every step writes the order, its history and its event (Sales' outbox) in one transaction.
 * Compensation: a timed-out or cancelled order always sends order_cancelled, keyed like its
 * order_placed, so Inventory sees it after the placement: a reservation made in between (late)
 * is released by it. Sales records the late reservation in the history and changes nothing.
 */
import type { Kysely } from 'kysely';
import { createEvent, kafkaHeadersFor } from '../contract/index.ts';
import type { EventOf, EventType, PayloadInputOf } from '../contract/index.ts';
import { appendToOutbox } from '../messaging/index.ts';
import type { OutboxRow } from '../messaging/index.ts';
import type { Database } from '../platform/index.ts';
import type { OrderStatus, SalesDB } from './db.ts';
import { invalidOrderTransition, orderNotFound } from './errors.ts';
import { SALES_OUTBOX_TABLE, SALES_SOURCE_SERVICE } from './handlers/low-stock.ts';
import {
  appendOrderSteps,
  createOrder,
  expirePendingOrders,
  getOrder,
  setOrderStatus,
} from './orders-repository.ts';
import type { NewOrder, Order } from './orders-repository.ts';

/** The states each caller action may start from. */
export const ORDER_ACTIONS = {
  cancel: ['PENDING', 'CONFIRMED'],
  fulfil: ['CONFIRMED'],
} as const satisfies Record<string, readonly OrderStatus[]>;

export type OrderAction = keyof typeof ORDER_ACTIONS;

export function canDo(action: OrderAction, status: OrderStatus): boolean {
  return (ORDER_ACTIONS[action] as readonly OrderStatus[]).includes(status);
}

/** Orders timed out per sweep transaction. */
const SWEEP_BATCH = 500;

export interface OrderSagaOptions {
  database: Database<SalesDB>;
  /** Topic of sales.* events (KAFKA_SALES_TOPIC). */
  salesTopic: string;
  /** ORDER_SAGA_TIMEOUT_MS: a PENDING order older than this is rejected. */
  timeoutMs: number;
  /** Told after commit when events were appended. Default: none (the relay polls). */
  outbox?: { committed(): void };
  now?: () => Date;
}

/** In the request's transaction, with its response (Idempotency-Key). */
export type StoreInTransaction = (trx: Kysely<SalesDB>, order: Order) => Promise<void>;

export function sagaEvent<T extends EventType>(
  type: T,
  payload: PayloadInputOf<T>,
  tenantId: string,
  at: Date,
  correlationId?: string,
): EventOf<T> {
  return createEvent(type, payload, {
    tenantId,
    sourceService: SALES_SOURCE_SERVICE,
    timestamp: at.toISOString(),
    ...(correlationId === undefined ? {} : { correlationId }),
  });
}

/** The outbox row of an order's event: keyed by the order id, like every step of the saga. */
export function orderOutboxRow(
  topic: string,
  event: EventOf<EventType>,
  orderId: string,
): OutboxRow {
  return {
    eventId: event.metadata.event_id,
    tenantId: event.metadata.tenant_id,
    eventType: event.metadata.event_type,
    topic,
    key: orderId,
    envelope: event,
    headers: kafkaHeadersFor(event),
    occurredAt: new Date(event.metadata.timestamp),
  };
}

export function createOrderSaga(options: OrderSagaOptions) {
  const { database, salesTopic: topic } = options;
  const now = options.now ?? (() => new Date());
  const signal = () => options.outbox?.committed();

  async function place(
    tenantId: string,
    input: NewOrder,
    trx: Kysely<SalesDB>,
    correlationId?: string,
  ): Promise<Order> {
    const at = now();
    const order = await createOrder(trx, tenantId, input, at);
    const event = sagaEvent(
      'sales.order_placed',
      {
        order_id: order.id,
        customer: order.customer,
        lines: order.lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity })),
      },
      tenantId,
      at,
      correlationId,
    );
    await appendOrderSteps(trx, [
      step(tenantId, order.id, 'placed', 'PENDING', null, event.metadata.event_id, at),
    ]);
    await appendToOutbox(trx, SALES_OUTBOX_TABLE, [orderOutboxRow(topic, event, order.id)]);
    return order;
  }

  /** Cancel or fulfil, as the tenant; throws ERP_SALES_ORDER_NOT_FOUND / _INVALID_TRANSITION. */
  async function act(
    action: OrderAction,
    tenantId: string,
    orderId: string,
    store?: StoreInTransaction,
  ): Promise<Order> {
    const order = await database.inTenant(tenantId, async (trx) => {
      const current = await getOrder(trx, tenantId, orderId, true);
      if (current === undefined) throw orderNotFound(orderId);
      if (!canDo(action, current.status)) {
        throw invalidOrderTransition(orderId, current.status, action, ORDER_ACTIONS[action]);
      }
      const at = now();
      const [status, reason] =
        action === 'cancel' ? (['CANCELLED', 'customer'] as const) : (['FULFILLED', null] as const);
      const lines = current.lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity }));
      const event =
        action === 'cancel'
          ? sagaEvent(
              'sales.order_cancelled',
              { order_id: orderId, reason: 'customer' },
              tenantId,
              at,
            )
          : sagaEvent('sales.order_fulfilled', { order_id: orderId, lines }, tenantId, at);
      await setOrderStatus(trx, tenantId, orderId, status, reason, at);
      await appendOrderSteps(trx, [
        step(
          tenantId,
          orderId,
          action === 'cancel' ? 'cancelled' : 'fulfilled',
          status,
          reason,
          event.metadata.event_id,
          at,
        ),
      ]);
      await appendToOutbox(trx, SALES_OUTBOX_TABLE, [orderOutboxRow(topic, event, orderId)]);
      const done: Order = { ...current, status, reason, updated_at: at };
      await store?.(trx, done);
      return done;
    });
    signal();
    return order;
  }

  /**
   * Rejects the orders PENDING for longer than the timeout and sends order_cancelled for each
   * (the compensation of a reservation that may still come). Returns how many it rejected.
   */
  async function sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const at = now();
      const cutoff = new Date(at.getTime() - options.timeoutMs);
      // Across tenants: the service's own role, like the consumer's runs.
      const expired = await database.db.transaction().execute(async (trx) => {
        const rows = await expirePendingOrders(trx, cutoff, at, SWEEP_BATCH);
        const events = rows.map((r) => ({
          row: r,
          event: sagaEvent(
            'sales.order_cancelled',
            { order_id: r.id, reason: 'timeout' },
            r.tenant_id,
            at,
          ),
        }));
        await appendOrderSteps(
          trx,
          events.map(({ row, event }) =>
            step(
              row.tenant_id,
              row.id,
              'timed_out',
              'REJECTED',
              'timeout',
              event.metadata.event_id,
              at,
            ),
          ),
        );
        await appendToOutbox(
          trx,
          SALES_OUTBOX_TABLE,
          events.map(({ row, event }) => orderOutboxRow(topic, event, row.id)),
        );
        return rows.length;
      });
      total += expired;
      if (expired > 0) signal();
      if (expired < SWEEP_BATCH) return total;
    }
  }

  return {
    place,
    cancel: (tenantId: string, orderId: string, store?: StoreInTransaction) =>
      act('cancel', tenantId, orderId, store),
    fulfil: (tenantId: string, orderId: string, store?: StoreInTransaction) =>
      act('fulfil', tenantId, orderId, store),
    sweep,
    signal,
  };
}

export type OrderSaga = ReturnType<typeof createOrderSaga>;

export function step(
  tenantId: string,
  orderId: string,
  name: string,
  status: OrderStatus,
  reason: string | null,
  eventId: string | null,
  at: Date,
) {
  return {
    tenant_id: tenantId,
    order_id: orderId,
    step: name,
    status,
    reason,
    event_id: eventId,
    at,
  };
}

/** Runs `sweep` every `intervalMs` until stopped; a failed sweep is logged and tried again. */
export function createOrderTimeoutWorker(options: {
  saga: OrderSaga;
  intervalMs: number;
  onError: (err: unknown) => void;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = options.saga
      .sweep()
      .catch(options.onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs);
      });
  };
  return {
    name: 'order-timeouts',
    start() {
      stopped = false;
      timer = setTimeout(tick, options.intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
