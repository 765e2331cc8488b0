/**
 * What the low-stock handler reads and writes, as one statement each: a round trip costs more
 * than any of these small queries, and the handler runs once per event inside the batch's
 * transaction. Each part is the query of the repository that owns the table.
 */
import { sql } from 'kysely';
import type { Insertable, Kysely, OperationNodeSource } from 'kysely';
import type { Priority } from '../contract/index.ts';
import {
  addAlertHistoriesQuery,
  addAlertHistoryQuery,
  insertAlertQuery,
  upsertAlertsQuery,
  openAlertForUpdateQuery,
  updateAlertQuery,
} from './alerts-repository.ts';
import type { AlertFigures, AlertHistoryEntry } from './alerts-repository.ts';
import type { AlertHistoryTable, AlertsTable, SalesDB } from './db.ts';
import type { OutflowSummary } from './forecast.ts';
import {
  outflowSummaryOf,
  outflowSummaryQuery,
  upsertForecastQuery,
  upsertForecastsQuery,
} from './forecasts-repository.ts';
import type { StoredForecast } from './forecasts-repository.ts';
import {
  insertNotificationRowsQuery,
  insertNotificationsQuery,
} from './notifications-repository.ts';
import type { NewNotification } from './notifications-repository.ts';
import { pendingOrderQuantityQuery } from './orders-repository.ts';

export interface LowStockState {
  /** Units of the product on the tenant's pending orders. */
  pendingOrderQuantity: number;
  /** The product's open alert, locked until the transaction ends; undefined when there is none. */
  openAlert: { id: string; priority: Priority } | undefined;
  /** Outflows of the product within the demand window. */
  outflow: OutflowSummary;
}

/**
 * Pending orders, the open alert (locked FOR UPDATE) and the outflows in [since, until], in one
 * statement. All three are read in the statement's snapshot, even when the lock had to wait:
 * events of one product share a partition, so the transaction waited for can only be an
 * acknowledgement (or an overlapping batch during a rebalance), and a lock wait re-reads the alert
 * row itself, so an alert acknowledged meanwhile is not taken as open.
 */
export async function readLowStockState(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
  since: Date,
  until: Date,
): Promise<LowStockState> {
  const row = await trx
    .with('pending', () => pendingOrderQuantityQuery(trx, tenantId, productId))
    .with('outflow', () => outflowSummaryQuery(trx, tenantId, productId, since, until))
    .with('open_alert', () => openAlertForUpdateQuery(trx, tenantId, productId))
    // The aggregates always give one row; the alert may give none.
    .selectFrom(['pending', 'outflow'])
    .leftJoin('open_alert', (join) => join.onTrue())
    .select([
      'pending.total as pending_total',
      'outflow.total',
      'outflow.first_at',
      'open_alert.id as open_alert_id',
      'open_alert.priority as open_alert_priority',
    ])
    .executeTakeFirstOrThrow();
  return lowStockStateOf(row);
}

/** The state from a row of either read (one product or many). */
function lowStockStateOf(row: {
  pending_total: number | string;
  total: number | string;
  first_at: Date | string | null;
  open_alert_id: string | null;
  open_alert_priority: Priority | null;
}): LowStockState {
  return {
    pendingOrderQuantity: Number(row.pending_total),
    openAlert:
      row.open_alert_id === null || row.open_alert_priority === null
        ? undefined
        : { id: row.open_alert_id, priority: row.open_alert_priority },
    outflow: outflowSummaryOf(row),
  };
}

export type AlertWrite =
  | { kind: 'open'; row: Insertable<AlertsTable> }
  | {
      kind: 'update';
      id: string;
      figures: AlertFigures & { priority: Priority; updated_at: Date };
    };

export interface LowStockWrite {
  /** Opens the alert (a new row) or updates the open one the read locked. */
  alert: AlertWrite;
  history: AlertHistoryEntry;
  /** For the alert; may be empty. */
  notifications: NewNotification[];
  /** Creation time of the notifications. */
  notifiedAt: Date;
  forecast: StoredForecast;
}

/**
 * The alert, its history row, its notifications and the product's forecast, in one statement:
 * data-modifying CTEs, all of which run whatever the main statement reads. Foreign keys to the
 * new alert hold, since PostgreSQL checks them at the end of the statement.
 */
export async function writeLowStockOutcome(
  trx: Kysely<SalesDB>,
  tenantId: string,
  write: LowStockWrite,
): Promise<void> {
  const { alert } = write;
  const alertId = alert.kind === 'open' ? alert.row.id : alert.id;
  const writes: OperationNodeSource[] = [
    alert.kind === 'open'
      ? insertAlertQuery(trx, alert.row)
      : updateAlertQuery(trx, tenantId, alert.id, alert.figures),
    addAlertHistoryQuery(trx, tenantId, alertId, write.history),
  ];
  if (write.notifications.length > 0) {
    writes.push(insertNotificationsQuery(trx, tenantId, write.notifications, write.notifiedAt));
  }
  const ctes = writes.map((query, i) => sql`${sql.ref(`write_${i}`)} AS (${query})`);
  await sql`WITH ${sql.join(ctes)} ${upsertForecastQuery(trx, tenantId, write.forecast)}`.execute(
    trx,
  );
}

