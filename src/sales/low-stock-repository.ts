/**
 * What the low-stock handler reads and writes, as one statement each: a round trip costs more
 * than any of these small queries, and the handler runs once per event inside the batch's
 * transaction. Each part is the query of the repository that owns the table.
 */
import { sql } from 'kysely';
import type { Insertable, Kysely, OperationNodeSource } from 'kysely';
import type { Priority } from '../contract/index.ts';
import {
  addAlertHistoryQuery,
  insertAlertQuery,
  openAlertForUpdateQuery,
  updateAlertQuery,
} from './alerts-repository.ts';
import type { AlertFigures, AlertHistoryEntry } from './alerts-repository.ts';
import type { AlertsTable, SalesDB } from './db.ts';
import type { OutflowSummary } from './forecast.ts';
import {
  outflowSummaryOf,
  outflowSummaryQuery,
  upsertForecastQuery,
} from './forecasts-repository.ts';
import type { StoredForecast } from './forecasts-repository.ts';
import { insertNotificationsQuery } from './notifications-repository.ts';
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
