/**
 * The event store: product streams in the `events` table (which is also the outbox the relay
 * publishes), written together with the `products` read model and the stock movements.
 *
 * A command is two statements: one read of the product with its recent outflow, one write
 * that appends the events, updates the read model and records the stock movement. Each is a
 * single round trip: on this project's 2-core machines a round trip costs ~0.4 ms, and the
 * eight of the naive version capped a transaction at about 3 ms.
 *
 * Both run either on their own (autocommit; the write is one statement, so it is atomic by
 * itself) or inside a transaction with the row locked (commands.ts decides which).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import {
  checkEnvelope,
  CONTRACT_UPCASTERS,
  ContractError,
  decodeEvent,
  messageKeyOf,
} from '../contract/index.ts';
import type { AnyEvent, Upcasters } from '../contract/index.ts';
import type { InventoryDB } from './db.ts';
import { outboxHeadersFor } from '../messaging/index.ts';
import { isAppError, isUniqueViolation } from '../platform/index.ts';
import { duplicateSku, versionConflict } from './errors.ts';
import type { ProductState } from './product.ts';
import { toProductState } from './products-repository.ts';

export interface LoadedProduct {
  state: ProductState | null;
  /** Units that left stock since `since`. */
  outflow: number;
  /** The first stock movement since `since`, if any. */
  firstMovementAt: Date | undefined;
}

/**
 * Reads the product and its recent outflow; with `lock`, also locks the product row (inside a
 * transaction: writers of one product then queue here instead of conflicting).
 */
export async function loadForDecision(
  db: Kysely<InventoryDB>,
  tenantId: string,
  productId: string,
  since: Date,
  lock: boolean,
): Promise<LoadedProduct> {
  const result = await sql<Record<string, unknown>>`
    SELECT p.*,
      (SELECT coalesce(sum(-m.quantity_change) FILTER (WHERE m.quantity_change < 0), 0)::bigint
         FROM stock_movements m
        WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id AND m.occurred_at >= ${since}) AS outflow,
      (SELECT min(m.occurred_at)
         FROM stock_movements m
        WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id AND m.occurred_at >= ${since}) AS first_movement_at
    FROM products p
    WHERE p.tenant_id = ${tenantId} AND p.id = ${productId}
    ${lock ? sql`FOR UPDATE OF p` : sql``}
  `.execute(db);
  const row = result.rows[0];
  if (row === undefined) return { state: null, outflow: 0, firstMovementAt: undefined };
  const first = row['first_movement_at'] as Date | string | null;
  return {
    state: toProductState(row as never),
    outflow: Number(row['outflow']),
    firstMovementAt: first === null ? undefined : new Date(first),
  };
}

export interface Decision {
  tenantId: string;
  productId: string;
  topic: string;
  events: readonly AnyEvent[];
  /** The state before (null for a new product) and after the events. */
  before: ProductState | null;
  after: ProductState;
  movement: { quantityChange: number; reason: string } | null;
  at: Date;
}

/**
 * Appends the events with the expected stream version, writes the read model (insert for a new
 * product, update guarded by the version otherwise) and records the movement, in one statement.
 * The events and the movement are written only if the read-model write found its row (they read
 * its RETURNING), so a lost race leaves nothing behind even outside a transaction; it surfaces as
 * ERP_INV_VERSION_CONFLICT, as does the unique (stream_id, stream_version) constraint.
 */
