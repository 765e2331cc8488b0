/**
 * Demand and stockout projection for one product. Pure: the repository supplies the outflow
 * figures of the window, the handler the stock and pending orders.
 */

/** Outflows older than this do not count towards expected demand. */
export const DEMAND_WINDOW_DAYS = 30;

const DAY_MS = 86_400_000;

export interface OutflowSummary {
  /** Units that left stock within the window. */
  total: number;
  /** The first outflow within the window; null when there was none. */
  firstAt: Date | null;
}

export interface ForecastInput {
  outflow: OutflowSummary;
  now: Date;
  currentStock: number;
  pendingOrderQuantity: number;
  /** Inventory's own projection from the event; used only when Sales has no outflow history. */
  reportedDaysOfStockRemaining?: number | null;
}

export interface Forecast {
  /** Units per day; 0 when nothing suggests any demand. */
  expectedDailyDemand: number;
  /** Days until stock net of pending orders runs out; 0 when it is gone, null without demand. */
  daysOfStockRemaining: number | null;
  /** YYYY-MM-DD (UTC); null without demand. */
  stockoutDate: string | null;
}

/**
 * Units per day over the window. The span runs from the first outflow in the window to now, at
 * least one day, so that a single large outflow an hour ago does not read as 24 times that a day.
 */
export function expectedDailyDemand(outflow: OutflowSummary, now: Date): number {
  if (outflow.total <= 0 || outflow.firstAt === null) return 0;
  const spanDays = Math.max(1, (now.getTime() - outflow.firstAt.getTime()) / DAY_MS);
  return outflow.total / spanDays;
}

export function computeForecast(input: ForecastInput): Forecast {
  let demand = expectedDailyDemand(input.outflow, input.now);
  const reported = input.reportedDaysOfStockRemaining;
  if (demand === 0 && reported !== undefined && reported !== null && reported > 0) {
    demand = Math.max(0, input.currentStock) / reported;
  }
  const available = input.currentStock - input.pendingOrderQuantity;
  if (available <= 0) {
    return { expectedDailyDemand: demand, daysOfStockRemaining: 0, stockoutDate: dayOf(input.now) };
  }
  if (demand === 0) {
    return { expectedDailyDemand: 0, daysOfStockRemaining: null, stockoutDate: null };
  }
  const days = available / demand;
  // The stock lasts through whole days only: 2.5 days from now it runs out on day 2.
  return {
    expectedDailyDemand: demand,
    daysOfStockRemaining: days,
    stockoutDate: dayOf(new Date(input.now.getTime() + Math.floor(days) * DAY_MS)),
  };
}

/** The UTC calendar day of an instant, YYYY-MM-DD. */
export function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Start of the demand window ending at `now`. */
export function windowStart(now: Date): Date {
  return new Date(now.getTime() - DEMAND_WINDOW_DAYS * DAY_MS);
}
