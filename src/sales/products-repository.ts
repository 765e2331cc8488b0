/**
 * Sales' read model of Inventory's products, fed by inventory.product_created and
 * inventory.stock_adjusted. Every row is written and read under its tenant's key; only a batch of
 * adjustments writes several tenants' rows in one statement.
 */
import { sql } from 'kysely';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ProductCreatedPayload, StockAdjustedPayload } from '../contract/index.ts';
import type { ProductsTable, SalesDB } from './db.ts';
import { recordOutflowsQuery } from './forecasts-repository.ts';
import type { Outflow } from './forecasts-repository.ts';

export type Product = Omit<Selectable<ProductsTable>, 'tenant_id'>;

/** One inventory.product_created as the read model applies it. */
export interface CreatedProduct {
  tenantId: string;
  payload: ProductCreatedPayload;
  /** The event's time: the quantity is only taken when the event is not older than the row. */
  at: Date;
}

/**
 * Inserts the products, or completes rows that a stock adjustment created before (catalog fields
 * were null then). The quantity is only taken when the event is not older than the row, so a
 * late replay cannot roll stock back. A run has the result of applying its events in order.
 */
export async function upsertCreatedProducts(
  trx: Kysely<SalesDB>,
  created: readonly CreatedProduct[],
): Promise<void> {
  if (created.length === 0) return;
  const rows = new Map<string, Insertable<ProductsTable>>();
  for (const { tenantId, payload, at } of created) {
    const key = `${tenantId}\u0000${payload.product_id}`;
    const kept = rows.get(key);
    // Applied in order, the catalog fields come from the last event and the quantity from the
    // latest one (of equal times, the last): keep the earlier quantity if it is newer.
    const newer = kept !== undefined && new Date(kept.updated_at).getTime() > at.getTime();
    rows.set(key, {
      tenant_id: tenantId,
      product_id: payload.product_id,
      sku: payload.product_sku,
      name: payload.product_name,
      category: payload.category,
      unit_price: payload.unit_price,
      quantity_on_hand: payload.quantity_on_hand,
      reorder_level: payload.reorder_level,
      reorder_quantity: payload.reorder_quantity,
      location: payload.location,
      updated_at: at,
      ...(newer ? { quantity_on_hand: kept.quantity_on_hand, updated_at: kept.updated_at } : {}),
    });
  }
  await trx
    .insertInto('products')
    .values([...rows.values()])
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'product_id']).doUpdateSet((eb) => ({
        sku: eb.ref('excluded.sku'),
        name: eb.ref('excluded.name'),
        category: eb.ref('excluded.category'),
        unit_price: eb.ref('excluded.unit_price'),
        reorder_level: eb.ref('excluded.reorder_level'),
        reorder_quantity: eb.ref('excluded.reorder_quantity'),
        location: eb.ref('excluded.location'),
        quantity_on_hand: sql<number>`CASE WHEN products.updated_at <= excluded.updated_at
          THEN excluded.quantity_on_hand ELSE products.quantity_on_hand END`,
        updated_at: sql<Date>`GREATEST(products.updated_at, excluded.updated_at)`,
      })),
    )
    .execute();
}

/** One inventory.stock_adjusted as the read model applies it. */
export interface StockAdjustment {
  tenantId: string;
  payload: StockAdjustedPayload;
  /** The event's time: the row keeps the latest adjustment's quantity. */
  at: Date;
  /** Units recorded in the demand history; 0: none. */
  outflow: number;
}

// PostgreSQL counts a statement's parameters in 16 bits. A statement may write both tables, so
// each gets half: a run of up to 6,553 products and 8,191 outflows is a single statement.
const MAX_PARAMETERS = 65_535;
const PARAMETERS_PER_PRODUCT = 5;
const PARAMETERS_PER_OUTFLOW = 4;
const PRODUCTS_PER_STATEMENT = Math.floor(MAX_PARAMETERS / 2 / PARAMETERS_PER_PRODUCT);
const OUTFLOWS_PER_STATEMENT = Math.floor(MAX_PARAMETERS / 2 / PARAMETERS_PER_OUTFLOW);

/**
 * Sets quantities from a run of adjustments, with the result of applying them one by one in
 * order. A product Sales has not seen is stored with what the payload carries (id, sku,
 * quantity) and null catalog fields; an adjustment older than the row changes nothing; an outflow
 * (> 0) is recorded in the demand history even when the row was newer. In detail: each product row is written once, from the adjustment the sequence would leave in it
 * (ON CONFLICT cannot update a row twice in one statement), and every outflow is recorded, in
 * run order. One statement for a run of usual size; more only past the parameter limit.
 */
