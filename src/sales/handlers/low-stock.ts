/**
 * inventory.low_stock → alert (open, escalate or update), forecast, notifications and a
 * sales.low_stock_alert_raised event, all in the consumer's batch transaction, for a run of
 * events in a fixed number of statements: one read for all their products, each event decided in
 * memory (planLowStock, pure) against the state the events before it left (an alert opened by the
 * run's first event of a product is the open alert of its second), one write, one outbox append.
 * One clock reading for the run: its events share the alert times and the demand window. Works
 * from the payload alone: Sales need not have seen the product before.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, kafkaHeadersFor } from '../../contract/index.ts';
import type { EventOf, LowStockPayload, Priority } from '../../contract/index.ts';
import { appendToOutbox, traceHeadersOf } from '../../messaging/index.ts';
import type { EventHandler, OutboxRow } from '../../messaging/index.ts';
import { alertPriority, decideAlert, shouldNotify, shouldPublish } from '../alert-policy.ts';
import type { AlertDecision } from '../alert-policy.ts';
import type { SalesDB } from '../db.ts';
import { computeForecast, windowStart } from '../forecast.ts';
import { productKeyOf, readLowStockStates, writeLowStockRows } from '../low-stock-repository.ts';
import type { LowStockRows, LowStockState, ProductKey } from '../low-stock-repository.ts';
import type { AlertMetrics } from '../metrics.ts';
import { newNotificationRow } from '../notifications-repository.ts';

/** `source_service` of events Sales emits. */
export const SALES_SOURCE_SERVICE = 'sales-service';
/** Sales' outbox table. */
export const SALES_OUTBOX_TABLE = 'outbox';

export interface LowStockOptions {
  /** Topic of sales.* events (KAFKA_SALES_TOPIC). Required. */
  salesTopic: string;
  /** Names of the channels that get a notification for a HIGH or CRITICAL alert. Required. */
  notificationChannels: readonly string[];
  /** Kicked after commit when notifications were written. Default: none (a poller finds them). */
  dispatcher?: { kick(): void };
  /** Told after commit when an event was appended. Default: none (the relay polls). */
  outbox?: { committed(): void };
  /** Told after commit of each alert opened or escalated. Default: none. */
  metrics?: AlertMetrics;
  /** Clock for alert times and the forecast window. Default: () => new Date(). */
  now?: () => Date;
}

/** What one event does, decided from the state before it. */
export interface LowStockPlan {
  decision: AlertDecision;
  rows: LowStockRows;
  /** The alert as it is after this event: the state the product's next event sees. */
  openAlert: { id: string; priority: Priority };
  outbox: OutboxRow | undefined;
  log: Record<string, unknown>;
}

/** The decision for one event, as the rows it writes (pure but for new ids). */
export function planLowStock(
  options: Pick<LowStockOptions, 'salesTopic' | 'notificationChannels'>,
  event: EventOf<'inventory.low_stock'>,
  state: LowStockState,
  at: Date,
): LowStockPlan {
  const tenantId = event.metadata.tenant_id;
  const eventId = event.metadata.event_id;
  const p = event.payload;
  const pending = state.pendingOrderQuantity;
  const daysLeft = p.days_of_stock_remaining ?? null;
  const decision = decideAlert(
    state.openAlert?.priority ?? null,
    alertPriority({
      currentStock: p.current_stock,
      reorderLevel: p.reorder_level,
      daysOfStockRemaining: daysLeft,
      pendingOrderQuantity: pending,
    }),
  );
  const alertId = state.openAlert?.id ?? randomUUID();
  const forecast = computeForecast({
    outflow: state.outflow,
    now: at,
    currentStock: p.current_stock,
    pendingOrderQuantity: pending,
    reportedDaysOfStockRemaining: daysLeft,
  });
  const message = shouldNotify(decision) ? notificationMessage(p, decision, pending) : undefined;
  const rows: LowStockRows = {
    alert: {
      id: alertId,
      tenant_id: tenantId,
      product_id: p.product_id,
      product_sku: p.product_sku,
      product_name: p.product_name,
      // For an alert open before this event, only the figures below are applied.
      status: 'open',
      priority: decision.priority,
      current_stock: p.current_stock,
      reorder_level: p.reorder_level,
      pending_order_quantity: pending,
      days_of_stock_remaining: daysLeft,
      source_event_id: eventId,
      opened_at: at,
      updated_at: at,
      acknowledged_at: null,
    },
    history: {
      alert_id: alertId,
      tenant_id: tenantId,
      change: decision.change,
      priority: decision.priority,
      event_id: eventId,
      at,
    },
    notifications:
      message === undefined
        ? []
        : options.notificationChannels.map((channel) =>
            newNotificationRow(
              tenantId,
              { alertId, channel, priority: decision.priority, message },
              at,
            ),
          ),
    forecast: {
      tenant_id: tenantId,
      product_id: p.product_id,
      expected_daily_demand: forecast.expectedDailyDemand,
      pending_order_quantity: pending,
      current_stock: p.current_stock,
      days_of_stock_remaining: forecast.daysOfStockRemaining,
      stockout_date: forecast.stockoutDate,
      source_event_id: eventId,
      updated_at: at,
    },
  };
  return {
    decision,
    rows,
    openAlert: { id: alertId, priority: decision.priority },
    outbox: shouldPublish(decision)
      ? alertRaised(
          options.salesTopic,
          event,
          decision,
          alertId,
          pending,
          forecast.stockoutDate,
          at,
        )
      : undefined,
    log: {
      event_id: eventId,
      alertId,
      productId: p.product_id,
      change: decision.change,
      priority: decision.priority,
      pendingOrderQuantity: pending,
      stockoutDate: forecast.stockoutDate,
    },
  };
}

