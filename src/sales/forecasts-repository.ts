/** Outflow history (demand) and the per-product forecast derived from it. */
import { sql } from 'kysely';
import type { Insertable, Kysely } from 'kysely';
import type { DemandHistoryTable, SalesDB } from './db.ts';
import type { OutflowSummary } from './forecast.ts';

export interface StoredForecast {
  product_id: string;
  expected_daily_demand: number;
  pending_order_quantity: number;
  current_stock: number;
  days_of_stock_remaining: number | null;
  /** YYYY-MM-DD. */
  stockout_date: string | null;
  source_event_id: string;
  updated_at: Date;
}

/** `quantity` is positive: the units that left stock. */
export async function recordOutflow(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
  quantity: number,
  at: Date,
): Promise<void> {
  await recordOutflowQuery(trx, tenantId, productId, quantity, at).execute();
}

/** recordOutflow as a query, for a caller that writes it in one statement with others. */
export function recordOutflowQuery(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
  quantity: number,
  at: Date,
) {
  return trx
    .insertInto('demand_history')
    .values({ tenant_id: tenantId, product_id: productId, quantity, occurred_at: at });
}

/** A row of the demand history: `quantity` units of the product left stock at `occurred_at`. */
export type Outflow = Omit<Insertable<DemandHistoryTable>, 'id'>;

/** Outflows of any products and tenants in one statement; their ids follow the order given. */
export function recordOutflowsQuery(trx: Kysely<SalesDB>, rows: Outflow[]) {
  return trx.insertInto('demand_history').values(rows);
}

/**
 * Outflows in [since, until]: one row, `total` (0 without any) and `first_at` (null without any).
 * Read it with outflowSummaryOf.
 */
export function outflowSummaryQuery(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
  since: Date,
  until: Date,
) {
  return trx
    .selectFrom('demand_history')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('quantity'), eb.lit(0)).as('total'),
      eb.fn.min('occurred_at').as('first_at'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('product_id', '=', productId)
    .where('occurred_at', '>=', since)
    .where('occurred_at', '<=', until);
}

export function outflowSummaryOf(row: {
  total: number | string;
  first_at: Date | string | null;
}): OutflowSummary {
  return {
    total: Number(row.total),
    firstAt: row.first_at === null ? null : new Date(row.first_at),
  };
}

/** Inserts or replaces the product's forecast; a query, written with the alert (low-stock-repository.ts). */
export function upsertForecastQuery(
  trx: Kysely<SalesDB>,
  tenantId: string,
  forecast: StoredForecast,
) {
  const row = { ...forecast, tenant_id: tenantId };
  return trx
    .insertInto('forecasts')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'product_id']).doUpdateSet({
        expected_daily_demand: row.expected_daily_demand,
        pending_order_quantity: row.pending_order_quantity,
        current_stock: row.current_stock,
        days_of_stock_remaining: row.days_of_stock_remaining,
        stockout_date: row.stockout_date,
        source_event_id: row.source_event_id,
        updated_at: row.updated_at,
      }),
    );
}

/** upsertForecastQuery for many products, at most one row each (ON CONFLICT touches a row once). */
export function upsertForecastsQuery(
  trx: Kysely<SalesDB>,
  rows: (StoredForecast & { tenant_id: string })[],
) {
  return trx
    .insertInto('forecasts')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'product_id']).doUpdateSet((eb) => ({
        expected_daily_demand: eb.ref('excluded.expected_daily_demand'),
        pending_order_quantity: eb.ref('excluded.pending_order_quantity'),
        current_stock: eb.ref('excluded.current_stock'),
        days_of_stock_remaining: eb.ref('excluded.days_of_stock_remaining'),
        stockout_date: eb.ref('excluded.stockout_date'),
        source_event_id: eb.ref('excluded.source_event_id'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    );
}

export async function getForecast(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
): Promise<StoredForecast | undefined> {
  return trx
    .selectFrom('forecasts')
    .select([
      'product_id',
      'expected_daily_demand',
      'pending_order_quantity',
      'current_stock',
      'days_of_stock_remaining',
      // `date` would come back as a local-midnight Date from pg; text keeps the calendar day.
      sql<string | null>`to_char(stockout_date, 'YYYY-MM-DD')`.as('stockout_date'),
      'source_event_id',
      'updated_at',
    ])
    .where('tenant_id', '=', tenantId)
    .where('product_id', '=', productId)
    .executeTakeFirst();
}
