/** Low-stock alerts and their history. At most one open alert per (tenant, product). */
import { sql } from 'kysely';
import type { Insertable, Kysely, RawBuilder, Selectable } from 'kysely';
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
 * The open alerts (`tenant_id`, `product_id`, `id`, `priority`) of the products in the CTE named
 * `keys` (tenant_id, product_id), their rows locked FOR UPDATE so that two events for one product
 * in parallel batches apply one after the other. A CTE body, for the low-stock read to embed:
 * raw SQL, since for hundreds of products building it with Kysely costs more than running it.
 */
export function openAlertsForUpdateSql(keys: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT a.tenant_id, a.product_id, a.id, a.priority
    FROM alerts a
    JOIN ${keys} k ON k.tenant_id = a.tenant_id AND k.product_id = a.product_id
    WHERE a.status = 'open'
    FOR UPDATE OF a`;
}

/**
 * Opens or updates alerts in one statement (the low-stock write embeds it). A row whose id exists
 * (an open alert the low-stock read locked) only takes the figures, priority and updated_at.
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
  await addAlertHistoriesQuery(trx, [
    {
      alert_id: alertId,
      tenant_id: tenantId,
      change: 'acknowledged',
      priority: alert.priority,
      event_id: null,
      at: now,
    },
  ]).execute();
  return { ...alert, status: 'acknowledged', acknowledged_at: now, updated_at: now };
}

/** Open alerts of one tenant group and priority. */
export interface OpenAlertsGroup {
  /** A tenant of `tenants`, or `others` for every other tenant together. */
  tenant: string;
  priority: Priority;
  count: number;
  oldestOpenedAt: Date;
}

/**
 * Open (unacknowledged) alerts across tenants, counted per priority for each of `tenants` and for
 * all the other tenants together under the name `others`: the rows are folded in SQL, so the
 * result has at most (tenants + 1) × 4 rows however many tenants there are. Needs the owner's
 * handle (`Database.db`): as a tenant, row-level security would show one tenant's alerts only.
 */
export async function openAlertsByTenantGroup(
  db: Kysely<SalesDB>,
  tenants: readonly string[],
  others: string,
): Promise<OpenAlertsGroup[]> {
  // = ANY(array) rather than IN (list): an empty list is valid SQL too.
  const group = sql<string>`CASE WHEN tenant_id = ANY(${[...tenants]}::text[])
    THEN tenant_id ELSE ${others}::text END`;
  return (
    db
      .selectFrom('alerts')
      .select((eb) => [
        group.as('tenant'),
        'priority',
        eb.fn.countAll<number>().as('count'),
        eb.fn.min('opened_at').as('oldestOpenedAt'),
      ])
      .where('status', '=', 'open')
      // By position: the CASE above, whose parameters a GROUP BY of its own would have to repeat.
      .groupBy([sql`1`, 'priority'])
      .execute()
  );
}
