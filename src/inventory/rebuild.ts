/**
 * Rebuilding the `products` read model from the event store, online: every product stream is
 * folded with `evolve` and compared with its row, one stream per transaction that first locks
 * the product row (FOR UPDATE). Every write to a product updates that row in the same statement
 * as it appends (event-store.ts: the append is guarded by the row's version), so while the lock
 * is held the stream cannot grow and the row cannot change: the fold and the comparison see one
 * consistent pair, and a fix cannot overwrite a write that committed meanwhile. Writers of that
 * one product wait for the lock (a few milliseconds), everyone else runs on.
 *
 * Why not a shadow table swapped in at the end: the swap would need the whole table locked, or a
 * catch-up pass chasing writes; per-row locks keep the service writing throughout and make the
 * rebuild resumable at any product.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { CONTRACT_UPCASTERS } from '../contract/index.ts';
import type { Upcasters } from '../contract/index.ts';
import type { Database } from '../platform/index.ts';
import type { InventoryDB } from './db.ts';
import { readStream } from './event-store.ts';
import { evolve } from './product.ts';
import type { ProductState } from './product.ts';
import { toProductState } from './products-repository.ts';
import { ORDER_STREAM_PREFIX, reservedFromStreams } from './reservations.ts';

export interface RebuildOptions {
  /** Only this tenant's products. Default: every tenant. */
  tenant?: string;
  /** Compare only; change nothing. Default: false. */
  verifyOnly?: boolean;
  /** Default: CONTRACT_UPCASTERS. */
  upcasters?: Upcasters;
  /** Streams per listing query. Default: 500. */
  pageSize?: number;
  /** Called after each page with the streams checked so far and the total at the start. */
  onProgress?: (checked: number, total: number) => void;
  /** Called for every product whose row differs from its events (fixed unless verifyOnly). */
  onDifference?: (difference: ProductDifference) => void;
}

export interface ProductDifference {
  tenantId: string;
  productId: string;
  /** `missing row`: events without a row; `orphan row`: a row without events; else the fields. */
  kind: 'missing row' | 'orphan row' | 'fields';
  /** Fields whose row value differs from the fold: name → [row, events]. */
  fields: Record<string, [unknown, unknown]>;
}

export interface RebuildSummary {
  /** Product streams (or rows) compared. */
  checked: number;
  differences: number;
  /** Differences written back (0 with verifyOnly). */
  fixed: number;
}

const COMPARED: readonly (keyof ProductState)[] = [
  'tenantId',
  'sku',
  'name',
  'category',
  'unitPrice',
  'quantityOnHand',
  'quantityReserved',
  'reorderLevel',
  'reorderQuantity',
  'location',
  'version',
];

export async function rebuildProducts(
  database: Database<InventoryDB>,
  options: RebuildOptions = {},
): Promise<RebuildSummary> {
  const pageSize = options.pageSize ?? 500;
  const total = await countStreams(database.db, options.tenant);
  const summary: RebuildSummary = { checked: 0, differences: 0, fixed: 0 };
  let after: { tenantId: string; id: string } | undefined;
  for (;;) {
    const page = await listStreams(database.db, options.tenant, after, pageSize);
    for (const stream of page) {
      const difference = await rebuildStream(database, stream.tenantId, stream.id, options);
      summary.checked++;
      if (difference === undefined) continue;
      summary.differences++;
      if (options.verifyOnly !== true) summary.fixed++;
      options.onDifference?.(difference);
    }
    options.onProgress?.(summary.checked, total);
    if (page.length < pageSize) return summary;
    after = page[page.length - 1];
  }
}

/**
 * Product ids of the event streams and of the rows (a row without events is checked too). The
 * order streams (reservations.ts) are not products: they are folded into each product's
 * reserved units instead.
 */
