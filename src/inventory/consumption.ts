/**
 * How long stock lasts at the recent rate of outflow. Pure: the caller reads the outflow from
 * stock movements. Returns undefined when there is no outflow to project from, so that the
 * priority rule falls back to its stock-level conditions.
 */
export interface ConsumptionWindow {
  /** Units that left stock (sum of negative movements, as a positive number) in the window. */
  outflow: number;
  /** Days the window covers: from the window start or the first movement, whichever is later. */
  days: number;
}

/** Default look-back for the consumption rate. */
export const CONSUMPTION_WINDOW_DAYS = 30;

/** The shortest span a rate is computed over, so that one burst does not read as a yearly rate. */
export const MIN_SPAN_DAYS = 1;

const DAY_MS = 86_400_000;

export function windowDays(
  firstMovementAt: Date | undefined,
  now: Date,
  windowDays = CONSUMPTION_WINDOW_DAYS,
): number {
  if (firstMovementAt === undefined) return MIN_SPAN_DAYS;
  const span = (now.getTime() - firstMovementAt.getTime()) / DAY_MS;
  return Math.min(windowDays, Math.max(MIN_SPAN_DAYS, span));
}

export function daysOfStockRemaining(stock: number, window: ConsumptionWindow): number | undefined {
  if (window.outflow <= 0 || window.days <= 0) return undefined;
  const dailyOutflow = window.outflow / window.days;
  // Two decimals is what a planner reads; more would suggest precision the rate does not have.
  return Math.round((Math.max(0, stock) / dailyOutflow) * 100) / 100;
}
