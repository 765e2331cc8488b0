/**
 * Inventory's side of the order saga: `sales.order_placed` → reserve every line or none;
 * `sales.order_cancelled` → release; `sales.order_fulfilled` → the reservation becomes an outflow
 * (a stock_adjusted per product, with low_stock when it crosses the reorder level: the ordinary
 * adjustment path). Each runs in the inbox consumer's transaction, so the decision, its events and
 * the inbox row commit together.
 *
 * Event-sourced like products: each order's decisions are a stream `order:<order id>` in the
 * event store (and so in the outbox): stock_reserved or stock_reservation_rejected, then
 * stock_released. `reservations` and `products.quantity_reserved` are read models of those
 * streams, written in the same transaction; `inventory rebuild` recomputes the reserved units
 * from them (rebuild.ts).
 *
 * Available never goes negative under any concurrency: the rows of the products are locked
 * before anything is decided, available is read under the lock, and the CHECK on products refuses
 * what a bug would let through. A consumer transaction locks every product its events name first,
 * in one sorted order (`lockOrderProducts`, the router's beforeRuns hook): its runs then only take
 * locks it holds, so two transactions never wait on each other in a cycle. Locking per run was
 * not enough: a transaction keeps each run's locks to its commit, so a placement run then a
 * cancellation run in one partition's transaction, and the reverse in another's, deadlocked (the
 * fault suite's saga scenario showed it). Each handler still locks its run's products (a no-op
 * under the hook), so that it is safe when called alone.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { createEvent, messageKeyOf } from '../contract/index.ts';
import type { AnyEvent, EventOf, EventType, OrderLinePayload } from '../contract/index.ts';
import { outboxHeadersFor } from '../messaging/index.ts';
import type {
  BeforeRuns,
  ConsumedEvent,
  EventHandler,
  HandlerContext,
} from '../messaging/index.ts';
import type { CommandHandler } from './commands.ts';
import { SOURCE_SERVICE } from './commands.ts';
import type { InventoryDB, ReservationStatus } from './db.ts';

/** Stream id of an order's decisions in the event store (product streams are bare UUIDs). */
export const ORDER_STREAM_PREFIX = 'order:';
export const orderStreamId = (orderId: string) => `${ORDER_STREAM_PREFIX}${orderId}`;

export interface OrderHandlerOptions {
  /** Topic of Inventory's events (KAFKA_INVENTORY_TOPIC). */
  topic: string;
  /** The product commands: a fulfilment is an adjustment in the consumer's transaction. */
  commands: CommandHandler;
  /** Told after commit when events were appended. Default: none (the relay polls). */
  outbox?: { committed(): void };
  /** Default: () => new Date(). */
  now?: () => Date;
}

type Line = { product_id: string; quantity: number };
interface Locked {
  onHand: number;
  reserved: number;
}

/** An order's lines summed per product, sorted by product id (an order may name one twice). */
export function linesByProduct(lines: readonly OrderLinePayload[]): Line[] {
  const sums = new Map<string, number>();
  for (const l of lines) sums.set(l.product_id, (sums.get(l.product_id) ?? 0) + l.quantity);
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([product_id, quantity]) => ({ product_id, quantity }));
}

const keyOf = (tenantId: string, productId: string) => `${tenantId}\u0000${productId}`;

/** Locks the product rows of `keys` in (tenant, id) order; returns what they hold. */
async function lockProducts(
  trx: Kysely<InventoryDB>,
  keys: readonly { tenantId: string; productId: string }[],
): Promise<Map<string, Locked>> {
  const locked = new Map<string, Locked>();
  if (keys.length === 0) return locked;
  const values = keys.map((k) => sql`(${k.tenantId}::text, ${k.productId}::text)`);
  // The sort runs below the row locks, so rows are locked in this order: no deadlock between
  // runs, whatever products their orders name.
  const result = await sql<{
    tenant_id: string;
    id: string;
    quantity_on_hand: number;
    quantity_reserved: number;
  }>`
    SELECT p.tenant_id, p.id, p.quantity_on_hand, p.quantity_reserved
    FROM products p
    JOIN (VALUES ${sql.join(values)}) AS k(tenant_id, id) ON p.tenant_id = k.tenant_id AND p.id = k.id
    ORDER BY p.tenant_id, p.id
    FOR UPDATE OF p
  `.execute(trx);
  for (const r of result.rows) {
    locked.set(keyOf(r.tenant_id, r.id), {
      onHand: Number(r.quantity_on_hand),
      reserved: Number(r.quantity_reserved),
    });
  }
  return locked;
}

