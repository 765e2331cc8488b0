/**
 * What the low-stock handler reads and writes for a run of events, one statement each: a round
 * trip costs more than any of these small queries. Each part is the query of the repository that
 * owns the table; this file only composes them.
 */
import { sql } from 'kysely';
import type { Insertable, Kysely, OperationNodeSource } from 'kysely';
import type { Priority } from '../contract/index.ts';
import {
  addAlertHistoriesQuery,
  openAlertsForUpdateSql,
  upsertAlertsQuery,
} from './alerts-repository.ts';
import type {
  AlertHistoryTable,
  AlertsTable,
  ForecastsTable,
  NotificationsTable,
  SalesDB,
} from './db.ts';
import type { OutflowSummary } from './forecast.ts';
import {
  outflowSummariesSql,
  outflowSummaryOf,
  upsertForecastsQuery,
} from './forecasts-repository.ts';
import { insertNotificationsQuery } from './notifications-repository.ts';
import { pendingQuantitiesSql } from './orders-repository.ts';

export interface LowStockState {
  /** Units of the product on the tenant's pending orders. */
  pendingOrderQuantity: number;
  /** The product's open alert, locked until the transaction ends; undefined when there is none. */
  openAlert: { id: string; priority: Priority } | undefined;
  /** Outflows of the product within the demand window. */
  outflow: OutflowSummary;
}

/** A product of a tenant. */
export interface ProductKey {
  tenantId: string;
  productId: string;
}

/** The map key of a product in readLowStockStates' result. */
export function productKeyOf(tenantId: string, productId: string): string {
  return `${tenantId}\u0000${productId}`;
}

/**
 * Pending orders, the open alert (locked FOR UPDATE) and the outflows in [since, until] of each
 * product, in one statement; keyed by productKeyOf, one entry per product asked for. All three
 * are read in the statement's snapshot, even when a lock had to wait: events of one product share
 * a partition, so the transaction waited for can only be an acknowledgement (or an overlapping
 * batch during a rebalance), and a lock wait re-reads the alert row itself, so an alert
 * acknowledged meanwhile is not taken as open.
 */
export async function readLowStockStates(
  trx: Kysely<SalesDB>,
  products: readonly ProductKey[],
  since: Date,
  until: Date,
): Promise<Map<string, LowStockState>> {
  const states = new Map<string, LowStockState>();
  if (products.length === 0) return states;
  const keys = sql.join(products.map((p) => sql`(${p.tenantId}, ${p.productId})`));
  const ref = sql.ref('keys');
  const { rows } = await sql<{
    tenant_id: string;
    product_id: string;
    pending_total: number | string;
    total: number | string;
    first_at: Date | string | null;
    open_alert_id: string | null;
    open_alert_priority: Priority | null;
  }>`
    WITH keys (tenant_id, product_id) AS (VALUES ${keys}),
    pending AS (${pendingQuantitiesSql(ref)}),
    outflow AS (${outflowSummariesSql(ref, since, until)}),
    open_alert AS (${openAlertsForUpdateSql(ref)})
    SELECT k.tenant_id, k.product_id,
      coalesce(p.total, 0) AS pending_total,
      coalesce(o.total, 0) AS total, o.first_at,
      a.id AS open_alert_id, a.priority AS open_alert_priority
    FROM keys k
    LEFT JOIN pending p ON p.tenant_id = k.tenant_id AND p.product_id = k.product_id
    LEFT JOIN outflow o ON o.tenant_id = k.tenant_id AND o.product_id = k.product_id
    LEFT JOIN open_alert a ON a.tenant_id = k.tenant_id AND a.product_id = k.product_id`.execute(
    trx,
  );
  for (const row of rows) {
    states.set(productKeyOf(row.tenant_id, row.product_id), {
      pendingOrderQuantity: Number(row.pending_total),
      openAlert:
        row.open_alert_id === null || row.open_alert_priority === null
          ? undefined
          : { id: row.open_alert_id, priority: row.open_alert_priority },
      outflow: outflowSummaryOf(row),
    });
  }
  return states;
}

/** The rows one low-stock event writes, table by table (see planLowStock). */
export interface LowStockRows {
  /**
   * The alert as this event leaves it. For an alert that was open before, only its figures,
   * priority and updated_at are written (upsertAlertsQuery); the rest of the row is not applied.
   */
  alert: Insertable<AlertsTable>;
  history: Insertable<AlertHistoryTable>;
  notifications: Insertable<NotificationsTable>[];
  forecast: Insertable<ForecastsTable>;
}

/**
 * The rows of a run of events, in event order, in one statement, each table written once: an
 * alert written several times keeps its first row's opening and its last figures; a forecast
 * keeps the last event's; history and notifications keep every row, in order. Foreign keys to a
 * new alert hold, since PostgreSQL checks them at the end of the statement.
 */
export async function writeLowStockRows(
  trx: Kysely<SalesDB>,
  runs: readonly LowStockRows[],
): Promise<void> {
  if (runs.length === 0) return;
  const alerts = new Map<string, Insertable<AlertsTable>>();
  const forecasts = new Map<string, Insertable<ForecastsTable>>();
  const history: Insertable<AlertHistoryTable>[] = [];
  const notifications: Insertable<NotificationsTable>[] = [];
  for (const rows of runs) {
    const earlier = alerts.get(rows.alert.id);
    alerts.set(
      rows.alert.id,
      earlier === undefined ? rows.alert : { ...rows.alert, opened_at: earlier.opened_at },
    );
    history.push(rows.history);
    notifications.push(...rows.notifications);
    forecasts.set(productKeyOf(rows.forecast.tenant_id, rows.forecast.product_id), rows.forecast);
  }
  const parts: OperationNodeSource[] = [
    upsertAlertsQuery(trx, [...alerts.values()]),
    addAlertHistoriesQuery(trx, history),
  ];
  if (notifications.length > 0) parts.push(insertNotificationsQuery(trx, notifications));
  const ctes = parts.map((query, i) => sql`${sql.ref(`write_${i}`)} AS (${query})`);
  await sql`WITH ${sql.join(ctes)} ${upsertForecastsQuery(trx, [...forecasts.values()])}`.execute(
    trx,
  );
}
