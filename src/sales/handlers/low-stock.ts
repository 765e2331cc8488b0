/**
 * inventory.low_stock → alert (open, escalate or update), forecast, notifications and a
 * sales.low_stock_alert_raised event, all in the consumer's batch transaction. Works from the
 * payload alone: Sales need not have seen the product before.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, kafkaHeadersFor } from '../../contract/index.ts';
import type { EventOf, LowStockPayload, Priority } from '../../contract/index.ts';
import { appendToOutbox } from '../../messaging/outbox.ts';
import type { OutboxRow } from '../../messaging/outbox.ts';
import { alertPriority, decideAlert, shouldNotify, shouldPublish } from '../alert-policy.ts';
import type { AlertDecision } from '../alert-policy.ts';
import type { AlertFigures } from '../alerts-repository.ts';
import { computeForecast, windowStart } from '../forecast.ts';
import {
  productKeyOf,
  readLowStockState,
  readLowStockStates,
  writeLowStockOutcome,
  writeLowStockOutcomes,
} from '../low-stock-repository.ts';
import type {
  LowStockBatchWrite,
  LowStockState,
  LowStockWrite,
  ProductKey,
} from '../low-stock-repository.ts';
import type { SalesHandlerContext } from './context.ts';

/** `source_service` of events Sales emits. */
export const SALES_SOURCE_SERVICE = 'sales-service';
/** Sales' outbox table. */
export const SALES_OUTBOX_TABLE = 'outbox';

export interface LowStockHandlerOptions {
  /** Topic of sales.* events (KAFKA_SALES_TOPIC). Required. */
  salesTopic: string;
  /** Names of the channels that get a notification for a HIGH or CRITICAL alert. Required. */
  notificationChannels: readonly string[];
  /** Kicked after commit when notifications were written. Default: none (a poller finds them). */
  dispatcher?: { kick(): void };
  /** Told after commit when an event was appended (outbox-signal.ts). Default: none (the relay polls). */
  outbox?: { committed(): void };
  /** Clock for alert times and the forecast window. Default: () => new Date(). */
  now?: () => Date;
}

export type LowStockHandler = (
  event: EventOf<'inventory.low_stock'>,
  ctx: SalesHandlerContext,
) => Promise<void>;

export type LowStockBatchHandler = (
  events: { event: EventOf<'inventory.low_stock'> }[],
  ctx: SalesHandlerContext,
) => Promise<void>;

/** What one event does, decided from the state before it; written by the caller. */
interface LowStockPlan {
  write: LowStockWrite;
  /** The alert as it is after this event: the state the product's next event sees. */
  openAlert: { id: string; priority: Priority };
  outbox: OutboxRow | undefined;
  log: Record<string, unknown>;
  message: string;
}

/** The decision for one event: pure, shared by the per-event and the batch handler. */
function planLowStock(
  options: LowStockHandlerOptions,
  event: EventOf<'inventory.low_stock'>,
  state: LowStockState,
  at: Date,
): LowStockPlan {
  const tenantId = event.metadata.tenant_id;
  const p = event.payload;
  const pending = state.pendingOrderQuantity;
  const computed = alertPriority({
    currentStock: p.current_stock,
    reorderLevel: p.reorder_level,
    daysOfStockRemaining: p.days_of_stock_remaining ?? null,
    pendingOrderQuantity: pending,
  });

  const open = state.openAlert;
  const decision = decideAlert(open?.priority ?? null, computed);
  const figures: AlertFigures = {
    product_sku: p.product_sku,
    product_name: p.product_name,
    current_stock: p.current_stock,
    reorder_level: p.reorder_level,
    pending_order_quantity: pending,
    days_of_stock_remaining: p.days_of_stock_remaining ?? null,
    source_event_id: event.metadata.event_id,
  };
  const alertId = open?.id ?? randomUUID();
  const forecast = computeForecast({
    outflow: state.outflow,
    now: at,
    currentStock: p.current_stock,
    pendingOrderQuantity: pending,
    reportedDaysOfStockRemaining: p.days_of_stock_remaining ?? null,
  });
  const message = shouldNotify(decision) ? notificationMessage(p, decision, pending) : undefined;
  const notifications =
    message === undefined
      ? []
      : options.notificationChannels.map((channel) => ({
          alertId,
          channel,
          priority: decision.priority,
          message,
        }));

  const write: LowStockWrite = {
    alert:
      open === undefined
        ? {
            kind: 'open',
            row: {
              ...figures,
              id: alertId,
              tenant_id: tenantId,
              product_id: p.product_id,
              status: 'open',
              priority: decision.priority,
              opened_at: at,
              updated_at: at,
              acknowledged_at: null,
            },
          }
        : {
            kind: 'update',
            id: alertId,
            figures: { ...figures, priority: decision.priority, updated_at: at },
          },
    history: {
      change: decision.change,
      priority: decision.priority,
      event_id: event.metadata.event_id,
      at,
    },
    notifications,
    notifiedAt: at,
    forecast: {
      product_id: p.product_id,
      expected_daily_demand: forecast.expectedDailyDemand,
      pending_order_quantity: pending,
      current_stock: p.current_stock,
      days_of_stock_remaining: forecast.daysOfStockRemaining,
      stockout_date: forecast.stockoutDate,
      source_event_id: event.metadata.event_id,
      updated_at: at,
    },
  };

  let outbox: OutboxRow | undefined;
  if (shouldPublish(decision)) {
    const raised = createEvent(
      'sales.low_stock_alert_raised',
      {
        alert_id: alertId,
        product_id: p.product_id,
        product_sku: p.product_sku,
        product_name: p.product_name,
        current_stock: p.current_stock,
        reorder_level: p.reorder_level,
        pending_order_quantity: pending,
        priority: decision.priority,
        previous_priority: decision.previousPriority,
        days_of_stock_remaining: p.days_of_stock_remaining ?? null,
        stockout_date: forecast.stockoutDate,
        source_event_id: event.metadata.event_id,
      },
      {
        tenantId,
        sourceService: SALES_SOURCE_SERVICE,
        correlationId: event.metadata.correlation_id,
        priority: decision.priority,
        timestamp: at.toISOString(),
      },
    );
    outbox = {
      eventId: raised.metadata.event_id,
      tenantId,
      eventType: raised.metadata.event_type,
      topic: options.salesTopic,
      key: p.product_id,
      envelope: raised,
      headers: kafkaHeadersFor(raised),
      occurredAt: at,
    };
  }

  return {
    write,
    openAlert: { id: alertId, priority: decision.priority },
    outbox,
    log: {
      alertId,
      productId: p.product_id,
      change: decision.change,
      priority: decision.priority,
      pendingOrderQuantity: pending,
      stockoutDate: forecast.stockoutDate,
    },
    message: `low-stock alert ${decision.change}`,
  };
}