export async function applyStockAdjustments(
  trx: Kysely<SalesDB>,
  adjustments: readonly StockAdjustment[],
): Promise<void> {
  const products = lastWriters(adjustments).map(productRowOf);
  const outflows = adjustments.filter((a) => a.outflow > 0).map(outflowRowOf);
  const statements = Math.max(
    Math.ceil(products.length / PRODUCTS_PER_STATEMENT),
    Math.ceil(outflows.length / OUTFLOWS_PER_STATEMENT),
  );
  for (let i = 0; i < statements; i++) {
    await writeStock(
      trx,
      products.slice(i * PRODUCTS_PER_STATEMENT, (i + 1) * PRODUCTS_PER_STATEMENT),
      outflows.slice(i * OUTFLOWS_PER_STATEMENT, (i + 1) * OUTFLOWS_PER_STATEMENT),
    );
  }
}

/**
 * Per product of a tenant, the adjustment whose quantity applying the run in order would leave:
 * the latest `at`, and of equal ones the later in the run, since the row guard (`<=`) lets an
 * equal time overwrite. The guard still compares it with the row, as for a single adjustment.
 */
function lastWriters(adjustments: readonly StockAdjustment[]): StockAdjustment[] {
  const byTenant = new Map<string, Map<string, StockAdjustment>>();
  for (const a of adjustments) {
    let products = byTenant.get(a.tenantId);
    if (products === undefined) {
      products = new Map();
      byTenant.set(a.tenantId, products);
    }
    const kept = products.get(a.payload.product_id);
    if (kept === undefined || kept.at.getTime() <= a.at.getTime()) {
      products.set(a.payload.product_id, a);
    }
  }
  return [...byTenant.values()].flatMap((products) => [...products.values()]);
}

function productRowOf(a: StockAdjustment): Insertable<ProductsTable> {
  return {
    tenant_id: a.tenantId,
    product_id: a.payload.product_id,
    sku: a.payload.product_sku,
    quantity_on_hand: a.payload.quantity_after,
    updated_at: a.at,
  };
}

function outflowRowOf(a: StockAdjustment): Outflow {
  return {
    tenant_id: a.tenantId,
    product_id: a.payload.product_id,
    quantity: a.outflow,
    occurred_at: a.at,
  };
}

/** Both writes in one statement when there are both (one round trip). */
async function writeStock(
  trx: Kysely<SalesDB>,
  products: Insertable<ProductsTable>[],
  outflows: Outflow[],
): Promise<void> {
  if (outflows.length === 0) {
    await upsertStockQuery(trx, products).execute();
    return;
  }
  const record = recordOutflowsQuery(trx, outflows);
  if (products.length === 0) {
    await record.execute();
    return;
  }
  await sql`WITH product AS (${upsertStockQuery(trx, products)}) ${record}`.execute(trx);
}

/** At most one row per product: ON CONFLICT DO UPDATE refuses to touch a row twice. */
function upsertStockQuery(trx: Kysely<SalesDB>, rows: Insertable<ProductsTable>[]) {
  return trx
    .insertInto('products')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'product_id'])
        .doUpdateSet((eb) => ({
          sku: eb.ref('excluded.sku'),
          quantity_on_hand: eb.ref('excluded.quantity_on_hand'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('products.updated_at', '<=', (eb) => eb.ref('excluded.updated_at')),
    );
}

export async function findProduct(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productId: string,
): Promise<Product | undefined> {
  return trx
    .selectFrom('products')
    .select([
      'product_id',
      'sku',
      'name',
      'category',
      'unit_price',
      'quantity_on_hand',
      'reorder_level',
      'reorder_quantity',
      'location',
      'updated_at',
    ])
    .where('tenant_id', '=', tenantId)
    .where('product_id', '=', productId)
    .executeTakeFirst();
}

/** Those of `productIds` the tenant's read model does not hold, in the order given, once each. */
export async function unknownProductIds(
  trx: Kysely<SalesDB>,
  tenantId: string,
  productIds: readonly string[],
): Promise<string[]> {
  const wanted = [...new Set(productIds)];
  if (wanted.length === 0) return [];
  const known = await trx
    .selectFrom('products')
    .select('product_id')
    .where('tenant_id', '=', tenantId)
    .where('product_id', 'in', wanted)
    .execute();
  const found = new Set(known.map((r) => r.product_id));
  return wanted.filter((id) => !found.has(id));
}
