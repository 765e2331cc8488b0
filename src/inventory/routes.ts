/** The Inventory HTTP API: products and stock adjustments, per tenant (tenantOf). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { idempotent, parseInput, tenantOf } from '../platform/index.ts';
import type {
  Database,
  HttpStatusTable,
  RouteDocs,
  StoredResponse,
  StoreResponse,
} from '../platform/index.ts';
import type { CommandHandler, CommandMeta, CommandResult } from './commands.ts';
import type { InventoryDB } from './db.ts';
import { InventoryErrorCodes, productNotFound } from './errors.ts';
import type { InventoryErrorCode } from './errors.ts';
import type { ProductState } from './product.ts';
import { getProduct, listProducts } from './products-repository.ts';
import type { ProductView } from './products-repository.ts';
import {
  createProductBody,
  listQuery,
  productListResponse,
  productParams,
  productResponse,
  stockAdjustmentBody,
  stockAdjustmentResponse,
} from './schemas.ts';

const C = InventoryErrorCodes;
const replayed = { 'Idempotent-Replayed': 'true when the response is a replay (Idempotency-Key)' };

/** What the OpenAPI document says of each route (platform/http/openapi.ts), with its schemas. */
const DOCS = {
  createProduct: {
    summary: 'Create a product',
    description:
      'Publishes inventory.product_created (and inventory.low_stock when it starts at or under its reorder level). The sku is unique per tenant.',
    tag: 'products',
    body: createProductBody,
    example: {
      sku: 'MOU-042',
      name: 'Wireless Mouse',
      category: 'accessories',
      unit_price: 24.9,
      quantity_on_hand: 300,
      reorder_level: 40,
      reorder_quantity: 200,
      location: 'Warehouse B',
    },
    idempotent: true,
    responses: {
      201: {
        description: 'Created',
        schema: productResponse,
        headers: { Location: 'The new product', ...replayed },
      },
    },
    errors: [C.DUPLICATE_SKU, C.PRODUCT_EXISTS, C.VERSION_CONFLICT],
  },
  listProducts: {
    summary: "The tenant's products",
    tag: 'products',
    query: listQuery,
    responses: { 200: { description: 'A page of products', schema: productListResponse } },
  },
  getProduct: {
    summary: 'One product',
    tag: 'products',
    params: productParams,
    responses: { 200: { description: 'The product', schema: productResponse } },
    errors: [C.PRODUCT_NOT_FOUND],
  },
  adjustStock: {
    summary: 'Adjust the stock of a product',
    description:
      'Publishes inventory.stock_adjusted, and inventory.low_stock when stock ends at or under the reorder level.',
    tag: 'products',
    params: productParams,
    body: stockAdjustmentBody,
    example: { quantity_change: -12, reason: 'sale' },
    idempotent: true,
    responses: {
      201: {
        description: 'Adjusted',
        schema: stockAdjustmentResponse,
        headers: replayed,
      },
    },
    errors: [C.PRODUCT_NOT_FOUND, C.INSUFFICIENT_STOCK, C.STOCK_LIMIT, C.VERSION_CONFLICT],
  },
} satisfies Record<string, RouteDocs>;

/** What Inventory's error codes mean over HTTP. */
export const INVENTORY_HTTP_STATUSES: HttpStatusTable & Record<InventoryErrorCode, number> = {
  [InventoryErrorCodes.PRODUCT_NOT_FOUND]: 404,
  [InventoryErrorCodes.DUPLICATE_SKU]: 409,
  [InventoryErrorCodes.PRODUCT_EXISTS]: 409,
  [InventoryErrorCodes.INSUFFICIENT_STOCK]: 409,
  [InventoryErrorCodes.STOCK_LIMIT]: 409,
  [InventoryErrorCodes.VERSION_CONFLICT]: 409,
};

export interface InventoryRouteDeps {
  database: Database<InventoryDB>;
  commands: CommandHandler;
}