function streamIds(tenant: string | undefined) {
  const only = tenant === undefined ? sql`` : sql`AND tenant_id = ${tenant}`;
  return sql`SELECT tenant_id, stream_id AS id FROM events
               WHERE stream_id NOT LIKE ${`${ORDER_STREAM_PREFIX}%`} ${only}
             UNION SELECT tenant_id, id FROM products WHERE true ${only}`;
}

async function countStreams(db: Kysely<InventoryDB>, tenant: string | undefined): Promise<number> {
  const result = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (${streamIds(tenant)}) s`.execute(db);
  return result.rows[0]?.n ?? 0;
}

async function listStreams(
  db: Kysely<InventoryDB>,
  tenant: string | undefined,
  after: { tenantId: string; id: string } | undefined,
  limit: number,
): Promise<{ tenantId: string; id: string }[]> {
  // Keyset pages: memory stays bounded, and products created meanwhile are simply met later.
  const result = await sql<{ tenant_id: string; id: string }>`
    SELECT tenant_id, id FROM (${streamIds(tenant)}) s
    ${after === undefined ? sql`` : sql`WHERE (tenant_id, id) > (${after.tenantId}, ${after.id})`}
    ORDER BY tenant_id, id LIMIT ${limit}`.execute(db);
  return result.rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
}

/** One stream, in one transaction as its tenant, with the product row locked throughout. */
function rebuildStream(
  database: Database<InventoryDB>,
  tenantId: string,
  productId: string,
  options: RebuildOptions,
): Promise<ProductDifference | undefined> {
  return database.inTenant(tenantId, async (trx) => {
    const locked = await sql<Record<string, unknown>>`
      SELECT * FROM products WHERE tenant_id = ${tenantId} AND id = ${productId} FOR UPDATE
    `.execute(trx);
    const row = locked.rows[0] === undefined ? null : toProductState(locked.rows[0] as never);
    const events = await readStream(
      trx,
      tenantId,
      productId,
      options.upcasters ?? CONTRACT_UPCASTERS,
    );
    const fromProduct = events.reduce<ProductState | null>(evolve, null);
    // Rows of the order streams' reservations are locked too: a reservation locks the product
    // row first (reservations.ts), so while we hold it none commits.
    const folded =
      fromProduct === null
        ? null
        : { ...fromProduct, quantityReserved: await reservedFromStreams(trx, tenantId, productId) };
    const difference = compare(tenantId, productId, row, folded);
    if (difference === undefined || options.verifyOnly === true) return difference;
    if (folded === null) {
      await trx
        .deleteFrom('products')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', productId)
        .execute();
    } else if (row === null) {
      const createdAt = new Date(events[0]!.metadata.timestamp);
      await trx
        .insertInto('products')
        .values({ ...toRow(folded), id: productId, created_at: createdAt, updated_at: new Date() })
        .execute();
    } else {
      await trx
        .updateTable('products')
        .set({ ...toRow(folded), updated_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', productId)
        .execute();
    }
    return difference;
  });
}

function compare(
  tenantId: string,
  productId: string,
  row: ProductState | null,
  folded: ProductState | null,
): ProductDifference | undefined {
  if (row === null && folded === null) return undefined;
  if (row === null) return { tenantId, productId, kind: 'missing row', fields: {} };
  if (folded === null) return { tenantId, productId, kind: 'orphan row', fields: {} };
  const fields: Record<string, [unknown, unknown]> = {};
  for (const field of COMPARED) {
    if (row[field] !== folded[field]) fields[field] = [row[field], folded[field]];
  }
  return Object.keys(fields).length === 0
    ? undefined
    : { tenantId, productId, kind: 'fields', fields };
}

function toRow(p: ProductState) {
  return {
    tenant_id: p.tenantId,
    sku: p.sku,
    name: p.name,
    category: p.category,
    unit_price: p.unitPrice,
    quantity_on_hand: p.quantityOnHand,
    quantity_reserved: p.quantityReserved,
    reorder_level: p.reorderLevel,
    reorder_quantity: p.reorderQuantity,
    location: p.location,
    version: p.version,
  };
}
