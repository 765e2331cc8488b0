/**
 * A shadow Sales for replays: a throwaway database seeded from live Sales, fed the replayed
 * events by the usual handlers, then compared with live Sales event by event.
 *
 * What the shadow starts from: live Sales' orders and order lines (Sales' own data, which no
 * inventory event carries, and which decide pending quantities and so alert priorities), its
 * products (so that a stock adjustment of a product created before the replay has a row), and
 * its demand history before the replay's start (the outflow behind forecasts, without the
 * replayed events' own outflow twice), and the alerts that were open at the replay's start, at
 * the priority they had then (so that a replayed event updates or escalates them as it did live,
 * instead of opening them anew). It starts with no alert history, forecasts or notifications:
 * those are what the replay produces and what is compared.
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from '../platform/index.ts';
import type { SalesDB } from './db.ts';
import type { NotificationChannel } from './notifications/channel.ts';
import type { SalesSettings } from './settings.ts';

/**
 * Channels named like live Sales' default ones (app.ts: the log, plus the webhook when
 * SALES_WEBHOOK_URL is set) that deliver nothing: the shadow writes the same notification rows,
 * and nobody is told twice.
 */
export function silentChannels(settings: SalesSettings): NotificationChannel[] {
  const names = ['log', ...(settings.webhookUrl === undefined ? [] : ['webhook'])];
  return names.map((name) => ({ name, send: () => Promise.resolve() }));
}

export interface SeedOptions {
  /** Only this tenant's rows. Default: every tenant. */
  tenant?: string;
  /**
   * The replay's start: demand history before it, and the alerts open at it, are copied.
   * Default: neither (a start given as offsets has no time).
   */
  before?: Date;
  /** Rows per page. Default: 1000. */
  pageSize?: number;
}

/** Rows copied per table. */
export type SeedSummary = Record<
  'products' | 'orders' | 'order_lines' | 'demand_history' | 'alerts',
  number
>;

type Table = keyof SalesDB;

/** Copies the rows of `select` page by page (bounded memory) into `table`; `omit` leaves serial ids behind. */
async function copyRows(
  from: Kysely<SalesDB>,
  to: Kysely<SalesDB>,
  table: Table,
  select: (limit: number, offset: number) => RawBuilder<Record<string, unknown>>,
  pageSize: number,
  omit: readonly string[] = [],
): Promise<number> {
  let copied = 0;
  for (let offset = 0; ; offset += pageSize) {
    const page = await select(pageSize, offset).execute(from);
    if (page.rows.length === 0) return copied;
    const rows = page.rows.map((row) =>
      Object.fromEntries(Object.entries(row).filter(([column]) => !omit.includes(column))),
    );
    await to
      .insertInto(table)
      .values(rows as never)
      .execute();
    copied += rows.length;
    if (page.rows.length < pageSize) return copied;
  }
}

/** Rows of `table` matching `where`, in key order. */
const rowsOf =
  (table: Table, key: readonly string[], where: RawBuilder<unknown>) =>
  (limit: number, offset: number) => sql<Record<string, unknown>>`
    SELECT * FROM ${sql.table(table)} WHERE ${where}
    ORDER BY ${sql.join(key.map((k) => sql.ref(k)))} LIMIT ${limit} OFFSET ${offset}`;

/**
 * Alerts open at `at`, as they were then: opened before it, not acknowledged by then, at the
 * priority of their last change before it.
 */
const alertsOpenAt = (at: Date, tenant: RawBuilder<unknown>) => (limit: number, offset: number) =>
  sql<Record<string, unknown>>`
      SELECT a.id, a.tenant_id, a.product_id, a.product_sku, a.product_name, 'open' AS status,
        COALESCE((SELECT h.priority FROM alert_history h
                  WHERE h.alert_id = a.id AND h.at < ${at} ORDER BY h.id DESC LIMIT 1),
                 a.priority) AS priority,
        a.current_stock, a.reorder_level, a.pending_order_quantity, a.days_of_stock_remaining,
        a.source_event_id, a.opened_at, a.updated_at, NULL::timestamptz AS acknowledged_at
      FROM alerts a
      WHERE ${tenant} AND a.opened_at < ${at}
        AND (a.acknowledged_at IS NULL OR a.acknowledged_at >= ${at})
      ORDER BY a.id LIMIT ${limit} OFFSET ${offset}`;

