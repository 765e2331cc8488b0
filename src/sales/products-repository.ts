/**
 * Sales' read model of Inventory's products, fed by inventory.product_created and
 * inventory.stock_adjusted. Every statement is scoped to one tenant.
 */
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { ProductCreatedPayload, StockAdjustedPayload } from '../contract/index.ts';
import type { ProductsTable, SalesDB } from './db.ts';
import { recordOutflowQuery } from './forecasts-repository.ts';

export type Product = Omit<Selectable<ProductsTable>, 'tenant_id'>;

/**
 * Inserts the product, or completes a row that a stock adjustment created before (catalog fields
 * were null then). The quantity is only taken when the event is not older than the row, so a
 * late replay cannot roll stock back.
 */
export async function upsertCreatedProduct(
  trx: Kysely<SalesDB>,
  tenantId: string,
  payload: ProductCreatedPayload,
  at: Date,
): Promise<void> {
  await trx
    .insertInto('products')
    .values({
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
    })
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

/**
 * Sets the quantity from an adjustment. A product Sales has not seen is stored with what the
 * payload carries (id, sku, quantity) and null catalog fields; an adjustment older than the row
 * changes nothing. `outflow` > 0 (default 0: none) also records that many units in the demand
 * history, in the same statement (one round trip); the history takes it even when the row was
 * newer.
 */
export async function applyStockAdjustment(
  trx: Kysely<SalesDB>,
  tenantId: string,
  payload: StockAdjustedPayload,
  at: Date,
  outflow = 0,
): Promise<void> {
  const upsert = trx
    .insertInto('products')
    .values({
      tenant_id: tenantId,
      product_id: payload.product_id,
      sku: payload.product_sku,
      quantity_on_hand: payload.quantity_after,
      updated_at: at,
    })
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
  if (outflow <= 0) {
    await upsert.execute();
    return;
  }
  const record = recordOutflowQuery(trx, tenantId, payload.product_id, outflow, at);
  await sql`WITH product AS (${upsert}) ${record}`.execute(trx);
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
