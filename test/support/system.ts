/**
 * The whole system in one test process: both services built by their app functions, with
 * unique topics and consumer group on the real broker, and a database each (PostgreSQL schemas
 * when DATABASE_URL is set, PGlite otherwise). Used by end-to-end tests and benchmarks.
 */
import type { InventoryApp } from '../../src/inventory/app.ts';
import { buildInventoryApp } from '../../src/inventory/app.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { createConsumer, createProducer, ensureTopics } from '../../src/messaging/kafka/index.ts';
import type { KafkaConnectionOptions } from '../../src/messaging/kafka/index.ts';
import { buildSalesApp } from '../../src/sales/app.ts';
import type { SalesApp } from '../../src/sales/app.ts';
import type { SalesDB } from '../../src/sales/db.ts';
import { loadConfig } from '../../src/platform/config.ts';
import type { Config } from '../../src/platform/config.ts';
import type { Database } from '../../src/platform/database.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetricsRegistry } from '../../src/platform/metrics.ts';
import { testDatabase } from './database.ts';
import type { Cleanup } from './database.ts';
import { testBootstrap, uniqueName } from './kafka.ts';

export interface TestSystem {
  config: Config;
  conn: KafkaConnectionOptions;
  inventory: InventoryApp;
  sales: SalesApp;
  inventoryDb: Database<InventoryDB>;
  salesDb: Database<SalesDB>;
}

export async function startSystem(
  t: Cleanup,
  env: Record<string, string> = {},
): Promise<TestSystem> {
  const bootstrap = await testBootstrap();
  const config = loadConfig({
    KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(','),
    KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
    KAFKA_SALES_TOPIC: uniqueName('sales-events'),
    KAFKA_CONSUMER_GROUP: uniqueName('sales-service-group'),
    OUTBOX_POLL_INTERVAL_MS: '250',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  const conn: KafkaConnectionOptions = {
    clientId: 'test-system',
    bootstrapServers: config.kafka.bootstrapServers,
  };
  const partitions = config.kafka.topicPartitions;
  await ensureTopics(conn, [
    { name: config.kafka.inventoryTopic, partitions, replicationFactor: 1 },
    { name: `${config.kafka.inventoryTopic}.dlq`, partitions: 1, replicationFactor: 1 },
    { name: config.kafka.salesTopic, partitions, replicationFactor: 1 },
  ]);
  // after() hooks run in the order they were added: this one, added before the databases', stops
  // the services before their databases close.
  const stops: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const stop of stops) await stop();
  });
  const inventoryDb = await testDatabase<InventoryDB>(t, 'inventory');
  const salesDb = await testDatabase<SalesDB>(t, 'sales');
  const logger = createLogger('test', config.logLevel);

  const inventoryProducer = createProducer({ ...conn, clientId: 'test-inventory' });
  const inventory = buildInventoryApp({
    config,
    database: inventoryDb,
    producer: inventoryProducer,
    logger: logger.child({ service: 'inventory' }),
    metrics: createMetricsRegistry('inventory-service', false),
  });
  const salesProducer = createProducer({ ...conn, clientId: 'test-sales' });
  const salesConsumer = createConsumer(
    { ...conn, clientId: 'test-sales' },
    {
      groupId: config.kafka.consumerGroup,
      topics: [config.kafka.inventoryTopic],
      autoOffsetReset: 'earliest',
      maxWaitMs: 100,
    },
  );
  const sales = buildSalesApp({
    config,
    database: salesDb,
    producer: salesProducer,
    consumer: salesConsumer,
    logger: logger.child({ service: 'sales' }),
    metrics: createMetricsRegistry('sales-service', false),
  });
  stops.push(
    () => Promise.allSettled([inventory.stop(), sales.stop()]),
    () => Promise.allSettled([inventory.http.close(), sales.http.close()]),
    () => Promise.allSettled([inventoryProducer.close(), salesProducer.close()]),
  );
  await Promise.all([inventory.start(), sales.start()]);
  return { config, conn, inventory, sales, inventoryDb, salesDb };
}
