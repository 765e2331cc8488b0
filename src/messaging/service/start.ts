/**
 * Real resources for a service, from its configuration: the database (PostgreSQL at the
 * service's URL, else PGlite under DATA_DIR) migrated with the kit's tables first, its topics,
 * a producer and, when it consumes, a consumer; then the service built, started and listening.
 * `stop()` stops it gracefully and closes what was opened here.
 */
import { join } from 'node:path';
import {
  createAuthenticator,
  createLogger,
  createMetricsRegistry,
  idempotencyMigration,
  migrate,
  openDatabase,
  pruneIdempotencyKeys,
  readMigrations,
  retryWhileUnavailable,
  startTracing,
  tenantIsolationMigration,
} from '../../platform/index.ts';
import type { Authenticator, Config, Database, Logger, Migration } from '../../platform/index.ts';
import { inboxMigration } from '../inbox/table.ts';
import { kafkaConnectionFrom } from '../kafka/connection.ts';
import { createConsumer, createProducer, ensureTopics } from '../kafka/index.ts';
import type { ConsumerSettings, EventConsumer, TopicSpec } from '../kafka/index.ts';
import { outboxMigration } from '../outbox/table.ts';
import { buildService } from './build.ts';
import { listenForMetrics } from './metrics-listener.ts';
import type { Service } from './build.ts';
import { DLQ_SUFFIX } from './definition.ts';
import type { ServiceDefinition } from './definition.ts';

/** The kit's tables the service needs (outbox, inbox), then the service's own migrations. */
export function serviceMigrations<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  settings: S,
  config: Config,
): Migration[] {
  const consumes = definition.consumes?.(config, settings);
  const inbox = consumes === undefined ? undefined : (consumes.inboxTable ?? 'inbox');
  return [
    // Every service answers POSTs with Idempotency-Key support (its table under the policy too).
    idempotencyMigration(),
    ...(definition.outbox === undefined ? [] : [outboxMigration(definition.outbox.table)]),
    ...(inbox === undefined ? [] : [inboxMigration(inbox)]),
    ...(typeof definition.migrations === 'string'
      ? readMigrations(definition.migrations)
      : definition.migrations),
    // Last: the service's migrations made its tables, and an outbox may gain columns there.
    tenantIsolationMigration([
      ...(definition.outbox === undefined ? [] : [definition.outbox.table]),
      ...(inbox === undefined ? [] : [inbox]),
      ...(definition.tenantTables ?? []),
    ]),
  ];
}

/** Every topic the service publishes to or consumes, and the dead-letter topic of each consumed one. */
export function serviceTopics<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  settings: S,
  config: Config,
): TopicSpec[] {
  const consumed = definition.consumes?.(config, settings).topics ?? [];
  const names = new Set([
    ...(definition.publishes?.(config, settings) ?? []),
    ...consumed,
    ...consumed.map((t) => `${t}${DLQ_SUFFIX}`),
  ]);
  return [...names].map((name) => ({
    name,
    partitions: config.kafka.topicPartitions,
    replicationFactor: config.kafka.topicReplicationFactor,
  }));
}

/**
 * The consumer of a service that consumes, as production runs it; `overrides` for tests (e.g. a
 * short `maxWaitMs`).
 */
export function serviceConsumer<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  settings: S,
  config: Config,
  options: {
    databaseKind: Database<DB>['kind'];
    logger: Logger;
    overrides?: Partial<ConsumerSettings>;
  },
): EventConsumer | undefined {
  const consumes = definition.consumes?.(config, settings);
  if (consumes === undefined) return undefined;
  const { kafka } = config;
  const { logger } = options;
  // Offsets are committed by the inbox consumer after each batch's transaction, whatever
  // KAFKA_ENABLE_AUTO_COMMIT says: committing earlier could lose events.
  return createConsumer(kafkaConnectionFrom(kafka, definition.id), {
    groupId: consumes.groupId,
    topics: consumes.topics,
    autoOffsetReset: kafka.autoOffsetReset,
    sessionTimeoutMs: kafka.sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(100, Math.min(3_000, Math.floor(kafka.sessionTimeoutMs / 5))),
    onReconnect: (err, attempt) =>
      logger.warn(
        { err: { code: err.code, message: err.message }, attempt },
        'Kafka consumer reconnecting',
      ),
    // On PostgreSQL each partition's batch gets a transaction on a pooled connection of its own
    // (partitions share no key, and row locks cover a rebalance overlap); the pool
    // (DATABASE_POOL_SIZE, 20) leaves room for the relay, workers and HTTP at the default 3
    // partitions. PGlite is one connection that runs one transaction at a time: a second batch
    // would only wait for it, so one at a time there.
    maxConcurrentBatches: options.databaseKind === 'postgres' ? kafka.topicPartitions : 1,
    ...options.overrides,
  });
}

export interface StartOptions<DB> {
  /** Default: a pino logger named after the service at LOG_LEVEL. */
  logger?: Logger;
  /**
   * An open database to use instead of opening the service's own (tests, embedding). Migrated
   * here like the service's own; not closed by `stop()`.
   */
  database?: Database<DB>;
  /** Called once if consuming ends on its own. */
  onFatal?: (err: unknown) => void;
  /** Where to listen. Default: HOST and the service's port. */
  listen?: { host: string; port: number };
}