export async function seedShadow(
  live: Database<SalesDB>,
  shadow: Database<SalesDB>,
  options: SeedOptions = {},
): Promise<SeedSummary> {
  const pageSize = options.pageSize ?? 1000;
  const tenant = options.tenant === undefined ? sql`true` : sql`tenant_id = ${options.tenant}`;
  const copy = (table: Table, key: string[], where = tenant, omit: string[] = []) =>
    copyRows(live.db, shadow.db, table, rowsOf(table, key, where), pageSize, omit);
  const at = options.before;
  return {
    products: await copy('products', ['tenant_id', 'product_id']),
    orders: await copy('orders', ['id']),
    order_lines: await copy('order_lines', ['order_id', 'line_no']),
    demand_history:
      at === undefined
        ? 0
        : await copy('demand_history', ['id'], sql`${tenant} AND occurred_at < ${at}`, ['id']),
    alerts:
      at === undefined
        ? 0
        : await copyRows(
            live.db,
            shadow.db,
            'alerts',
            alertsOpenAt(
              at,
              options.tenant === undefined ? sql`true` : sql`a.tenant_id = ${options.tenant}`,
            ),
            pageSize,
          ),
  };
}

/** What Sales did for one low-stock event, on either side. */
export interface EventEffect {
  change: string;
  priority: string;
  notifications: number;
}

export interface EventDifference {
  eventId: string;
  tenantId: string;
  productId: string;
  shadow: EventEffect;
  /** Undefined when live Sales has no trace of the event (not consumed yet, or dead-lettered). */
  live: EventEffect | undefined;
}

export interface ForecastDifference {
  tenantId: string;
  productId: string;
  fields: Record<string, [live: unknown, shadow: unknown]>;
}

export interface ShadowComparison {
  /** Low-stock events the shadow applied. */
  events: number;
  /** Alert changes the shadow made, by change (opened, escalated, updated). */
  shadowChanges: Record<string, number>;
  /** The same for live Sales, for the same events. */
  liveChanges: Record<string, number>;
  shadowNotifications: number;
  liveNotifications: number;
  /** Events whose alert change, priority or notification count differ (live missing included). */
  differing: number;
  /** Of them, events live Sales has no trace of. */
  missingLive: number;
  /** Forecasts compared: the products whose live forecast comes from the same event. */
  forecastsCompared: number;
  forecastsDiffering: number;
}

export interface CompareOptions {
  /** Events per query. Default: 500. */
  pageSize?: number;
  onEventDifference?: (difference: EventDifference) => void;
  onForecastDifference?: (difference: ForecastDifference) => void;
}

interface EffectRow {
  id: number;
  event_id: string;
  tenant_id: string;
  product_id: string;
  change: string;
  priority: string;
  notifications: number;
}

/** History rows of events with their product and the notifications written with them. */
function effects(where: ReturnType<typeof sql>) {
  // A notification is written in the transaction of the history row it follows, with the same
  // clock reading: alert and time identify it without a column of its own.
  return sql<EffectRow>`
    SELECT h.id, h.event_id, h.tenant_id, a.product_id, h.change, h.priority,
      (SELECT count(*)::int FROM notifications n WHERE n.alert_id = h.alert_id AND n.created_at = h.at)
        AS notifications
    FROM alert_history h JOIN alerts a ON a.id = h.alert_id
    WHERE h.event_id IS NOT NULL AND ${where}
    ORDER BY h.id`;
}