/** A product of a tenant, as the batch read and write key it. */
export interface ProductKey {
  tenantId: string;
  productId: string;
}

/** The map key of a product in readLowStockStates' result. */
export function productKeyOf(tenantId: string, productId: string): string {
  return `${tenantId}\u0000${productId}`;
}

/**
 * readLowStockState for many products in one statement: keyed by productKeyOf, one entry per
 * product asked for. The open alerts are locked FOR UPDATE, in the snapshot rules given above.
 */
export async function readLowStockStates(
  trx: Kysely<SalesDB>,
  products: ProductKey[],
  since: Date,
  until: Date,
): Promise<Map<string, LowStockState>> {
  const states = new Map<string, LowStockState>();
  if (products.length === 0) return states;
  const keys = sql.join(products.map((p) => sql`(${p.tenantId}, ${p.productId})`));
  // Raw SQL: for hundreds of products, building this with Kysely costs more than running it.
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
    pending AS (
      SELECT l.tenant_id, l.product_id, sum(l.quantity) AS total
      FROM order_lines l
      JOIN keys k ON k.tenant_id = l.tenant_id AND k.product_id = l.product_id
      JOIN orders o ON o.id = l.order_id AND o.tenant_id = l.tenant_id
      WHERE o.status = 'pending'
      GROUP BY l.tenant_id, l.product_id
    ),
    outflow AS (
      SELECT d.tenant_id, d.product_id, sum(d.quantity) AS total, min(d.occurred_at) AS first_at
      FROM demand_history d
      JOIN keys k ON k.tenant_id = d.tenant_id AND k.product_id = d.product_id
      WHERE d.occurred_at >= ${since} AND d.occurred_at <= ${until}
      GROUP BY d.tenant_id, d.product_id
    ),
    open_alert AS (
      SELECT a.tenant_id, a.product_id, a.id, a.priority
      FROM alerts a
      JOIN keys k ON k.tenant_id = a.tenant_id AND k.product_id = a.product_id
      WHERE a.status = 'open'
      FOR UPDATE OF a
    )
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
    states.set(productKeyOf(row.tenant_id, row.product_id), lowStockStateOf(row));
  }
  return states;
}

/** One event's outcome within a batch write: a LowStockWrite with its product. */
export interface LowStockBatchWrite extends LowStockWrite, ProductKey {}

/**
 * The outcomes of a run of events, in event order, in one statement: what writeLowStockOutcome
 * does per event, with each table written once. An alert written several times keeps its first
 * insert's opening and its last figures; a forecast keeps the last event's.
 */
export async function writeLowStockOutcomes(
  trx: Kysely<SalesDB>,
  writes: LowStockBatchWrite[],
): Promise<void> {
  if (writes.length === 0) return;
  const alerts = new Map<string, Insertable<AlertsTable>>();
  const forecasts = new Map<string, StoredForecast & { tenant_id: string }>();
  const history: Insertable<AlertHistoryTable>[] = [];
  const notifications: { tenantId: string; at: Date; n: NewNotification }[] = [];
  for (const w of writes) {
    const { alert } = w;
    const alertId = alert.kind === 'open' ? alert.row.id : alert.id;
    const earlier = alerts.get(alertId);
    if (alert.kind === 'open') {
      alerts.set(alertId, alert.row);
    } else {
      // An alert opened before this run: the upsert's insert part never applies, so opened_at
      // and status are placeholders that satisfy NOT NULL.
      alerts.set(alertId, {
        ...(earlier ?? {
          id: alertId,
          tenant_id: w.tenantId,
          product_id: w.productId,
          status: 'open',
          opened_at: alert.figures.updated_at,
          acknowledged_at: null,
        }),
        ...alert.figures,
      });
    }
    history.push({ ...w.history, tenant_id: w.tenantId, alert_id: alertId });
    for (const n of w.notifications)
      notifications.push({ tenantId: w.tenantId, at: w.notifiedAt, n });
    forecasts.set(productKeyOf(w.tenantId, w.forecast.product_id), {
      ...w.forecast,
      tenant_id: w.tenantId,
    });
  }
  const parts: OperationNodeSource[] = [
    upsertAlertsQuery(trx, [...alerts.values()]),
    addAlertHistoriesQuery(trx, history),
  ];
  if (notifications.length > 0) parts.push(insertNotificationRowsQuery(trx, notifications));
  const ctes = parts.map((query, i) => sql`${sql.ref(`write_${i}`)} AS (${query})`);
  await sql`WITH ${sql.join(ctes)} ${upsertForecastsQuery(trx, [...forecasts.values()])}`.execute(
    trx,
  );
}
