/** Customer orders and their lines; pending ones count as demand against current stock. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
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
 * Units of the product on the tenant's pending orders: one row, `total` (0 without any). A query,
 * not a result, so that the low-stock read can embed it (low-stock-repository.ts).
 */
export function pendingOrderQuantityQuery(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
) {
  return trx
    .selectFrom('order_lines')
    .innerJoin('orders', 'orders.id', 'order_lines.order_id')
    .select((eb) =>
      eb.fn.coalesce(eb.fn.sum<number>('order_lines.quantity'), eb.lit(0)).as('total'),
    )
    .where('order_lines.tenant_id', '=', tenantId)
    .where('orders.tenant_id', '=', tenantId)
    .where('order_lines.product_id', '=', productId)
    .where('orders.status', '=', 'pending');
}
