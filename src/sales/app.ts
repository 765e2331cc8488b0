/**
 * The Sales service as a function of its resources: the inbox consumer and its handlers, the
 * outbox relay for sales-events, the notification dispatcher and the HTTP routes. main.ts wires
 * real resources; tests pass their own. Resources passed in are never closed here.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { createPrometheusConsumerMetrics } from '../messaging/consumer-metrics.ts';
import { createInboxConsumer } from '../messaging/inbox-consumer.ts';
import type { EventConsumer, EventProducer } from '../messaging/kafka/index.ts';
import { createOutboxRelay, createPrometheusRelayMetrics } from '../messaging/outbox-relay.ts';
import type { OutboxRelay } from '../messaging/outbox-relay.ts';
import { createOutboxSignal } from '../messaging/outbox-signal.ts';
import { EventRouter } from '../messaging/router.ts';
import type { Config } from '../platform/config.ts';
import type { Database } from '../platform/database.ts';
import { createHttpServer } from '../platform/http.ts';
import type { Logger } from '../platform/logger.ts';
import type { SalesDB } from './db.ts';
import {
  createLowStockBatchHandler,
  createLowStockHandler,
  SALES_OUTBOX_TABLE,
} from './handlers/low-stock.ts';
import type { LowStockHandlerOptions } from './handlers/low-stock.ts';
import { handleProductCreated } from './handlers/product-created.ts';
import { handleStockAdjusted, handleStockAdjustedBatch } from './handlers/stock-adjusted.ts';
import type { NotificationChannel } from './notifications/channel.ts';
import { createNotificationDispatcher } from './notifications/dispatcher.ts';
import type { NotificationDispatcher } from './notifications/dispatcher.ts';
import { createLogChannel } from './notifications/log-channel.ts';
import { createWebhookChannel } from './notifications/webhook-channel.ts';
import { registerSalesRoutes } from './routes.ts';

/** The NOTIFY channel that wakes a relay in another process when outbox rows commit. */
export const SALES_OUTBOX_CHANNEL = 'sales_outbox';

export interface SalesAppDeps {
  config: Pick<Config, 'kafka' | 'outboxPollIntervalMs' | 'sales'>;
  database: Database<SalesDB>;
  /** Publishes sales-events and dead letters. Owned by the caller. */
  producer: EventProducer;
  /** Subscribed to the inventory topic; the inbox consumer runs it and closes it on stop. */
  consumer: EventConsumer;
  logger: Logger;
  metrics: Registry;
  /**
   * Where HIGH and CRITICAL alerts are sent. Default: the log, plus a webhook when
   * SALES_WEBHOOK_URL is set.
   */
  channels?: NotificationChannel[];
  /** Called once if consuming ends on its own (the process should exit). Default: a log line only. */
  onFatal?: (err: unknown) => void;
}

export interface SalesApp {
  http: FastifyInstance;
  relay: OutboxRelay;
  dispatcher: NotificationDispatcher;
  /** Starts the relay, the dispatcher and the consumer; ready (/readyz 200) once they are. */
  start(): Promise<void>;
  /**
   * Refuses new HTTP work (503), finishes and commits the batch in hand, publishes what committed,
   * stops delivering notifications. Database and producer stay open (main closes them).
   */
  stop(): Promise<void>;
}

export function buildSalesApp(deps: SalesAppDeps): SalesApp {
  const { config, database, logger } = deps;
  const channels = deps.channels ?? defaultChannels(config, logger);

  const dispatcher = createNotificationDispatcher({
    database,
    channels,
    logger: logger.child({ component: 'notifications' }),
  });
  const relay = createOutboxRelay({
    database,
    table: SALES_OUTBOX_TABLE,
    channel: SALES_OUTBOX_CHANNEL,
    producer: deps.producer,
    logger: logger.child({ component: 'outbox-relay' }),
    pollIntervalMs: config.outboxPollIntervalMs,
    metrics: createPrometheusRelayMetrics(deps.metrics, { table: SALES_OUTBOX_TABLE }),
  });
  const outbox = createOutboxSignal({
    database,
    channel: SALES_OUTBOX_CHANNEL,
    relay,
    logger: logger.child({ component: 'outbox-signal' }),
  });
  const lowStockOptions: LowStockHandlerOptions = {
    salesTopic: config.kafka.salesTopic,
    notificationChannels: channels.map((c) => c.name),
    dispatcher,
    outbox,
  };
  const router = new EventRouter<SalesDB>()
    .on('inventory.product_created', handleProductCreated)
    .on('inventory.stock_adjusted', handleStockAdjusted)
    .on('inventory.low_stock', createLowStockHandler(lowStockOptions))
    // Preferred for runs of their events; the per-event handlers serve the one-by-one fallback.
    .onBatch('inventory.stock_adjusted', handleStockAdjustedBatch)
    .onBatch('inventory.low_stock', createLowStockBatchHandler(lowStockOptions));
  const inbox = createInboxConsumer({
    consumer: deps.consumer,
    router,
    database,
    deadLetters: { producer: deps.producer },
    groupId: config.kafka.consumerGroup,
    logger: logger.child({ component: 'inbox-consumer' }),
    metrics: createPrometheusConsumerMetrics(deps.metrics),
    ...(deps.onFatal === undefined ? {} : { onFatal: deps.onFatal }),
  });

  let ready = false;
  const server = createHttpServer({ logger, metrics: deps.metrics, isReady: () => ready });
  registerSalesRoutes(server.app, { database });

  return {
    http: server.app,
    relay,
    dispatcher,
    async start() {
      await relay.start();
      dispatcher.start();
      await inbox.start();
      ready = true;
    },
    async stop() {
      ready = false;
      server.drain();
      // Consumer first: its last batch may append events and notifications for the others.
      await inbox.stop();
      await relay.stop();
      await outbox.close();
      await dispatcher.stop();
    },
  };
}

function defaultChannels(config: Pick<Config, 'sales'>, logger: Logger): NotificationChannel[] {
  const channels = [createLogChannel(logger.child({ component: 'alerts' }))];
  if (config.sales.webhookUrl !== undefined) {
    channels.push(createWebhookChannel({ url: config.sales.webhookUrl }));
  }
  return channels;
}