type SagaCommand = 'sales.order_placed' | 'sales.order_cancelled' | 'sales.order_fulfilled';

const isSagaCommand = (e: ConsumedEvent<EventType>): e is ConsumedEvent<SagaCommand> =>
  e.event.metadata.event_type === 'sales.order_placed' ||
  e.event.metadata.event_type === 'sales.order_cancelled' ||
  e.event.metadata.event_type === 'sales.order_fulfilled';

/**
 * Every product `events` name, sorted: an order's lines, or for a cancellation the lines its
 * reservation holds (a reservation's lines never change, so reading them before the lock is safe).
 */
async function productsOf(
  trx: Kysely<InventoryDB>,
  events: readonly ConsumedEvent<EventType>[],
): Promise<{ tenantId: string; productId: string }[]> {
  const keys = new Map<string, { tenantId: string; productId: string }>();
  for (const e of events.filter(isSagaCommand)) {
    const tenantId = e.event.metadata.tenant_id;
    let lines: readonly { product_id: string }[] | undefined;
    if (e.event.metadata.event_type === 'sales.order_cancelled') {
      const held = await trx
        .selectFrom('reservations')
        .select('lines')
        .where('tenant_id', '=', tenantId)
        .where('order_id', '=', e.event.payload.order_id)
        .executeTakeFirst();
      lines = typeof held?.lines === 'string' ? (JSON.parse(held.lines) as Line[]) : held?.lines;
    } else {
      lines = (e as ConsumedEvent<'sales.order_placed' | 'sales.order_fulfilled'>).event.payload
        .lines;
    }
    for (const l of lines ?? []) {
      keys.set(keyOf(tenantId, l.product_id), { tenantId, productId: l.product_id });
    }
  }
  return [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}

/**
 * The router's beforeRuns hook: locks every product of a consumer transaction's saga events, in
 * one sorted order, before its first run.
 */
export const lockOrderProducts: BeforeRuns<InventoryDB> = async (events, { trx }) => {
  await lockProducts(trx, await productsOf(trx, events));
};

async function reservationOf(
  trx: Kysely<InventoryDB>,
  tenantId: string,
  orderId: string,
): Promise<{ status: ReservationStatus; lines: Line[] } | undefined> {
  const row = await trx
    .selectFrom('reservations')
    .select(['status', 'lines'])
    .where('tenant_id', '=', tenantId)
    .where('order_id', '=', orderId)
    .forUpdate()
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const lines = typeof row.lines === 'string' ? (JSON.parse(row.lines) as Line[]) : row.lines;
  return { status: row.status, lines };
}

async function changeReserved(
  trx: Kysely<InventoryDB>,
  tenantId: string,
  lines: readonly Line[],
  sign: 1 | -1,
): Promise<void> {
  if (lines.length === 0) return;
  const values = lines.map((l) => sql`(${l.product_id}::text, ${sign * l.quantity}::int)`);
  await sql`
    UPDATE products p SET quantity_reserved = p.quantity_reserved + v.delta
    FROM (VALUES ${sql.join(values)}) AS v(id, delta)
    WHERE p.tenant_id = ${tenantId} AND p.id = v.id
  `.execute(trx);
}

/** Appends an event to the order's stream (next version), so the relay publishes it. */
async function appendOrderEvent(
  trx: Kysely<InventoryDB>,
  topic: string,
  event: AnyEvent,
  causedBy: ConsumedEvent<EventType>['record'],
): Promise<void> {
  const tenantId = event.metadata.tenant_id;
  const streamId = orderStreamId(messageKeyOf(event));
  await sql`
    INSERT INTO events (tenant_id, stream_id, topic, stream_version, event_id, event_type,
      message_key, envelope, headers, occurred_at)
    SELECT ${tenantId}::text, ${streamId}::text, ${topic}::text,
      coalesce(max(stream_version), 0) + 1, ${event.metadata.event_id}::text,
      ${event.metadata.event_type}::text, ${messageKeyOf(event)}::text,
      ${JSON.stringify(event)}::json, ${JSON.stringify(outboxHeadersFor(event, causedBy))}::jsonb,
      ${event.metadata.timestamp}::timestamptz
    FROM events WHERE tenant_id = ${tenantId} AND stream_id = ${streamId}
  `.execute(trx);
}

async function writeReservation(
  trx: Kysely<InventoryDB>,
  tenantId: string,
  orderId: string,
  status: ReservationStatus,
  lines: readonly Line[],
  at: Date,
): Promise<void> {
  await trx
    .insertInto('reservations')
    .values({
      tenant_id: tenantId,
      order_id: orderId,
      status,
      lines: JSON.stringify(lines),
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'order_id']).doUpdateSet({ status, updated_at: at }),
    )
    .execute();
}

