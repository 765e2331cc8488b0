/** Queries of the products read model (it is written with the events, in event-store.ts). */
import type { Kysely, Selectable } from 'kysely';
import type { InventoryDB, ProductsTable } from './db.ts';
import type { ProductState } from './product.ts';

export interface ProductView extends ProductState {
  createdAt: Date;
  updatedAt: Date;
}

export async function getProduct(
  db: Kysely<InventoryDB>,
  tenantId: string,
  productId: string,
): Promise<ProductView | null> {
  const row = await db
    .selectFrom('products')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', productId)
    .executeTakeFirst();
  return row === undefined ? null : toView(row);
}

export async function listProducts(
  db: Kysely<InventoryDB>,
  tenantId: string,
  options: { limit: number; offset: number },
): Promise<ProductView[]> {
  const rows = await db
    .selectFrom('products')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(options.limit)
    .offset(options.offset)
    .execute();
  return rows.map(toView);
}

type ProductRow = Selectable<ProductsTable>;

/** A products row (as Kysely or a raw query returns it) as domain state. */
export function toProductState(row: ProductRow): ProductState {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    sku: row.sku,
    name: row.name,
    category: row.category,
    unitPrice: Number(row.unit_price),
    quantityOnHand: row.quantity_on_hand,
    // Absent from rows read before migration 002 ran (none in practice): nothing reserved.
    quantityReserved: row.quantity_reserved ?? 0,
    reorderLevel: row.reorder_level,
    reorderQuantity: row.reorder_quantity,
    location: row.location,
    version: row.version,
  };
}

function toView(row: ProductRow): ProductView {
  return {
    ...toProductState(row),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
