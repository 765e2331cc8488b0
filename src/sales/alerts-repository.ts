/** Low-stock alerts and their history. At most one open alert per (tenant, product). */
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Priority } from '../contract/index.ts';
import type { AlertChange, AlertHistoryTable, AlertStatus, AlertsTable, SalesDB } from './db.ts';
import { alertNotFound, alertNotOpen } from './errors.ts';

export type Alert = Omit<Selectable<AlertsTable>, 'tenant_id'>;

export interface AlertHistoryEntry {
  change: AlertChange;
  priority: Priority;
  event_id: string | null;
  at: Date;
}

/** The figures a low-stock event brings; written on open, escalate and update alike. */
export interface AlertFigures {
  product_sku: string;
  product_name: string;
  current_stock: number;
  reorder_level: number;
  pending_order_quantity: number;
  days_of_stock_remaining: number | null;
  source_event_id: string;
}

const alertColumns = [
  'id',
  'product_id',
  'product_sku',
  'product_name',
  'status',
  'priority',
  'current_stock',
  'reorder_level',
  'pending_order_quantity',
  'days_of_stock_remaining',
  'source_event_id',
  'opened_at',
  'updated_at',
  'acknowledged_at',
] as const;

/**
 * The product's open alert (`id`, `priority`), its row locked FOR UPDATE so that two events for one
 * product in parallel batches apply one after the other. A query: the low-stock read embeds it.
 */
export function openAlertForUpdateQuery(trx: Kysely<SalesDB>, tenantId: string, productId: string) {
  return trx
    .selectFrom('alerts')
    .select(['id', 'priority'])
    .where('tenant_id', '=', tenantId)
    .where('product_id', '=', productId)
    .where('status', '=', 'open')
    .forUpdate();
}

/** The low-stock write embeds this and the next two (low-stock-repository.ts). */
export function insertAlertQuery(trx: Kysely<SalesDB>, row: Insertable<AlertsTable>) {
  return trx.insertInto('alerts').values(row);
}

export function updateAlertQuery(
  trx: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
  figures: AlertFigures & { priority: Priority; updated_at: Date },
) {
  return trx
    .updateTable('alerts')
    .set(figures)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', alertId);
}

export function addAlertHistoryQuery(
  trx: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
  entry: AlertHistoryEntry,
) {
  return trx
    .insertInto('alert_history')
    .values({ ...entry, tenant_id: tenantId, alert_id: alertId });
}

/**
 * Opens or updates many alerts in one statement (the batch low-stock write). A row whose id
 * exists (an open alert the batch read locked) only takes the figures, priority and updated_at.
 */
export function upsertAlertsQuery(trx: Kysely<SalesDB>, rows: Insertable<AlertsTable>[]) {
  return trx
    .insertInto('alerts')
    .values(rows)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          product_sku: eb.ref('excluded.product_sku'),
          product_name: eb.ref('excluded.product_name'),
          priority: eb.ref('excluded.priority'),
          current_stock: eb.ref('excluded.current_stock'),
          reorder_level: eb.ref('excluded.reorder_level'),
          pending_order_quantity: eb.ref('excluded.pending_order_quantity'),
          days_of_stock_remaining: eb.ref('excluded.days_of_stock_remaining'),
          source_event_id: eb.ref('excluded.source_event_id'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('alerts.tenant_id', '=', (eb) => eb.ref('excluded.tenant_id')),
    );
}

/** History rows of many alerts, in the order given (ids follow it). */
export function addAlertHistoriesQuery(
  trx: Kysely<SalesDB>,
  rows: Insertable<AlertHistoryTable>[],
) {
  return trx.insertInto('alert_history').values(rows);
}

export async function addAlertHistory(
  trx: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
  entry: AlertHistoryEntry,
): Promise<void> {
  await addAlertHistoryQuery(trx, tenantId, alertId, entry).execute();
}

export interface ListAlertsOptions {
  /** Only alerts in this status. Default: all. */
  status?: AlertStatus;
  limit: number;
}

/** Newest first. */
export async function listAlerts(
  trx: Kysely<SalesDB>,
  tenantId: string,
  options: ListAlertsOptions,
): Promise<Alert[]> {
  let query = trx
    .selectFrom('alerts')
    .select(alertColumns)
    .where('tenant_id', '=', tenantId)
    .orderBy('opened_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.status !== undefined) query = query.where('status', '=', options.status);
  return query.execute();
}

export async function getAlert(
  trx: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
): Promise<Alert | undefined> {
  return trx
    .selectFrom('alerts')
    .select(alertColumns)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', alertId)
    .executeTakeFirst();
}

/** Oldest first. */
export async function getAlertHistory(
  trx: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
): Promise<AlertHistoryEntry[]> {
  return trx
    .selectFrom('alert_history')
    .select(['change', 'priority', 'event_id', 'at'])
    .where('tenant_id', '=', tenantId)
    .where('alert_id', '=', alertId)
    .orderBy('id')
    .execute();
}

/**
 * Throws ERP_SALES_ALERT_NOT_FOUND (also for another tenant's id) or ERP_SALES_ALERT_NOT_OPEN.
 * Run it in a transaction: the row lock makes a concurrent second acknowledgement see the first.
 */
export async function acknowledgeAlert(
  trx: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
  now: Date,
): Promise<Alert> {
  const alert = await trx
    .selectFrom('alerts')
    .select(alertColumns)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', alertId)
    .forUpdate()
    .executeTakeFirst();
  if (alert === undefined) throw alertNotFound(alertId);
  if (alert.status !== 'open') throw alertNotOpen(alertId, alert.status);
  await trx
    .updateTable('alerts')
    .set({ status: 'acknowledged', acknowledged_at: now, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', alertId)
    .execute();
  await addAlertHistory(trx, tenantId, alertId, {
    change: 'acknowledged',
    priority: alert.priority,
    event_id: null,
    at: now,
  });
  return { ...alert, status: 'acknowledged', acknowledged_at: now, updated_at: now };
}
