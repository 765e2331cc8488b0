/**
 * How a low-stock event becomes an alert decision. Pure: the handler feeds it numbers and the
 * open alert's priority, and writes what it returns.
 */
import { PRIORITIES, computePriority, priorityRank } from '../contract/index.ts';
import type { Priority } from '../contract/index.ts';

export interface AlertPriorityInput {
  currentStock: number;
  reorderLevel: number;
  daysOfStockRemaining?: number | null;
  /** Units on pending orders for the product. */
  pendingOrderQuantity: number;
}

/** The next priority up, `critical` staying `critical`. */
export function escalateOnce(priority: Priority): Priority {
  return PRIORITIES[Math.min(priorityRank(priority) + 1, PRIORITIES.length - 1)] ?? 'critical';
}

/**
 * The contract's rule on the event's figures, one level higher when pending orders already ask
 * for more than is in stock: those customers will not be served whatever the reorder level says.
 */
export function alertPriority(input: AlertPriorityInput): Priority {
  const base = computePriority({
    currentStock: input.currentStock,
    reorderLevel: input.reorderLevel,
    daysOfStockRemaining: input.daysOfStockRemaining ?? null,
  });
  return input.pendingOrderQuantity > input.currentStock ? escalateOnce(base) : base;
}

export interface AlertDecision {
  change: 'opened' | 'escalated' | 'updated';
  /** The priority the alert has after this event. */
  priority: Priority;
  /** The open alert's priority before this event; null when the alert is new. */
  previousPriority: Priority | null;
}

/**
 * `openPriority` is the priority of the product's open alert, or null when there is none. An open
 * alert is never lowered: stock that recovers shows up as newer figures, and a person closes the
 * alert by acknowledging it.
 */
export function decideAlert(openPriority: Priority | null, computed: Priority): AlertDecision {
  if (openPriority === null)
    return { change: 'opened', priority: computed, previousPriority: null };
  if (priorityRank(computed) > priorityRank(openPriority)) {
    return { change: 'escalated', priority: computed, previousPriority: openPriority };
  }
  return { change: 'updated', priority: openPriority, previousPriority: openPriority };
}

/** Opened or escalated alerts are news for other services; a figures update is not. */
export function shouldPublish(decision: AlertDecision): boolean {
  return decision.change !== 'updated';
}

/** People are paged only for urgent news. */
export function shouldNotify(decision: AlertDecision): boolean {
  return shouldPublish(decision) && priorityRank(decision.priority) >= priorityRank('high');
}
