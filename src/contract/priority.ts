/**
 * Event priority: the wire values and the one rule that computes it from stock levels.
 */
import { z } from 'zod';
import { ContractError } from './errors.ts';

/** Lowest first; lowercase is the wire form. */
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;

export type Priority = (typeof PRIORITIES)[number];

export const prioritySchema = z.enum(PRIORITIES);

/** 0 for `low` up to 3 for `critical`. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

/** The more urgent of two priorities. */
export function maxPriority(a: Priority, b: Priority): Priority {
  return priorityRank(a) >= priorityRank(b) ? a : b;
}

export interface PriorityInput {
  currentStock: number;
  reorderLevel: number;
  /** Projected days until stock runs out; absent or null when there is no outflow history. */
  daysOfStockRemaining?: number | null;
}

/** Days of stock below which a product is HIGH whatever its reorder level. */
const HIGH_DAYS_THRESHOLD = 3;
/** Share of the reorder level below which a product is HIGH. */
const HIGH_REORDER_SHARE = 0.5;

/**
 * The design document's rule, in order: CRITICAL when stock is 0 (or below, which a late
 * adjustment can produce); HIGH when under 3 days remain or stock is under half the reorder
 * level; MEDIUM when stock is at or under the reorder level; LOW otherwise.
 * Every comparison is strict except the MEDIUM one, as the document words them.
 */
export function computePriority(input: PriorityInput): Priority {
  const { currentStock, reorderLevel, daysOfStockRemaining } = input;
  // NaN makes every comparison false and would silently yield LOW.
  if (!Number.isFinite(currentStock) || !Number.isFinite(reorderLevel)) {
    throw new ContractError(
      'ERP_EVT_INVALID_ARGUMENT',
      `computePriority needs finite numbers (currentStock=${currentStock}, reorderLevel=${reorderLevel})`,
    );
  }
  if (Number.isNaN(daysOfStockRemaining)) {
    throw new ContractError(
      'ERP_EVT_INVALID_ARGUMENT',
      'computePriority: daysOfStockRemaining is NaN',
    );
  }
  if (currentStock <= 0) return 'critical';
  const fewDays =
    daysOfStockRemaining !== undefined &&
    daysOfStockRemaining !== null &&
    daysOfStockRemaining < HIGH_DAYS_THRESHOLD;
  if (fewDays || currentStock < HIGH_REORDER_SHARE * reorderLevel) return 'high';
  if (currentStock <= reorderLevel) return 'medium';
  return 'low';
}