/**
 * The service's database: PostgreSQL at its URL, else PGlite in DATA_DIR/<id>/pglite. Not
 * migrated (startService migrates it; operator tools use it as it is).
 */
export function openServiceDatabase<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  settings: S,
  config: Config,
): Promise<Database<DB>> {
  const url = definition.databaseUrl(settings);
  return openDatabase<DB>({
    ...(url === undefined ? {} : { url }),
    dataDir: join(config.dataDir, definition.id, 'pglite'),
    poolSize: config.databasePoolSize,
    preparedStatements: config.databasePreparedStatements,
  });
}

export interface StartedService<E> extends Service<E> {
  /** Where it listens, e.g. http://127.0.0.1:3001. */
  address: string;
  /** Where /metrics is served without a token, when the service has a metrics port. */
  metricsAddress?: string;
}

/** Opens the service's resources, migrates, creates its topics, builds, starts and listens. */
export async function startService<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  config: Config,
  settings: S,
  options: StartOptions<DB> = {},
): Promise<StartedService<E>> {
  const logger = options.logger ?? createLogger(definition.name, config.logLevel);
  // First, so that everything after is traced; shut down last, so that the last spans go out.
  const tracing = await startTracing(config.tracing, definition.name);
  if (config.tracing.exporters.length > 0) {
    logger.info({ exporters: config.tracing.exporters }, 'tracing on');
  }
  const database = options.database ?? (await openServiceDatabase(definition, settings, config));
  const closers: (() => Promise<void>)[] = [() => tracing.shutdown()];
  if (options.database === undefined) closers.push(() => database.close());
  let closing: Promise<void> | undefined;
  // In the reverse order of opening; once, however often it is called.
  const closeAll = (): Promise<void> =>
    (closing ??= (async () => {
      for (const close of [...closers].reverse()) await close().catch(() => {});
    })());
  try {
    await migrate(database, serviceMigrations(definition, settings, config));
    const conn = kafkaConnectionFrom(config.kafka, definition.id);
    await retryWhileUnavailable('creating topics', logger, () =>
      ensureTopics(conn, serviceTopics(definition, settings, config)),
    );
    const producer = createProducer(conn);
    closers.push(() => producer.close());
    const consumer = serviceConsumer(definition, settings, config, {
      databaseKind: database.kind,
      logger,
    });
    // Closed by the service once it runs it; closing twice is harmless.
    if (consumer !== undefined) closers.push(() => consumer.close());
    const metrics = createMetricsRegistry(definition.name);
    const authenticator = await createAuthenticator(config.auth, config.dataDir);
    logAuthentication(authenticator, logger);
    const service = buildService(definition, {
      config,
      settings,
      database,
      producer,
      authenticator,
      ...(consumer === undefined ? {} : { consumer }),
      logger,
      metrics,
      ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
    });
    closers.push(() => service.stop());
    await service.start();
    const pruning = pruneIdempotencyKeysHourly(database, logger);
    closers.push(() => Promise.resolve(clearInterval(pruning)));
    const { host, port } = options.listen ?? { host: config.host, port: definition.port(settings) };
    const address = await service.http.listen({ host, port });
    logger.info({ address, database: database.kind }, `${definition.name} listening on ${address}`);
    const metricsPort = definition.metricsPort?.(settings);
    const metricsListener =
      metricsPort === undefined ? undefined : await listenForMetrics(metrics, host, metricsPort);
    if (metricsListener !== undefined) {
      closers.push(() => metricsListener.close());
      logger.info(`/metrics without a token on ${metricsListener.address}`);
    }
    return {
      ...service,
      address,
      ...(metricsListener === undefined ? {} : { metricsAddress: metricsListener.address }),
      async stop() {
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The start log says who may call: loudly when nobody is checked. */
function logAuthentication(authenticator: Authenticator, logger: Logger): void {
  const line = `authentication: ${authenticator.describe()}`;
  if (authenticator.mode === 'none') {
    logger.warn({ auth: authenticator.mode }, line);
    return;
  }
  logger.info({ auth: authenticator.mode }, line);
  if (authenticator.mode !== 'oidc') return;
  // The issuer may be down at start: requests then get 503 ERP_AUTH_UNAVAILABLE until it is back.
  authenticator.check().then(
    (what) => logger.info({ auth: authenticator.mode }, `authentication: ${what}`),
    (err: unknown) =>
      logger.warn(
        { err, auth: authenticator.mode },
        'authentication: the issuer cannot be reached yet',
      ),
  );
}

/** Idempotency keys are kept at least this long: a client retrying within a day gets its first answer. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

function pruneIdempotencyKeysHourly<DB>(database: Database<DB>, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    pruneIdempotencyKeys(database.db, new Date(Date.now() - IDEMPOTENCY_RETENTION_MS)).then(
      (deleted) => {
        if (deleted > 0) logger.debug({ deleted }, 'pruned expired idempotency keys');
      },
      (err: unknown) => logger.warn({ err }, 'pruning idempotency keys failed; retried next hour'),
    );
  }, 3_600_000);
  timer.unref();
  return timer;
}