export function createOrderHandlers(options: OrderHandlerOptions) {
  const now = options.now ?? (() => new Date());
  const { topic } = options;

  function replyTo<T extends EventType>(
    source: EventOf<EventType>,
    type: T,
    payload: Parameters<typeof createEvent<T>>[1],
    at: Date,
  ): AnyEvent {
    return createEvent(type, payload, {
      tenantId: source.metadata.tenant_id,
      sourceService: SOURCE_SERVICE,
      correlationId: source.metadata.correlation_id,
      timestamp: at.toISOString(),
    }) as AnyEvent;
  }

  /**
   * The end of a reservation (its units already taken out of `reserved`): stock_released on the
   * order's stream, and the reservation's row in its final state.
   */
  async function endReservation(
    trx: Kysely<InventoryDB>,
    { event, record }: ConsumedEvent<'sales.order_cancelled' | 'sales.order_fulfilled'>,
    lines: readonly Line[],
    reason: 'cancelled' | 'fulfilled',
    at: Date,
  ): Promise<void> {
    const orderId = event.payload.order_id;
    const released = replyTo(
      event,
      'inventory.stock_released',
      { order_id: orderId, reason, lines: [...lines] },
      at,
    );
    await appendOrderEvent(trx, topic, released, record);
    await writeReservation(
      trx,
      event.metadata.tenant_id,
      orderId,
      reason === 'cancelled' ? 'released' : 'fulfilled',
      lines,
      at,
    );
  }

  /** Locks every product the run's orders name, once, in one order, before deciding any. */
  async function lockRun(
    trx: Kysely<InventoryDB>,
    events: readonly ConsumedEvent<SagaCommand>[],
  ): Promise<Map<string, Locked>> {
    return lockProducts(trx, await productsOf(trx, events));
  }

  function signal(ctx: HandlerContext<InventoryDB>, appended: number): void {
    const { outbox } = options;
    if (appended > 0 && outbox !== undefined) ctx.afterCommit(() => outbox.committed());
  }

  const placed: EventHandler<'sales.order_placed', InventoryDB> = async (events, ctx) => {
    const { trx } = ctx;
    const locked = await lockRun(trx, events);
    let appended = 0;
    for (const { event, record } of events) {
      const tenantId = event.metadata.tenant_id;
      const orderId = event.payload.order_id;
      const at = now();
      // Decided once: a redelivery (or a replay past the inbox) finds the order's row.
      if ((await reservationOf(trx, tenantId, orderId)) !== undefined) {
        ctx.log.info({ order_id: orderId }, 'order already decided: no second reservation');
        continue;
      }
      const lines = linesByProduct(event.payload.lines);
      const short = lines.flatMap((l) => {
        const p = locked.get(keyOf(tenantId, l.product_id));
        if (p === undefined) {
          return [{ ...shortLine(l, 0), reason: 'unknown_product' }];
        }
        const available = p.onHand - p.reserved;
        return available >= l.quantity
          ? []
          : [{ ...shortLine(l, available), reason: 'insufficient_stock' }];
      });
      if (short.length > 0) {
        const reason = short.some((s) => s.reason === 'unknown_product')
          ? 'unknown_product'
          : 'insufficient_stock';
        await appendOrderEvent(
          trx,
          topic,
          replyTo(
            event,
            'inventory.stock_reservation_rejected',
            { order_id: orderId, reason, lines_short: short },
            at,
          ),
          record,
        );
        await writeReservation(trx, tenantId, orderId, 'rejected', lines, at);
      } else {
        for (const l of lines) locked.get(keyOf(tenantId, l.product_id))!.reserved += l.quantity;
        await changeReserved(trx, tenantId, lines, 1);
        await appendOrderEvent(
          trx,
          topic,
          replyTo(event, 'inventory.stock_reserved', { order_id: orderId, lines }, at),
          record,
        );
        await writeReservation(trx, tenantId, orderId, 'reserved', lines, at);
      }
      appended++;
      ctx.log.debug({ order_id: orderId, short: short.length }, 'order decided');
    }
    signal(ctx, appended);
  };

  const cancelled: EventHandler<'sales.order_cancelled', InventoryDB> = async (events, ctx) => {
    const { trx } = ctx;
    await lockRun(trx, events);
    let appended = 0;
    for (const { event, record } of events) {
      const tenantId = event.metadata.tenant_id;
      const orderId = event.payload.order_id;
      const at = now();
      const reservation = await reservationOf(trx, tenantId, orderId);
      if (reservation === undefined) {
        // Cancelled before its placement got here (dead-lettered, or redriven late): remember,
        // so that a late order_placed is refused instead of reserving for a dead order.
        await writeReservation(trx, tenantId, orderId, 'cancelled', [], at);
        continue;
      }
      if (reservation.status !== 'reserved') continue;
      await changeReserved(trx, tenantId, reservation.lines, -1);
      await endReservation(trx, { event, record }, reservation.lines, 'cancelled', at);
      appended++;
    }
    signal(ctx, appended);
  };

  const fulfilled: EventHandler<'sales.order_fulfilled', InventoryDB> = async (events, ctx) => {
    const { trx } = ctx;
    await lockRun(trx, events);
    let appended = 0;
    for (const { event, record } of events) {
      const tenantId = event.metadata.tenant_id;
      const orderId = event.payload.order_id;
      const at = now();
      const reservation = await reservationOf(trx, tenantId, orderId);
      if (reservation?.status !== 'reserved') {
        // Sales fulfils only CONFIRMED orders, whose stock is reserved: anything else is a
        // duplicate or a bug upstream, and taking unreserved stock would break someone's promise.
        ctx.log.warn(
          { order_id: orderId, status: reservation?.status ?? null },
          'order_fulfilled for an order without a reservation: ignored',
        );
        continue;
      }
      // The units leave the reservation and then stock, in that order, so that the adjustment's
      // check (on hand - change ≥ reserved) sees the others' reservations only.
      await changeReserved(trx, tenantId, reservation.lines, -1);
      for (const l of reservation.lines) {
        const result = await options.commands.inTransaction(
          trx,
          {
            kind: 'adjust',
            productId: l.product_id,
            quantityChange: -l.quantity,
            reason: `order ${orderId} fulfilled`.slice(0, 200),
            // Stable per order and product: a consumer can tell a replayed outflow.
            adjustmentId: `${orderId}/${l.product_id}`.slice(0, 128),
          },
          { tenantId, correlationId: event.metadata.correlation_id },
        );
        appended += result.events.length;
      }
      await endReservation(trx, { event, record }, reservation.lines, 'fulfilled', at);
      appended++;
    }
    signal(ctx, appended);
  };

  return { placed, cancelled, fulfilled };
}

function shortLine(l: Line, available: number) {
  return { product_id: l.product_id, requested: l.quantity, available: Math.max(0, available) };
}

/**
 * Units reserved per product of a tenant, folded from the order streams: for each order whose last
 * event is stock_reserved, its lines. What `products.quantity_reserved` must equal (rebuild.ts).
 */
export async function reservedFromStreams(
  trx: Kysely<InventoryDB>,
  tenantId: string,
  productId: string,
): Promise<number> {
  const result = await sql<{ reserved: number | string }>`
    SELECT coalesce(sum((l->>'quantity')::bigint), 0) AS reserved
    FROM events e
    CROSS JOIN LATERAL json_array_elements(e.envelope->'payload'->'lines') AS l
    WHERE e.tenant_id = ${tenantId}
      AND e.stream_id LIKE ${`${ORDER_STREAM_PREFIX}%`}
      AND e.event_type = 'inventory.stock_reserved'
      AND l->>'product_id' = ${productId}
      AND NOT EXISTS (
        SELECT 1 FROM events later
        WHERE later.tenant_id = e.tenant_id AND later.stream_id = e.stream_id
          AND later.stream_version > e.stream_version)
  `.execute(trx);
  return Number(result.rows[0]?.reserved ?? 0);
}
