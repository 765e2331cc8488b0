/** Outflow history (demand) and the per-product forecast derived from it. */
import { sql } from 'kysely';
import type { Insertable, Kysely, RawBuilder } from 'kysely';
import type { DemandHistoryTable, ForecastsTable, SalesDB } from './db.ts';
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

/** A row of the demand history: `quantity` units of the product left stock at `occurred_at`. */
export type Outflow = Omit<Insertable<DemandHistoryTable>, 'id'>;

/** Outflows of any products and tenants in one statement; their ids follow the order given. */
export function recordOutflowsQuery(trx: Kysely<SalesDB>, rows: Outflow[]) {
  return trx.insertInto('demand_history').values(rows);
}

/**
 * Outflows in [since, until] (`tenant_id`, `product_id`, `total`, `first_at`) of the products in
 * the CTE named `keys` (tenant_id, product_id); products without any are absent. Read a row with
 * outflowSummaryOf. A CTE body for the low-stock read (raw SQL: see openAlertsForUpdateSql).
 */
export function outflowSummariesSql(
  keys: RawBuilder<unknown>,
  since: Date,
  until: Date,
): RawBuilder<unknown> {
  return sql`
    SELECT d.tenant_id, d.product_id, sum(d.quantity) AS total, min(d.occurred_at) AS first_at
    FROM demand_history d
    JOIN ${keys} k ON k.tenant_id = d.tenant_id AND k.product_id = d.product_id
    WHERE d.occurred_at >= ${since} AND d.occurred_at <= ${until}
    GROUP BY d.tenant_id, d.product_id`;
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

/**
 * Inserts or replaces the forecasts of many products, at most one row each (ON CONFLICT touches a
 * row once). A query: the low-stock write embeds it.
 */
export function upsertForecastsQuery(trx: Kysely<SalesDB>, rows: Insertable<ForecastsTable>[]) {
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
