/** The Sales app wired as src/sales/main.ts wires it, on a benchmark database and topics. */
import type { Registry } from 'prom-client';
import { createConsumer, createProducer } from '../src/messaging/kafka/index.ts';
import type { EventProducer } from '../src/messaging/kafka/index.ts';
import { loadConfig } from '../src/platform/config.ts';
import type { Config } from '../src/platform/config.ts';
import type { Database } from '../src/platform/database.ts';
import type { Logger } from '../src/platform/logger.ts';
import { createMetricsRegistry } from '../src/platform/metrics.ts';
import { buildSalesApp } from '../src/sales/app.ts';
import type { SalesApp } from '../src/sales/app.ts';
import type { SalesDB } from '../src/sales/db.ts';

export interface BenchConfigInput {
  bootstrapServers: string[];
  inventoryTopic: string;
  salesTopic: string;
  consumerGroup: string;
}

/** The production defaults (OUTBOX_POLL_INTERVAL_MS 1000 etc.), logs silent. */
export function benchConfig(input: BenchConfigInput): Config {
  return loadConfig({
    KAFKA_BOOTSTRAP_SERVERS: input.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: input.inventoryTopic,
    KAFKA_SALES_TOPIC: input.salesTopic,
    KAFKA_CONSUMER_GROUP: input.consumerGroup,
    LOG_LEVEL: 'silent',
  });
}

export interface BenchSales {
  app: SalesApp;
  metrics: Registry;
  producer: EventProducer;
  /** Stops the app and closes the producer (the database stays the caller's). */
  close(): Promise<void>;
}

export function buildBenchSales(
  config: Config,
  database: Database<SalesDB>,
  logger: Logger,
): BenchSales {
  const conn = { clientId: 'bench-sales', bootstrapServers: config.kafka.bootstrapServers };
  const producer = createProducer(conn);
  // The consumer settings of src/sales/main.ts: partitions in parallel on PostgreSQL, one at a time on PGlite.
  const consumer = createConsumer(conn, {
    groupId: config.kafka.consumerGroup,
    topics: [config.kafka.inventoryTopic],
    autoOffsetReset: config.kafka.autoOffsetReset,
    maxConcurrentBatches: database.kind === 'postgres' ? config.kafka.topicPartitions : 1,
  });
  const metrics = createMetricsRegistry('sales-service', false);
  const app = buildSalesApp({ config, database, producer, consumer, logger, metrics });
  return {
    app,
    metrics,
    producer,
    async close() {
      await app.stop().catch(() => {});
      await app.http.close().catch(() => {});
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
