/**
 * inventory.low_stock → alert (open, escalate or update), forecast, notifications and a
 * sales.low_stock_alert_raised event, all in the consumer's batch transaction. Works from the
 * payload alone: Sales need not have seen the product before.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, kafkaHeadersFor } from '../../contract/index.ts';
import type { EventOf, LowStockPayload, Priority } from '../../contract/index.ts';
import { appendToOutbox } from '../../messaging/outbox.ts';
import { alertPriority, decideAlert, shouldNotify, shouldPublish } from '../alert-policy.ts';
import type { AlertDecision } from '../alert-policy.ts';
import type { AlertFigures } from '../alerts-repository.ts';
import { computeForecast, windowStart } from '../forecast.ts';
import { readLowStockState, writeLowStockOutcome } from '../low-stock-repository.ts';
import type { SalesHandlerContext } from './context.ts';

/** `source_service` of events Sales emits. */
export const SALES_SOURCE_SERVICE = 'sales-service';
/** Sales' outbox table. */
export const SALES_OUTBOX_TABLE = 'outbox';

export interface LowStockHandlerOptions {
  /** Topic of sales.* events (KAFKA_SALES_TOPIC). Required. */
  salesTopic: string;
  /** NOTIFY channel the outbox relay listens on. Required. */
  outboxChannel: string;
  /** Names of the channels that get a notification for a HIGH or CRITICAL alert. Required. */
  notificationChannels: readonly string[];
  /** Kicked after commit when notifications were written. Default: none (a poller finds them). */
  dispatcher?: { kick(): void };
  /** Woken after commit when an event was appended. Default: none (the NOTIFY wakes it). */
  relay?: { wake(): void };
  /** Clock for alert times and the forecast window. Default: () => new Date(). */
  now?: () => Date;
}

export type LowStockHandler = (
  event: EventOf<'inventory.low_stock'>,
  ctx: SalesHandlerContext,
) => Promise<void>;

export function createLowStockHandler(options: LowStockHandlerOptions): LowStockHandler {
  const now = options.now ?? (() => new Date());
  return async (event, ctx) => {
    const { trx } = ctx;
    const tenantId = event.metadata.tenant_id;
    const p = event.payload;
    const at = now();

    const state = await readLowStockState(trx, tenantId, p.product_id, windowStart(at), at);
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

    await writeLowStockOutcome(trx, tenantId, {
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
    });
    const { dispatcher } = options;
    if (notifications.length > 0 && dispatcher !== undefined) {
      ctx.afterCommit(() => dispatcher.kick());
    }

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
      await appendToOutbox(trx, SALES_OUTBOX_TABLE, options.outboxChannel, [
        {
          eventId: raised.metadata.event_id,
          tenantId,
          eventType: raised.metadata.event_type,
          topic: options.salesTopic,
          key: p.product_id,
          envelope: raised,
          headers: kafkaHeadersFor(raised),
          occurredAt: at,
        },
      ]);
      const { relay } = options;
      if (relay !== undefined) ctx.afterCommit(() => relay.wake());
    }

    ctx.log.info(
      {
        alertId,
        productId: p.product_id,
        change: decision.change,
        priority: decision.priority,
        pendingOrderQuantity: pending,
        stockoutDate: forecast.stockoutDate,
      },
      `low-stock alert ${decision.change}`,
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
