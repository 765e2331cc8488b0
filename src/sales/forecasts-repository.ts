/** Outflow history (demand) and the per-product forecast derived from it. */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { SalesDB } from './db.ts';
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
  await trx
    .insertInto('demand_history')
    .values({ tenant_id: tenantId, product_id: productId, quantity, occurred_at: at })
    .execute();
}

/** Outflows in [since, until]. */
export async function summarizeOutflow(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
  since: Date,
  until: Date,
): Promise<OutflowSummary> {
  const row = await trx
    .selectFrom('demand_history')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('quantity'), eb.lit(0)).as('total'),
      eb.fn.min('occurred_at').as('first_at'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('product_id', '=', productId)
    .where('occurred_at', '>=', since)
    .where('occurred_at', '<=', until)
    .executeTakeFirst();
  const firstAt = row?.first_at ?? null;
  return {
    total: Number(row?.total ?? 0),
    firstAt: firstAt === null ? null : new Date(firstAt),
  };
}

export async function upsertForecast(
  trx: Kysely<SalesDB>,
  tenantId: string,
  forecast: StoredForecast,
): Promise<void> {
  const row = { ...forecast, tenant_id: tenantId };
  await trx
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
    )
    .execute();
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