export async function commitDecision(db: Kysely<InventoryDB>, d: Decision): Promise<void> {
  const expectedVersion = d.before?.version ?? 0;
  // Typed: values selected (not VALUES of an INSERT) get no type from the target column.
  const eventRows = d.events.map(
    (event, i) =>
      sql`(${expectedVersion + i + 1}::int, ${event.metadata.event_id}::text,
           ${event.metadata.event_type}::text, ${messageKeyOf(event)}::text,
           ${JSON.stringify(event)}::json, ${JSON.stringify(outboxHeadersFor(event))}::jsonb,
           ${event.metadata.timestamp}::timestamptz)`,
  );
  const p = d.after;
  const product =
    d.before === null
      ? sql`INSERT INTO products (id, tenant_id, sku, name, category, unit_price, quantity_on_hand,
              reorder_level, reorder_quantity, location, version, created_at, updated_at)
            VALUES (${p.id}, ${d.tenantId}, ${p.sku}, ${p.name}, ${p.category}, ${p.unitPrice},
              ${p.quantityOnHand}, ${p.reorderLevel}, ${p.reorderQuantity}, ${p.location},
              ${p.version}, ${d.at}, ${d.at})
            RETURNING 1`
      : sql`UPDATE products SET quantity_on_hand = ${p.quantityOnHand}, version = ${p.version},
              updated_at = ${d.at}
            WHERE tenant_id = ${d.tenantId} AND id = ${p.id} AND version = ${expectedVersion}
            RETURNING 1`;
  const movement =
    d.movement === null || d.movement.quantityChange === 0
      ? sql`SELECT 1 WHERE false`
      : sql`INSERT INTO stock_movements (tenant_id, product_id, quantity_change, quantity_after, reason, occurred_at)
            SELECT ${d.tenantId}::text, ${d.productId}::text, ${d.movement.quantityChange}::int,
              ${p.quantityOnHand}::int, ${d.movement.reason}::text, ${d.at}::timestamptz
            WHERE EXISTS (SELECT 1 FROM product)
            RETURNING 1`;
  let written: number;
  try {
    const result = await sql<{ written: number }>`
      WITH product AS (${product}), appended AS (
        INSERT INTO events (tenant_id, stream_id, topic, stream_version, event_id, event_type,
          message_key, envelope, headers, occurred_at)
        SELECT ${d.tenantId}::text, ${d.productId}::text, ${d.topic}::text, v.*
        FROM (VALUES ${sql.join(eventRows)}) AS v(stream_version, event_id, event_type, message_key,
          envelope, headers, occurred_at)
        WHERE EXISTS (SELECT 1 FROM product)
        ORDER BY v.stream_version
        RETURNING 1
      ), movement AS (${movement})
      SELECT (SELECT count(*) FROM product)::int AS written
    `.execute(db);
    written = result.rows[0]?.written ?? 0;
  } catch (err) {
    if (isUniqueViolation(err, 'events_stream_id_stream_version_key')) {
      throw versionConflict(d.productId, expectedVersion);
    }
    if (isUniqueViolation(err, 'products_tenant_id_sku_key')) throw duplicateSku(p.sku);
    // An optimistic write that read the reserved units before a reservation committed: the
    // CHECK refused it; the locked retry reads them and refuses with ERP_INV_INSUFFICIENT_STOCK.
    if (isReservedCheckViolation(err)) throw versionConflict(d.productId, expectedVersion);
    throw err;
  }
  if (written !== 1) throw versionConflict(d.productId, expectedVersion);
}

function isReservedCheckViolation(err: unknown): boolean {
  return (
    isAppError(err) &&
    err.context['sqlstate'] === '23514' &&
    err.message.includes('products_reserved_within_on_hand')
  );
}

/**
 * The whole stream in version order, for rebuilding state and replay, read through the contract:
 * each stored envelope is checked and upcast to the version `upcasters` reach (the stored rows
 * stay as written). Throws ContractError for a row the contract refuses.
 */
export async function readStream(
  db: Kysely<InventoryDB>,
  tenantId: string,
  streamId: string,
  upcasters: Upcasters = CONTRACT_UPCASTERS,
): Promise<AnyEvent[]> {
  const rows = await db
    .selectFrom('events')
    .select(['envelope'])
    .where('tenant_id', '=', tenantId)
    .where('stream_id', '=', streamId)
    .orderBy('stream_version')
    .execute();
  return rows.map((r) => decodeStoredEvent(r.envelope, upcasters));
}

/** One stored envelope (a json column, parsed by the driver) as a known, current-version event. */
export function decodeStoredEvent(stored: unknown, upcasters: Upcasters): AnyEvent {
  const envelope = checkEnvelope(typeof stored === 'string' ? JSON.parse(stored) : stored);
  const decoded = decodeEvent(envelope, upcasters);
  // Inventory's own store holds only types of its contract: an unknown one is a foreign row.
  if (!decoded.known) {
    throw new ContractError(
      'ERP_EVT_INVALID_ENVELOPE',
      `event store row of unknown type ${envelope.metadata.event_type}`,
      { context: { event_id: envelope.metadata.event_id } },
    );
  }
  return decoded.event;
}
