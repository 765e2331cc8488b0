/**
 * The Sales HTTP API under /api/v1. Every request is scoped to its tenant (tenantOf): its
 * statements run as that tenant (Database.inTenant, row-level security), and another tenant's
 * ids answer 404, as if they did not exist.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { idempotent, parseInput, tenantOf } from '../platform/index.ts';
import type { Database, HttpStatusTable, RouteDocs } from '../platform/index.ts';
import { acknowledgeAlert, getAlert, getAlertHistory, listAlerts } from './alerts-repository.ts';
import type { SalesDB } from './db.ts';
import {
  alertNotFound,
  forecastNotFound,
  orderNotFound,
  SalesErrorCodes,
  unknownProducts,
} from './errors.ts';
import { unknownProductIds } from './products-repository.ts';
import { getForecast } from './forecasts-repository.ts';
import type { OrderSaga } from './order-saga.ts';
import { getOrder, getOrderHistory, listOrders } from './orders-repository.ts';
import {
  alertListResponse,
  alertResponse,
  alertWithHistoryResponse,
  createOrderBodySchema,
  forecastResponse,
  idParamsSchema,
  listAlertsQuerySchema,
  listOrdersQuerySchema,
  orderListResponse,
  orderResponse,
  orderWithHistoryResponse,
  productParamsSchema,
} from './schemas.ts';

const C = SalesErrorCodes;
const replayed = { 'Idempotent-Replayed': 'true when the response is a replay (Idempotency-Key)' };

/** What the OpenAPI document says of each route (platform/http/openapi.ts), with its schemas. */
const DOCS = {
  listAlerts: {
    summary: 'Low-stock alerts, newest first',
    tag: 'alerts',
    query: listAlertsQuerySchema,
    responses: { 200: { description: 'Alerts', schema: alertListResponse } },
  },
  getAlert: {
    summary: 'One alert, with its history',
    tag: 'alerts',
    params: idParamsSchema,
    responses: { 200: { description: 'The alert', schema: alertWithHistoryResponse } },
    errors: [C.ALERT_NOT_FOUND],
  },
  acknowledgeAlert: {
    summary: 'Acknowledge an open alert',
    tag: 'alerts',
    params: idParamsSchema,
    idempotent: true,
    responses: {
      200: { description: 'Acknowledged', schema: alertResponse, headers: replayed },
    },
    errors: [C.ALERT_NOT_FOUND, C.ALERT_NOT_OPEN],
  },
  createOrder: {
    summary: 'Place an order',
    description:
      'Stored as PENDING; publishes sales.order_placed, and Inventory reserves every line or none (CONFIRMED or REJECTED; GET it to follow). PENDING and CONFIRMED orders count as demand against current stock: they can raise the priority of the next low-stock alert. Only products Sales knows (from inventory.product_created) may be ordered.',
    tag: 'orders',
    body: createOrderBodySchema,
    example: {
      customer: 'Acme Retail',
      lines: [{ product_id: '2b1e8f3a-5c6d-4e7f-8a9b-0c1d2e3f4a5b', quantity: 3 }],
    },
    idempotent: true,
    responses: { 201: { description: 'Placed', schema: orderResponse, headers: replayed } },
    errors: [C.UNKNOWN_PRODUCT],
  },
  listOrders: {
    summary: 'Orders, newest first, with their lines',
    tag: 'orders',
    query: listOrdersQuerySchema,
    responses: { 200: { description: 'Orders', schema: orderListResponse } },
  },
  getOrder: {
    summary: 'One order, with the history of its saga',
    tag: 'orders',
    params: idParamsSchema,
    responses: { 200: { description: 'The order', schema: orderWithHistoryResponse } },
    errors: [C.ORDER_NOT_FOUND],
  },
  cancelOrder: {
    summary: 'Cancel a PENDING or CONFIRMED order',
    description:
      'CANCELLED at once; publishes sales.order_cancelled, and Inventory releases the reservation (inventory.stock_released, in the history).',
    tag: 'orders',
    params: idParamsSchema,
    idempotent: true,
    responses: { 200: { description: 'Cancelled', schema: orderResponse, headers: replayed } },
    errors: [C.ORDER_NOT_FOUND, C.ORDER_INVALID_TRANSITION],
  },
  fulfilOrder: {
    summary: 'Fulfil a CONFIRMED order',
    description:
      'FULFILLED at once; publishes sales.order_fulfilled, and Inventory turns the reservation into an outflow (inventory.stock_adjusted per product, inventory.low_stock when it crosses the reorder level).',
    tag: 'orders',
    params: idParamsSchema,
    idempotent: true,
    responses: { 200: { description: 'Fulfilled', schema: orderResponse, headers: replayed } },
    errors: [C.ORDER_NOT_FOUND, C.ORDER_INVALID_TRANSITION],
  },
  getForecast: {
    summary: "A product's demand forecast",
    description: 'Expected daily demand (last 30 days of outflow) and projected stockout date.',
    tag: 'forecasts',
    params: productParamsSchema,
    responses: { 200: { description: 'The forecast', schema: forecastResponse } },
    errors: [C.FORECAST_NOT_FOUND],
  },
} satisfies Record<string, RouteDocs>;

