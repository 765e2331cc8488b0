/** The Sales app wired as src/sales/main.ts wires it, on a benchmark database and topics. */
import type { Registry } from 'prom-client';
import { buildService, createProducer, serviceConsumer } from '../src/messaging/index.ts';
import type { EventProducer, Service } from '../src/messaging/index.ts';
import { createMetricsRegistry, headerTenancy, loadServiceConfig } from '../src/platform/index.ts';
import type { Authenticator, Config, Database, Logger } from '../src/platform/index.ts';
import { salesService, salesSettings } from '../src/sales/index.ts';
import type { SalesDB, SalesParts, SalesSettings } from '../src/sales/index.ts';

export interface BenchConfigInput {
  bootstrapServers: string[];
  inventoryTopic: string;
  salesTopic: string;
  consumerGroup: string;
}

export interface BenchConfig {
  config: Config;
  settings: SalesSettings;
}

/** The production defaults (OUTBOX_POLL_INTERVAL_MS 1000 etc.), logs silent. */
export function benchConfig(input: BenchConfigInput): BenchConfig {
  return loadServiceConfig(salesSettings, {
    KAFKA_BOOTSTRAP_SERVERS: input.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: input.inventoryTopic,
    KAFKA_SALES_TOPIC: input.salesTopic,
    KAFKA_CONSUMER_GROUP: input.consumerGroup,
    LOG_LEVEL: 'silent',
  });
}

export interface BenchSales {
  app: Service<SalesParts>;
  metrics: Registry;
  producer: EventProducer;
  /** Stops the app and closes the producer (the database stays the caller's). */
  close(): Promise<void>;
}

/** The Sales service wired as its main wires it (consumer settings included), on bench resources. */
export function buildBenchSales(
  { config, settings }: BenchConfig,
  database: Database<SalesDB>,
  logger: Logger,
  authenticator: Authenticator = headerTenancy(),
): BenchSales {
  const conn = { clientId: 'bench-sales', bootstrapServers: config.kafka.bootstrapServers };
  const producer = createProducer(conn);
  const service = salesService();
  const consumer = serviceConsumer(service, settings, config, {
    databaseKind: database.kind,
    logger,
  });
  const metrics = createMetricsRegistry('sales-service', false);
  const app = buildService(service, {
    config,
    settings,
    database,
    producer,
    ...(consumer === undefined ? {} : { consumer }),
    logger,
    metrics,
    authenticator,
  });
  return {
    app,
    metrics,
    producer,
    async close() {
      await app.stop().catch(() => {});
      await producer.close().catch(() => {});
    },
  };
}
/** Events the inbox consumer committed, of one type (outcome "processed"), from its metrics. */
export async function processedCount(metrics: Registry, eventType: string): Promise<number> {
  const metric = metrics.getSingleMetric('erp_consumer_events_total');
  if (metric === undefined) return 0;
  const data = await metric.get();
  let total = 0;
  for (const v of data.values) {
    if (v.labels['event_type'] === eventType && v.labels['outcome'] === 'processed')
      total += v.value;
  }
  return total;
}
