/** Sales process: read config, open resources, build the app, listen, stop on SIGTERM. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConsumer, createProducer, ensureTopics } from '../messaging/kafka/index.ts';
import { openDatabase } from '../platform/database.ts';
import { kafkaConnectionFrom } from '../platform/kafka-connection.ts';
import { createLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { migrate } from '../platform/migrations.ts';
import { configOrExit, runService } from '../platform/service-runner.ts';
import { retryWhileUnavailable } from '../platform/startup.ts';
import { buildSalesApp } from './app.ts';
import type { SalesDB } from './db.ts';

const MIGRATIONS = fileURLToPath(new URL('../../migrations/sales', import.meta.url));
/** Dead letters of inventory events go to `<inventory topic><suffix>` (the inbox consumer's default). */
const DLQ_SUFFIX = '.dlq';

const config = configOrExit();
const logger = createLogger('sales-service', config.logLevel);

await runService({
  name: 'sales-service',
  logger,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start(fatal) {
    const database = await openDatabase<SalesDB>({
      ...(config.sales.databaseUrl === undefined ? {} : { url: config.sales.databaseUrl }),
      dataDir: join(config.dataDir, 'sales', 'pglite'),
      poolSize: config.databasePoolSize,
      preparedStatements: config.databasePreparedStatements,
    });
    await migrate(database, MIGRATIONS);
    const conn = kafkaConnectionFrom(config.kafka, 'sales');
    const topic = (name: string) => ({
      name,
      partitions: config.kafka.topicPartitions,
      replicationFactor: config.kafka.topicReplicationFactor,
    });
    await retryWhileUnavailable('creating topics', logger, () =>
      ensureTopics(conn, [
        topic(config.kafka.inventoryTopic),
        topic(`${config.kafka.inventoryTopic}${DLQ_SUFFIX}`),
        topic(config.kafka.salesTopic),
      ]),
    );
    const producer = createProducer(conn);
    // Offsets are committed by the inbox consumer after each batch's transaction, whatever
    // KAFKA_ENABLE_AUTO_COMMIT says: committing earlier could lose events.
    const consumer = createConsumer(conn, {
      groupId: config.kafka.consumerGroup,
      topics: [config.kafka.inventoryTopic],
      autoOffsetReset: config.kafka.autoOffsetReset,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(
        100,
        Math.min(3_000, Math.floor(config.kafka.sessionTimeoutMs / 5)),
      ),
      onReconnect: (err, attempt) =>
        logger.warn(
          { err: { code: err.code, message: err.message }, attempt },
          'Kafka consumer reconnecting',
        ),
      // On PostgreSQL each partition's batch gets a transaction on a pooled connection of its own
      // (partitions share no product, and the alert row lock covers a rebalance overlap); the
      // pool (DATABASE_POOL_SIZE, 20) leaves room for the relay, the dispatcher and HTTP at the default 3
      // partitions. PGlite is one connection that runs one transaction at a time: a second batch
      // would only wait for it, so one at a time there.
      maxConcurrentBatches: database.kind === 'postgres' ? config.kafka.topicPartitions : 1,
    });
    const app = buildSalesApp({
      config,
      database,
      producer,
      consumer,
      logger,
      metrics: createMetricsRegistry('sales-service'),
      onFatal: fatal,
    });
    await app.start();
    const address = await app.http.listen({ host: config.host, port: config.sales.port });
    logger.info({ address, database: database.kind }, `sales-service listening on ${address}`);
    return {
      async stop() {
        await app.stop();
        await app.http.close();
        await consumer.close();
        await producer.close();
        await database.close();
      },
    };
  },
});
