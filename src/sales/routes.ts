/**
 * The Sales HTTP API under /api/v1. Every request is scoped to its tenant (tenantOf): its
 * statements run as that tenant (Database.inTenant, row-level security), and another tenant's
 * ids answer 404, as if they did not exist.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { idempotent, parseInput, tenantOf } from '../platform/index.ts';
import type { Database, HttpStatusTable } from '../platform/index.ts';
import { acknowledgeAlert, getAlert, getAlertHistory, listAlerts } from './alerts-repository.ts';
import type { SalesDB } from './db.ts';
import { alertNotFound, forecastNotFound, SalesErrorCodes, unknownProducts } from './errors.ts';
import { unknownProductIds } from './products-repository.ts';
import { getForecast } from './forecasts-repository.ts';
import { createOrder, listOrders } from './orders-repository.ts';
import {
  createOrderBodySchema,
  idParamsSchema,
  listAlertsQuerySchema,
  listOrdersQuerySchema,
  productParamsSchema,
} from './schemas.ts';

/** What Sales' error codes mean over HTTP. */
export const SALES_HTTP_STATUSES: HttpStatusTable = {
  [SalesErrorCodes.ALERT_NOT_FOUND]: 404,
  [SalesErrorCodes.ALERT_NOT_OPEN]: 409,
  [SalesErrorCodes.FORECAST_NOT_FOUND]: 404,
  [SalesErrorCodes.UNKNOWN_PRODUCT]: 422,
  // ERP_SALES_NOTIFICATION_FAILED is the dispatcher's: no route raises it.
};

export interface SalesRoutesOptions {
  database: Database<SalesDB>;
  /** Clock for order and acknowledgement times. Default: () => new Date(). */
  now?: () => Date;
}

export function registerSalesRoutes(app: FastifyInstance, options: SalesRoutesOptions): void {
  const { database } = options;
  const now = options.now ?? (() => new Date());
  // Reads need no transaction: one statement, or two that tolerate a commit in between.
  const read = <T>(tenantId: string, fn: (db: Kysely<SalesDB>) => Promise<T>): Promise<T> =>
    database.inTenant(tenantId, fn, { transaction: false });

  app.get('/api/v1/alerts', async (request) => {
    const tenantId = tenantOf(request);
    const query = parseInput(listAlertsQuerySchema, request.query, 'query');
    const alerts = await read(tenantId, (db) =>
      listAlerts(db, tenantId, {
        limit: query.limit,
        ...(query.status === undefined ? {} : { status: query.status }),
      }),
    );
    return { items: alerts };
  });

  app.get('/api/v1/alerts/:id', async (request) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(idParamsSchema, request.params, 'params');
    return read(tenantId, async (db) => {
      const alert = await getAlert(db, tenantId, id);
      if (alert === undefined) throw alertNotFound(id);
      return { ...alert, history: await getAlertHistory(db, tenantId, id) };
    });
  });

  app.post('/api/v1/alerts/:id/acknowledge', async (request, reply) => {
    const tenantId = tenantOf(request);
    const { id } = parseInput(idParamsSchema, request.params, 'params');
    return idempotent(request, reply, database, tenantId, (store) =>
      database.inTenant(tenantId, async (trx) => {
        const response = { status: 200, body: await acknowledgeAlert(trx, tenantId, id, now()) };
        await store?.(trx, response);
        return response;
      }),
    );
  });

  app.post('/api/v1/orders', async (request, reply) => {
    const tenantId = tenantOf(request);
    const body = parseInput(createOrderBodySchema, request.body);
    return idempotent(request, reply, database, tenantId, (store) =>
      database.inTenant(tenantId, async (trx) => {
        // Sales knows a tenant's products from inventory.product_created: an order for anything
        // else would be promised stock that exists nowhere.
        const unknown = await unknownProductIds(
          trx,
          tenantId,
          body.lines.map((l) => l.product_id),
        );
        if (unknown.length > 0) throw unknownProducts(unknown);
        const response = { status: 201, body: await createOrder(trx, tenantId, body, now()) };
        await store?.(trx, response);
        return response;
      }),
    );
  });

  app.get('/api/v1/orders', async (request) => {
    const tenantId = tenantOf(request);
    const query = parseInput(listOrdersQuerySchema, request.query, 'query');
    return { items: await read(tenantId, (db) => listOrders(db, tenantId, query.limit)) };
  });

  app.get('/api/v1/forecasts/:productId', async (request) => {
    const tenantId = tenantOf(request);
    const { productId } = parseInput(productParamsSchema, request.params, 'params');
    const forecast = await read(tenantId, (db) => getForecast(db, tenantId, productId));
    if (forecast === undefined) throw forecastNotFound(productId);
    return forecast;
  });
}