export async function compareWithLive(
  shadow: Database<SalesDB>,
  live: Database<SalesDB>,
  options: CompareOptions = {},
): Promise<ShadowComparison> {
  const pageSize = options.pageSize ?? 500;
  const result: ShadowComparison = {
    events: 0,
    shadowChanges: {},
    liveChanges: {},
    shadowNotifications: 0,
    liveNotifications: 0,
    differing: 0,
    missingLive: 0,
    forecastsCompared: 0,
    forecastsDiffering: 0,
  };
  const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);
  let after = 0;
  for (;;) {
    const page = (
      await sql<EffectRow>`${effects(sql`h.id > ${after}`)} LIMIT ${pageSize}`.execute(shadow.db)
    ).rows;
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const ids = page.map((r) => r.event_id);
    const liveRows = (await effects(sql`h.event_id IN (${sql.join(ids)})`).execute(live.db)).rows;
    const liveOf = new Map(liveRows.map((r) => [r.event_id, r]));
    for (const row of page) {
      result.events++;
      count(result.shadowChanges, row.change);
      result.shadowNotifications += row.notifications;
      const other = liveOf.get(row.event_id);
      if (other !== undefined) {
        count(result.liveChanges, other.change);
        result.liveNotifications += other.notifications;
      }
      const same =
        other !== undefined &&
        other.change === row.change &&
        other.priority === row.priority &&
        other.notifications === row.notifications;
      if (same) continue;
      result.differing++;
      if (other === undefined) result.missingLive++;
      options.onEventDifference?.({
        eventId: row.event_id,
        tenantId: row.tenant_id,
        productId: row.product_id,
        shadow: effectOf(row),
        live: other === undefined ? undefined : effectOf(other),
      });
    }
  }
  await compareForecasts(shadow, live, pageSize, result, options);
  return result;
}

const effectOf = (r: EffectRow): EventEffect => ({
  change: r.change,
  priority: r.priority,
  notifications: r.notifications,
});

/** Forecast figures as compared: rounded, since both sides compute them in floating point. */
function figures(row: Record<string, unknown>): Record<string, unknown> {
  const round = (v: unknown, digits: number) =>
    v === null || v === undefined ? null : Number(Number(v).toFixed(digits));
  return {
    expected_daily_demand: round(row['expected_daily_demand'], 2),
    pending_order_quantity: Number(row['pending_order_quantity']),
    current_stock: Number(row['current_stock']),
    days_of_stock_remaining: round(row['days_of_stock_remaining'], 1),
    // A `date` column: text as the repository reads it; a Date should a driver parse it.
    stockout_date: dayOf(row['stockout_date']),
  };
}

async function compareForecasts(
  shadow: Database<SalesDB>,
  live: Database<SalesDB>,
  pageSize: number,
  result: ShadowComparison,
  options: CompareOptions,
): Promise<void> {
  for (let offset = 0; ; offset += pageSize) {
    const page = (
      await sql<Record<string, unknown>>`
        SELECT * FROM forecasts ORDER BY tenant_id, product_id LIMIT ${pageSize} OFFSET ${offset}
      `.execute(shadow.db)
    ).rows;
    if (page.length === 0) return;
    const sources = page.map((r) => String(r['source_event_id']));
    const liveRows = (
      await sql<Record<string, unknown>>`
        SELECT * FROM forecasts WHERE source_event_id IN (${sql.join(sources)})
      `.execute(live.db)
    ).rows;
    const liveOf = new Map(
      liveRows.map((r) => [`${String(r['tenant_id'])}/${String(r['product_id'])}`, r]),
    );
    for (const row of page) {
      // Only a live forecast from the same event is comparable: a later one reflects events
      // outside the replay.
      const other = liveOf.get(`${String(row['tenant_id'])}/${String(row['product_id'])}`);
      if (other === undefined) continue;
      result.forecastsCompared++;
      const mine = figures(row);
      const theirs = figures(other);
      const fields: ForecastDifference['fields'] = {};
      for (const [name, value] of Object.entries(mine)) {
        if (theirs[name] !== value) fields[name] = [theirs[name], value];
      }
      if (Object.keys(fields).length === 0) continue;
      result.forecastsDiffering++;
      options.onForecastDifference?.({
        tenantId: String(row['tenant_id']),
        productId: String(row['product_id']),
        fields,
      });
    }
  }
}

function dayOf(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return typeof value === 'string' ? value : null;
}
