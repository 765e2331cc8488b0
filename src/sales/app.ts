/**
 * The Sales service as the service kit sees it: it consumes inventory events (low stock, stock
 * adjusted, product created) into its inbox, raises alerts, forecasts and notifications, and
 * publishes sales events from its outbox. The kit does the rest (see src/messaging/service).
 */
import { fileURLToPath } from 'node:url';
import { defineService, EventRouter, kafkaConnectionFrom } from '../messaging/index.ts';
import type { Logger } from '../platform/index.ts';
import type { SalesDB } from './db.ts';
import { createLowStockHandler, SALES_OUTBOX_TABLE } from './handlers/low-stock.ts';
import {
  handleStockReleased,
  handleStockReservationRejected,
  handleStockReserved,
} from './handlers/order-replies.ts';
import { handleProductCreated } from './handlers/product-created.ts';
import { createOrderSaga, createOrderTimeoutWorker } from './order-saga.ts';
import type { OrderSaga } from './order-saga.ts';
import { handleStockAdjusted } from './handlers/stock-adjusted.ts';
import type { NotificationChannel } from './notifications/channel.ts';
import { createNotificationDispatcher } from './notifications/dispatcher.ts';
import type { NotificationDispatcher } from './notifications/dispatcher.ts';
import { createSalesMetrics } from './metrics.ts';
import { createLogChannel } from './notifications/log-channel.ts';
import { createWebhookChannel } from './notifications/webhook-channel.ts';
import { createReplayRunner } from './replay-runner.ts';
import type { ReplayRunner } from './replay-runner.ts';
import { registerReplayRoutes } from './replay-routes.ts';
import { registerSalesRoutes, SALES_HTTP_STATUSES } from './routes.ts';
import { salesSettings } from './settings.ts';
import type { SalesSettings } from './settings.ts';

/** The NOTIFY channel that wakes a relay in another process when outbox rows commit. */
export const SALES_OUTBOX_CHANNEL = 'sales_outbox';

export interface SalesOptions {
  /**
   * Where HIGH and CRITICAL alerts are sent. Default: the log, plus a webhook when
   * SALES_WEBHOOK_URL is set.
   */
  channels?: NotificationChannel[];
}

/** What Sales exposes to its tests and tools. */
export interface SalesParts {
  dispatcher: NotificationDispatcher;
  /** The order saga: place, cancel, fulfil, and the timeout sweep. */
  saga: OrderSaga;
  /** Replay dry runs asked for over HTTP (POST /api/v1/ops/replays). */
  replays: ReplayRunner;
}

export function salesService(options: SalesOptions = {}) {
  return defineService<SalesDB, SalesSettings, SalesParts>({
    name: 'sales-service',
    id: 'sales',
    description:
      'Low-stock alerts, orders (with the order saga that reserves their stock in Inventory) and demand forecasts, per tenant, kept from the inventory events (see /docs/asyncapi.json).',
    settings: salesSettings,
    port: (s) => s.port,
    metricsPort: (s) => s.metricsPort,
    databaseUrl: (s) => s.databaseUrl,
    migrations: fileURLToPath(new URL('../../migrations/sales', import.meta.url)),
    tenantTables: [
      'products',
      'demand_history',
      'orders',
      'order_lines',
      'order_history',
      'alerts',
      'alert_history',
      'forecasts',
      'notifications',
    ],
    outbox: { table: SALES_OUTBOX_TABLE, channel: SALES_OUTBOX_CHANNEL },
    publishes: (config) => [config.kafka.salesTopic],
    consumes: (config) => ({
      groupId: config.kafka.consumerGroup,
      topics: [config.kafka.inventoryTopic],
    }),
    errorStatuses: SALES_HTTP_STATUSES,
    scopes: { read: 'sales:read', write: 'sales:write' },
    build({ config, settings, database, outbox, logger, metrics: registry }) {
      const channels = options.channels ?? defaultChannels(settings, logger);
      const metrics = createSalesMetrics({
        registry,
        database,
        logger: logger.child({ component: 'sales-metrics' }),
        tenants: settings.metricsTenants,
        cacheMs: settings.alertMetricsCacheMs,
      });
      const dispatcher = createNotificationDispatcher({
        database,
        channels,
        logger: logger.child({ component: 'notifications' }),
      });
      const handlers = new EventRouter<SalesDB>()
        .on('inventory.product_created', handleProductCreated)
        .on('inventory.stock_adjusted', handleStockAdjusted)
        .on(
          'inventory.low_stock',
          createLowStockHandler({
            salesTopic: config.kafka.salesTopic,
            notificationChannels: channels.map((c) => c.name),
            dispatcher,
            outbox,
            metrics,
          }),
        )
        .on('inventory.stock_reserved', handleStockReserved)
        .on('inventory.stock_reservation_rejected', handleStockReservationRejected)
        .on('inventory.stock_released', handleStockReleased);
      const saga = createOrderSaga({
        database,
        salesTopic: config.kafka.salesTopic,
        timeoutMs: settings.orderSagaTimeoutMs,
        outbox,
      });
      const sagaLog = logger.child({ component: 'order-timeouts' });
      const timeouts = createOrderTimeoutWorker({
        saga,
        // A tenth of the timeout: an order is rejected at most 10 % late; at most every 5 s.
        intervalMs: Math.min(5_000, Math.max(10, Math.floor(settings.orderSagaTimeoutMs / 10))),
        onError: (err) => sagaLog.error({ err }, 'order timeout sweep failed; trying again'),
      });
      // Dry runs of the CLI's replay, asked for over HTTP (the console): in this process, over
      // this database, since a PGlite folder opens in one process only.
      const replays = createReplayRunner({
        conn: kafkaConnectionFrom(config.kafka, 'sales-replay'),
        config,
        settings,
        live: database,
        service: salesService,
        logger: logger.child({ component: 'replays' }),
      });
      return {
        routes: (app) => {
          registerSalesRoutes(app, { database, saga });
          registerReplayRoutes(app, replays);
        },
        handlers,
        workers: [
          { name: 'notifications', start: () => dispatcher.start(), stop: () => dispatcher.stop() },
          timeouts,
          replays.worker,
        ],
        exposed: { dispatcher, saga, replays },
      };
    },
  });
}

function defaultChannels(settings: SalesSettings, logger: Logger): NotificationChannel[] {
  const channels = [createLogChannel(logger.child({ component: 'alerts' }))];
  if (settings.webhookUrl !== undefined) {
    channels.push(createWebhookChannel({ url: settings.webhookUrl }));
  }
  return channels;
}