/** What Sales' error codes mean over HTTP. */
export const SALES_HTTP_STATUSES: HttpStatusTable = {
  [SalesErrorCodes.ALERT_NOT_FOUND]: 404,
  [SalesErrorCodes.ALERT_NOT_OPEN]: 409,
  [SalesErrorCodes.FORECAST_NOT_FOUND]: 404,
  [SalesErrorCodes.UNKNOWN_PRODUCT]: 422,
  [SalesErrorCodes.ORDER_NOT_FOUND]: 404,
  [SalesErrorCodes.ORDER_INVALID_TRANSITION]: 409,
  [SalesErrorCodes.REPLAY_BUSY]: 409,
  [SalesErrorCodes.REPLAY_TOO_LARGE]: 422,
  [SalesErrorCodes.REPLAY_NOT_FOUND]: 404,
  [SalesErrorCodes.REPLAY_OTHER_TENANT]: 403,
  // ERP_SALES_REPLAY_FAILED is a dry run's state (GET), not a response.
  // ERP_SALES_NOTIFICATION_FAILED is the dispatcher's: no route raises it.
};

export interface SalesRoutesOptions {
  database: Database<SalesDB>;
  /** Places, cancels and fulfils orders (order-saga.ts). */
  saga: OrderSaga;
  /** Clock for order and acknowledgement times. Default: () => new Date(). */
  now?: () => Date;
}

export function registerSalesRoutes(app: FastifyInstance, options: SalesRoutesOptions): void {
  const { database } = options;
  const now = options.now ?? (() => new Date());
  // Reads need no transaction: one statement, or two that tolerate a commit in between.
  const read = <T>(tenantId: string, fn: (db: Kysely<SalesDB>) => Promise<T>): Promise<T> =>
    database.inTenant(tenantId, fn, { transaction: false });

  app.get('/api/v1/alerts', { config: { docs: DOCS.listAlerts } }, async (request) => {
    const tenantId = tenantOf(request);
    const query = parseInput(DOCS.listAlerts.query, request.query, 'query');
    const alerts = await read(tenantId, (db) =>
      listAlerts(db, tenantId, {
        limit: query.limit,
        ...(query.status === undefined ? {} : { status: query.status }),
      }),
    );
    return { items: alerts };
  });

  app.get('/api/v1/alerts/:id', { config: { docs: DOCS.getAlert } }, async (request) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(DOCS.getAlert.params, request.params, 'params');
    return read(tenantId, async (db) => {
      const alert = await getAlert(db, tenantId, id);
      if (alert === undefined) throw alertNotFound(id);
      return { ...alert, history: await getAlertHistory(db, tenantId, id) };
    });
  });

  const acknowledgeRoute = { config: { docs: DOCS.acknowledgeAlert } };
  app.post('/api/v1/alerts/:id/acknowledge', acknowledgeRoute, async (request, reply) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(DOCS.acknowledgeAlert.params, request.params, 'params');
    return idempotent(request, reply, database, tenantId, (store) =>
      database.inTenant(tenantId, async (trx) => {
        const response = { status: 200, body: await acknowledgeAlert(trx, tenantId, id, now()) };
        await store?.(trx, response);
        return response;
      }),
    );
  });

  app.post('/api/v1/orders', { config: { docs: DOCS.createOrder } }, async (request, reply) => {
    const tenantId = tenantOf(request);
    const body = parseInput(DOCS.createOrder.body, request.body);
    return idempotent(request, reply, database, tenantId, (store) =>
      database
        .inTenant(tenantId, async (trx) => {
          // Sales knows a tenant's products from inventory.product_created: an order for anything
          // else would be promised stock that exists nowhere.
          const unknown = await unknownProductIds(
            trx,
            tenantId,
            body.lines.map((l) => l.product_id),
          );
          if (unknown.length > 0) throw unknownProducts(unknown);
          const response = { status: 201, body: await options.saga.place(tenantId, body, trx) };
          await store?.(trx, response);
          return response;
        })
        .finally(() => options.saga.signal()),
    );
  });

  app.get('/api/v1/orders/:id', { config: { docs: DOCS.getOrder } }, async (request) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(DOCS.getOrder.params, request.params, 'params');
    return read(tenantId, async (db) => {
      const order = await getOrder(db, tenantId, id);
      if (order === undefined) throw orderNotFound(id);
      return { ...order, history: await getOrderHistory(db, tenantId, id) };
    });
  });

  for (const action of ['cancel', 'fulfil'] as const) {
    const docs = action === 'cancel' ? DOCS.cancelOrder : DOCS.fulfilOrder;
    app.post(`/api/v1/orders/:id/${action}`, { config: { docs } }, async (request, reply) => {
      const tenantId = tenantOf(request);
      const { id } = parseInput(docs.params, request.params, 'params');
      return idempotent(request, reply, database, tenantId, async (store) => {
        let response: { status: number; body: unknown } | undefined;
        await options.saga[action](tenantId, id, async (trx, order) => {
          response = { status: 200, body: order };
          await store?.(trx, response);
        });
        if (response === undefined) throw new Error('unreachable: the saga step stored nothing');
        return response;
      });
    });
  }

  app.get('/api/v1/orders', { config: { docs: DOCS.listOrders } }, async (request) => {
    const tenantId = tenantOf(request);
    const query = parseInput(DOCS.listOrders.query, request.query, 'query');
    return { items: await read(tenantId, (db) => listOrders(db, tenantId, query.limit)) };
  });

  const forecastRoute = { config: { docs: DOCS.getForecast } };
  app.get('/api/v1/forecasts/:productId', forecastRoute, async (request) => {
    const tenantId = tenantOf(request);
    const { productId } = parseInput(DOCS.getForecast.params, request.params, 'params');
    const forecast = await read(tenantId, (db) => getForecast(db, tenantId, productId));
    if (forecast === undefined) throw forecastNotFound(productId);
    return forecast;
  });
}
