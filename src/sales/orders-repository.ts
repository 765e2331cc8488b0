/** Customer orders and their lines; pending ones count as demand against current stock. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { OrderStatus, SalesDB } from './db.ts';

export interface OrderLine {
  line_no: number;
  product_id: string;
  quantity: number;
}

export interface Order {
  id: string;
  customer: string;
  status: OrderStatus;
  created_at: Date;
  lines: OrderLine[];
}

export interface NewOrder {
  customer: string;
  lines: { product_id: string; quantity: number }[];
}

export async function createOrder(
  trx: Kysely<SalesDB>,
  tenantId: string,
  input: NewOrder,
  now: Date,
): Promise<Order> {
  const id = randomUUID();
  await trx
    .insertInto('orders')
    .values({
      id,
      tenant_id: tenantId,
      customer: input.customer,
      status: 'pending',
      created_at: now,
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
  return { id, customer: input.customer, status: 'pending', created_at: now, lines };
}

/** Newest first, each with its lines. */
export async function listOrders(
  trx: Kysely<SalesDB>,
  tenantId: string,
  limit: number,
): Promise<Order[]> {
  const orders = await trx
    .selectFrom('orders')
    .select(['id', 'customer', 'status', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
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

/**
 * Units on pending orders (`tenant_id`, `product_id`, `total`) of the products in the CTE named
 * `keys` (tenant_id, product_id); products without any are absent. A CTE body for the low-stock
 * read (raw SQL: see openAlertsForUpdateSql).
 */
export function pendingQuantitiesSql(keys: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT l.tenant_id, l.product_id, sum(l.quantity) AS total
    FROM order_lines l
    JOIN ${keys} k ON k.tenant_id = l.tenant_id AND k.product_id = l.product_id
    JOIN orders o ON o.id = l.order_id AND o.tenant_id = l.tenant_id
    WHERE o.status = 'pending'
    GROUP BY l.tenant_id, l.product_id`;
}
