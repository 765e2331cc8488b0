/** The products read model and the stock movements behind consumption rates. Writes take the caller's transaction. */
import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { InventoryDB, ProductsTable } from './db.ts';
import type { ProductState } from './product.ts';

/**
 * The current state of a product. With `forUpdate`, concurrent writers of the same product queue
 * on the row instead of all deciding on the same version and all but one failing the
 * expected-version check (which stays as the guarantee).
 */
export async function findProduct(
  db: Kysely<InventoryDB>,
  tenantId: string,
  productId: string,
  options: { forUpdate?: boolean } = {},
): Promise<ProductState | null> {
  let query = db
    .selectFrom('products')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', productId);
  if (options.forUpdate === true) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row === undefined ? null : toState(row);
}

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

export async function insertProduct(
  trx: Kysely<InventoryDB>,
  state: ProductState,
  at: Date,
): Promise<void> {
  await trx
    .insertInto('products')
    .values({ ...toRow(state), created_at: at, updated_at: at })
    .execute();
}

/** Returns false when the row is not at `expectedVersion` (a concurrent writer got there first). */
export async function updateProduct(
  trx: Kysely<InventoryDB>,
  state: ProductState,
  expectedVersion: number,
  at: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('products')
    .set({ quantity_on_hand: state.quantityOnHand, version: state.version, updated_at: at })
    .where('tenant_id', '=', state.tenantId)
    .where('id', '=', state.id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordMovement(
  trx: Kysely<InventoryDB>,
  movement: {
    tenantId: string;
    productId: string;
    quantityChange: number;
    quantityAfter: number;
    reason: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('stock_movements')
    .values({
      tenant_id: movement.tenantId,
      product_id: movement.productId,
      quantity_change: movement.quantityChange,
      quantity_after: movement.quantityAfter,
      reason: movement.reason,
      occurred_at: movement.at,
    })
    .execute();
}

/** Units that left stock since `since`, and when the first movement in that window happened. */
export async function outflowSince(
  db: Kysely<InventoryDB>,
  tenantId: string,
  productId: string,
  since: Date,
): Promise<{ outflow: number; firstAt: Date | undefined }> {
  const row = await db
    .selectFrom('stock_movements')
    .select([
      sql<number>`coalesce(sum(-quantity_change) filter (where quantity_change < 0), 0)::int`.as(
        'outflow',
      ),
      sql<Date | null>`min(occurred_at)`.as('first_at'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('product_id', '=', productId)
    .where('occurred_at', '>=', since)
    .executeTakeFirstOrThrow();
  return {
    outflow: row.outflow,
    firstAt: row.first_at === null ? undefined : new Date(row.first_at),
  };
}

type ProductRow = Selectable<ProductsTable>;

function toState(row: ProductRow): ProductState {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    sku: row.sku,
    name: row.name,
    category: row.category,
    unitPrice: Number(row.unit_price),
    quantityOnHand: row.quantity_on_hand,
    reorderLevel: row.reorder_level,
    reorderQuantity: row.reorder_quantity,
    location: row.location,
    version: row.version,
  };
}

function toView(row: ProductRow): ProductView {
  return {
    ...toState(row),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toRow(state: ProductState) {
  return {
    id: state.id,
    tenant_id: state.tenantId,
    sku: state.sku,
    name: state.name,
    category: state.category,
    unit_price: state.unitPrice,
    quantity_on_hand: state.quantityOnHand,
    reorder_level: state.reorderLevel,
    reorder_quantity: state.reorderQuantity,
    location: state.location,
    version: state.version,
  };
}