export function registerInventoryRoutes(app: FastifyInstance, deps: InventoryRouteDeps): void {
  // Every statement of a request runs as its tenant (Database.inTenant, row-level security).
  const { database } = deps;

  app.post('/api/v1/products', { config: { docs: DOCS.createProduct } }, async (request, reply) => {
    const tenantId = tenantOf(request);
    const body = parseInput(DOCS.createProduct.body, request.body);
    const respond = (result: CommandResult): StoredResponse => ({
      status: 201,
      body: productJson(result.product),
      headers: { location: `/api/v1/products/${result.product.id}` },
    });
    return idempotent(request, reply, database, tenantId, async (store) =>
      respond(
        await deps.commands.createProduct(
          {
            sku: body.sku,
            name: body.name,
            category: body.category,
            unitPrice: body.unit_price,
            quantityOnHand: body.quantity_on_hand,
            reorderLevel: body.reorder_level,
            reorderQuantity: body.reorder_quantity,
            location: body.location,
          },
          metaOf(request, tenantId, store, respond),
        ),
      ),
    );
  });

  app.get('/api/v1/products', { config: { docs: DOCS.listProducts } }, async (request) => {
    const tenantId = tenantOf(request);
    const query = parseInput(DOCS.listProducts.query, request.query, 'query');
    const products = await database.inTenant(tenantId, (db) => listProducts(db, tenantId, query), {
      transaction: false,
    });
    return { items: products.map(productJson), limit: query.limit, offset: query.offset };
  });

  app.get('/api/v1/products/:id', { config: { docs: DOCS.getProduct } }, async (request) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(DOCS.getProduct.params, request.params, 'path');
    const product = await database.inTenant(tenantId, (db) => getProduct(db, tenantId, id), {
      transaction: false,
    });
    if (product === null) throw productNotFound(id);
    return productJson(product);
  });

  const adjustRoute = { config: { docs: DOCS.adjustStock } };
  app.post('/api/v1/products/:id/stock-adjustments', adjustRoute, async (request, reply) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(DOCS.adjustStock.params, request.params, 'path');
    const body = parseInput(DOCS.adjustStock.body, request.body);
    const respond = (result: CommandResult): StoredResponse => ({
      status: 201,
      body: {
        product: productJson(result.product),
        events: result.events.map((e) => ({
          event_id: e.metadata.event_id,
          event_type: e.metadata.event_type,
          priority: e.metadata.priority,
        })),
      },
    });
    return idempotent(request, reply, database, tenantId, async (store) =>
      respond(
        await deps.commands.adjustStock(
          id,
          { quantityChange: body.quantity_change, reason: body.reason },
          metaOf(request, tenantId, store, respond),
        ),
      ),
    );
  });
}

/** The command's metadata; with an Idempotency-Key, the response is stored in its transaction. */
function metaOf(
  request: FastifyRequest,
  tenantId: string,
  store: StoreResponse | undefined,
  respond: (result: CommandResult) => StoredResponse,
): CommandMeta {
  const correlationId = correlationOf(request);
  return {
    tenantId,
    ...(correlationId === undefined ? {} : { correlationId }),
    ...(store === undefined ? {} : { inTransaction: (trx, result) => store(trx, respond(result)) }),
  };
}

function correlationOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['x-correlation-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value !== undefined && value !== '' && value.length <= 200 ? value : undefined;
}

function productJson(p: ProductState | ProductView) {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    category: p.category,
    unit_price: p.unitPrice,
    quantity_on_hand: p.quantityOnHand,
    quantity_reserved: p.quantityReserved,
    quantity_available: p.quantityOnHand - p.quantityReserved,
    reorder_level: p.reorderLevel,
    reorder_quantity: p.reorderQuantity,
    location: p.location,
    version: p.version,
    needs_reorder: p.quantityOnHand <= p.reorderLevel,
    ...('createdAt' in p
      ? { created_at: p.createdAt.toISOString(), updated_at: p.updatedAt.toISOString() }
      : {}),
  };
}
