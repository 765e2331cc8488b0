/** Inventory process: read config, open resources, build the app, listen, stop on SIGTERM. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProducer, ensureTopics } from '../messaging/kafka/index.ts';
import { openDatabase } from '../platform/database.ts';
import { kafkaConnectionFrom } from '../platform/kafka-connection.ts';
import { createLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { migrate } from '../platform/migrations.ts';
import { configOrExit, runService } from '../platform/service-runner.ts';
import { retryWhileUnavailable } from '../platform/startup.ts';
import { buildInventoryApp } from './app.ts';
import type { InventoryDB } from './db.ts';

const MIGRATIONS = fileURLToPath(new URL('../../migrations/inventory', import.meta.url));

const config = configOrExit();
const logger = createLogger('inventory-service', config.logLevel);

await runService({
  name: 'inventory-service',
  logger,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start() {
    const database = await openDatabase<InventoryDB>({
      ...(config.inventory.databaseUrl === undefined ? {} : { url: config.inventory.databaseUrl }),
      dataDir: join(config.dataDir, 'inventory', 'pglite'),
      poolSize: config.databasePoolSize,
      preparedStatements: config.databasePreparedStatements,
    });
    await migrate(database, MIGRATIONS);
    const conn = kafkaConnectionFrom(config.kafka, 'inventory');
    await retryWhileUnavailable('creating topics', logger, () =>
      ensureTopics(conn, [
        {
          name: config.kafka.inventoryTopic,
          partitions: config.kafka.topicPartitions,
          replicationFactor: config.kafka.topicReplicationFactor,
        },
      ]),
    );
    const producer = createProducer(conn);
    const app = buildInventoryApp({
      config,
      database,
      producer,
      logger,
      metrics: createMetricsRegistry('inventory-service'),
    });
    await app.start();
    const address = await app.http.listen({ host: config.host, port: config.inventory.port });
    logger.info({ address, database: database.kind }, `inventory-service listening on ${address}`);
    return {
      async stop() {
        await app.stop();
        await producer.close();
        await database.close();
      },
    };
  },
});