export function createLowStockHandler(
  options: LowStockOptions,
): EventHandler<'inventory.low_stock', SalesDB> {
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
    const rows: LowStockRows[] = [];
    const outbox: OutboxRow[] = [];
    const raised: { priority: Priority; seconds: number }[] = [];
    for (const { event, record } of events) {
      const key = productKeyOf(event.metadata.tenant_id, event.payload.product_id);
      const state = states.get(key);
      if (state === undefined) throw new Error(`low-stock state of ${key} not read`);
      const plan = planLowStock(options, event, state, at);
      states.set(key, { ...state, openAlert: plan.openAlert });
      rows.push(plan.rows);
      if (plan.outbox !== undefined) {
        // The alert goes on in the trace of the record that raised it (with tracing on).
        const trace = traceHeadersOf(record);
        outbox.push({ ...plan.outbox, headers: { ...plan.outbox.headers, ...trace } });
      }
      if (shouldPublish(plan.decision)) {
        raised.push({ priority: plan.decision.priority, seconds: latencySeconds(event, at) });
      }
      ctx.log.debug(plan.log, `low-stock alert ${String(plan.log['change'])}`);
    }
    await writeLowStockRows(trx, rows);
    const { dispatcher, outbox: signal, metrics } = options;
    // After commit: a rolled-back alert was never raised, and its retry will report it.
    if (metrics !== undefined && raised.length > 0) {
      ctx.afterCommit(() => {
        for (const { priority, seconds } of raised) metrics.alertRaised(priority, seconds);
      });
    }
    if (dispatcher !== undefined && rows.some((r) => r.notifications.length > 0)) {
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

/**
 * From the stock change's commit in Inventory (the event's timestamp, taken in the transaction
 * that appended it) to the alert's time in Sales (its opened_at or updated_at; it commits a few
 * milliseconds later). Never negative: the two services' clocks may disagree a little.
 */
function latencySeconds(event: EventOf<'inventory.low_stock'>, at: Date): number {
  return Math.max(0, at.getTime() - Date.parse(event.metadata.timestamp)) / 1000;
}

/** The sales.low_stock_alert_raised event of a decision, as an outbox row (key: product_id). */
function alertRaised(
  topic: string,
  event: EventOf<'inventory.low_stock'>,
  decision: AlertDecision,
  alertId: string,
  pending: number,
  stockoutDate: string | null,
  at: Date,
): OutboxRow {
  const p = event.payload;
  const tenantId = event.metadata.tenant_id;
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
      stockout_date: stockoutDate,
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
  return {
    eventId: raised.metadata.event_id,
    tenantId,
    eventType: raised.metadata.event_type,
    topic,
    key: p.product_id,
    envelope: raised,
    headers: kafkaHeadersFor(raised),
    occurredAt: at,
  };
}

function notificationMessage(p: LowStockPayload, decision: AlertDecision, pending: number): string {
  const what =
    decision.change === 'escalated'
      ? `escalated to ${decision.priority.toUpperCase()}`
      : decision.priority.toUpperCase();
  return (
    `Low stock ${what}: ${p.product_name} (${p.product_sku}) has ${p.current_stock} in stock, ` +
    `reorder level ${p.reorder_level}, ${pending} on pending orders`
  );
}