export function createLowStockHandler(options: LowStockHandlerOptions): LowStockHandler {
  const now = options.now ?? (() => new Date());
  return async (event, ctx) => {
    const { trx } = ctx;
    const tenantId = event.metadata.tenant_id;
    const at = now();
    const state = await readLowStockState(
      trx,
      tenantId,
      event.payload.product_id,
      windowStart(at),
      at,
    );
    const plan = planLowStock(options, event, state, at);
    await writeLowStockOutcome(trx, tenantId, plan.write);
    const { dispatcher, outbox: signal } = options;
    if (plan.write.notifications.length > 0 && dispatcher !== undefined) {
      ctx.afterCommit(() => dispatcher.kick());
    }
    if (plan.outbox !== undefined) {
      await appendToOutbox(trx, SALES_OUTBOX_TABLE, [plan.outbox]);
      if (signal !== undefined) ctx.afterCommit(() => signal.committed());
    }
    ctx.log.info(plan.log, plan.message);
  };
}

/**
 * The same effects as the per-event handler applied to `events` in order, in a fixed number of
 * statements: one read for all their products, then each event decided in memory against the
 * state the events before it left (an alert opened by the run's first event of a product is the
 * open alert of its second), then one write and one outbox append. One clock reading for the
 * run: its events share the alert times and the demand window.
 */
export function createLowStockBatchHandler(options: LowStockHandlerOptions): LowStockBatchHandler {
  const now = options.now ?? (() => new Date());
  return async (events, ctx) => {
    if (events.length === 0) return;
    const { trx } = ctx;
    const at = now();
    const products = new Map<string, ProductKey>();
    for (const { event } of events) {
      const key = { tenantId: event.metadata.tenant_id, productId: event.payload.product_id };
      products.set(productKeyOf(key.tenantId, key.productId), key);
    }
    const states = await readLowStockStates(trx, [...products.values()], windowStart(at), at);
    const writes: LowStockBatchWrite[] = [];
    const outbox: OutboxRow[] = [];
    for (const { event } of events) {
      const tenantId = event.metadata.tenant_id;
      const productId = event.payload.product_id;
      const key = productKeyOf(tenantId, productId);
      const state = states.get(key);
      if (state === undefined) throw new Error(`low-stock state of ${key} not read`);
      const plan = planLowStock(options, event, state, at);
      states.set(key, { ...state, openAlert: plan.openAlert });
      writes.push({ ...plan.write, tenantId, productId });
      if (plan.outbox !== undefined) outbox.push(plan.outbox);
      ctx.log.debug({ event_id: event.metadata.event_id, ...plan.log }, plan.message);
    }
    await writeLowStockOutcomes(trx, writes);
    const { dispatcher, outbox: signal } = options;
    if (dispatcher !== undefined && writes.some((w) => w.notifications.length > 0)) {
      ctx.afterCommit(() => dispatcher.kick());
    }
    if (outbox.length > 0) {
      await appendToOutbox(trx, SALES_OUTBOX_TABLE, outbox);
      if (signal !== undefined) ctx.afterCommit(() => signal.committed());
    }
    ctx.log.info(
      { events: events.length, products: products.size, published: outbox.length },
      'low-stock events applied',
    );
  };
}

function notificationMessage(p: LowStockPayload, decision: AlertDecision, pending: number): string {
  const what =
    decision.change === 'escalated'
      ? `escalated to ${upper(decision.priority)}`
      : upper(decision.priority);
  return (
    `Low stock ${what}: ${p.product_name} (${p.product_sku}) has ${p.current_stock} in stock, ` +
    `reorder level ${p.reorder_level}, ${pending} on pending orders`
  );
}

function upper(priority: Priority): string {
  return priority.toUpperCase();
}
