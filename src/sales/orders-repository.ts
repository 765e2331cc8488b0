/**
 * Customer orders, their lines and their saga history. PENDING and CONFIRMED orders count as
 * demand against current stock (pendingQuantitiesSql).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { OrderStatus, SalesDB } from './db.ts';

/** States whose units are still to leave stock: the demand of the low-stock priority rules. */
export const DEMAND_STATUSES: readonly OrderStatus[] = ['PENDING', 'CONFIRMED'];

export interface OrderLine {
  line_no: number;
  product_id: string;
  quantity: number;
}

export interface Order {
  id: string;
  customer: string;
  status: OrderStatus;
  /** Why it was rejected or cancelled; null otherwise. */
  reason: string | null;
  created_at: Date;
  updated_at: Date;
  lines: OrderLine[];
}

export interface OrderStep {
  step: string;
  status: OrderStatus;
  reason: string | null;
  event_id: string | null;
  at: Date;
}

export interface NewOrder {
  customer: string;
  lines: { product_id: string; quantity: number }[];
}

/** Stores a new PENDING order (the caller appends its history and its order_placed event). */
export async function createOrder(
  trx: Kysely<SalesDB>,
  tenantId: string,
  input: NewOrder,
  now: Date,
  id: string = randomUUID(),
): Promise<Order> {
  await trx
    .insertInto('orders')
    .values({
      id,
      tenant_id: tenantId,
      customer: input.customer,
      status: 'PENDING',
      reason: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const lines = input.lines.map((line, i) => ({
    line_no: i + 1,
    product_id: line.product_id,
    quantity: line.quantity,
  }));
  await trx
    .insertInto('order_lines')
    .values(lines.map((line) => ({ ...line, order_id: id, tenant_id: tenantId })))
    .execute();
  return {
    id,
    customer: input.customer,
    status: 'PENDING',
    reason: null,
    created_at: now,
    updated_at: now,
    lines,
  };
}

/** Newest first, each with its lines. */
export async function listOrders(
  trx: Kysely<SalesDB>,
  tenantId: string,
  limit: number,
): Promise<Order[]> {
  const orders = await trx
    .selectFrom('orders')
    .select(['id', 'customer', 'status', 'reason', 'created_at', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return withLines(trx, tenantId, orders);
}

/** One order with its lines; `lock` locks its row (a saga step decides from it). */
export async function getOrder(
  db: Kysely<SalesDB>,
  tenantId: string,
  id: string,
  lock = false,
): Promise<Order | undefined> {
  let query = db
    .selectFrom('orders')
    .select(['id', 'customer', 'status', 'reason', 'created_at', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id);
  if (lock) query = query.forUpdate();
  const order = await query.executeTakeFirst();
  if (order === undefined) return undefined;
  return (await withLines(db, tenantId, [order]))[0];
}

async function withLines(
  trx: Kysely<SalesDB>,
  tenantId: string,
  orders: readonly Omit<Order, 'lines'>[],
): Promise<Order[]> {
  if (orders.length === 0) return [];
  const lines = await trx
    .selectFrom('order_lines')
    .select(['order_id', 'line_no', 'product_id', 'quantity'])
    .where('tenant_id', '=', tenantId)
    .where(
      'order_id',
      'in',
      orders.map((o) => o.id),
    )
    .orderBy('order_id')
    .orderBy('line_no')
    .execute();
  const byOrder = new Map<string, OrderLine[]>();
  for (const { order_id, ...line } of lines) {
    const list = byOrder.get(order_id) ?? [];
    list.push(line);
    byOrder.set(order_id, list);
  }
  return orders.map((o) => ({ ...o, lines: byOrder.get(o.id) ?? [] }));
}

export async function setOrderStatus(
  trx: Kysely<SalesDB>,
  tenantId: string,
  id: string,
  status: OrderStatus,
  reason: string | null,
  at: Date,
): Promise<void> {
  await trx
    .updateTable('orders')
    .set({ status, reason, updated_at: at })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export interface NewOrderStep extends OrderStep {
  tenant_id: string;
  order_id: string;
}

export async function appendOrderSteps(
  trx: Kysely<SalesDB>,
  steps: readonly NewOrderStep[],
): Promise<void> {
  if (steps.length === 0) return;
  await trx
    .insertInto('order_history')
    .values([...steps])
    .execute();
}

/** The order's saga, oldest first. */
export async function getOrderHistory(
  db: Kysely<SalesDB>,
  tenantId: string,
  id: string,
): Promise<OrderStep[]> {
  return db
    .selectFrom('order_history')
    .select(['step', 'status', 'reason', 'event_id', 'at'])
    .where('tenant_id', '=', tenantId)
    .where('order_id', '=', id)
    .orderBy('id')
    .execute();
}

/**
 * Rejects (reason `timeout`) up to `limit` orders PENDING since before `cutoff`, across tenants,
 * and returns them. Concurrent sweepers and saga steps are safe: the UPDATE re-checks the status
 * of a row another transaction changed, so each order times out once, or not at all.
 */
export async function expirePendingOrders(
  trx: Kysely<SalesDB>,
  cutoff: Date,
  at: Date,
  limit: number,
): Promise<{ id: string; tenant_id: string }[]> {
  const result = await sql<{ id: string; tenant_id: string }>`
    UPDATE orders SET status = 'REJECTED', reason = 'timeout', updated_at = ${at}
    WHERE id IN (
      SELECT id FROM orders WHERE status = 'PENDING' AND created_at < ${cutoff}
      ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      AND status = 'PENDING'
    RETURNING id, tenant_id`.execute(trx);
  return result.rows;
}

/**
 * Units on orders still to leave stock (DEMAND_STATUSES: PENDING and CONFIRMED), as
 * (`tenant_id`, `product_id`, `total`), of the products in the CTE named
 * `keys` (tenant_id, product_id); products without any are absent. A CTE body for the low-stock
 * read (raw SQL: see openAlertsForUpdateSql).
 */
export function pendingQuantitiesSql(keys: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT l.tenant_id, l.product_id, sum(l.quantity) AS total
    FROM order_lines l
    JOIN ${keys} k ON k.tenant_id = l.tenant_id AND k.product_id = l.product_id
    JOIN orders o ON o.id = l.order_id AND o.tenant_id = l.tenant_id
    WHERE o.status IN ('PENDING', 'CONFIRMED')
    GROUP BY l.tenant_id, l.product_id`;
}
