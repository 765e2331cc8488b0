/**
 * The service as a function of its resources (the app is a function): the kit wires the relay
 * of the service's outbox, its inbox consumer, its workers and its routes in the HTTP shell, and
 * owns the order they start and stop in. `start.ts` opens real resources for it; tests pass their
 * own. Resources passed in are never closed here, except the consumer, which the inbox consumer
 * runs and closes. The kit's own workers (the consumer-lag reader and its admin client) are
 * opened by `start()` and closed by `stop()`.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import {
  AppError,
  createHttpServer,
  PlatformErrorCodes,
  retryWhileUnavailable,
} from '../../platform/index.ts';
import type { Authenticator, Config, Database, Logger, RetryPolicy } from '../../platform/index.ts';
import { createInboxConsumer } from '../inbox/consumer.ts';
import type { InboxConsumer } from '../inbox/consumer.ts';
import { createPrometheusConsumerMetrics } from '../inbox/metrics.ts';
import { kafkaConnectionFrom } from '../kafka/connection.ts';
import { createGroupLagReader } from '../kafka/group-lag.ts';
import type { EventConsumer, EventProducer } from '../kafka/index.ts';
import { createPrometheusRelayMetrics } from '../outbox/metrics.ts';
import { createOutboxRelay } from '../outbox/relay.ts';
import type { OutboxRelay } from '../outbox/relay.ts';
import { createOutboxSignal } from '../outbox/signal.ts';
import type { OutboxSignal } from '../outbox/signal.ts';
import type { EventRouter } from '../router.ts';
import {
  createSchemaRegistryClient,
  resolveSchemaIds,
  schemaIdKeyOf,
  schemaSubjects,
} from '../schema-registry/index.ts';
import { createConsumerLagWorker } from './consumer-lag.ts';
import { DLQ_SUFFIX } from './definition.ts';
import { eventDocsFor } from './event-docs.ts';
import type { ServiceDefinition, Worker } from './definition.ts';

export interface ServiceResources<DB, S> {
  config: Config;
  settings: S;
  /** Migrated (serviceMigrations); owned by the caller. */
  database: Database<DB>;
  /** Publishes the outbox and dead letters; owned by the caller. */
  producer: EventProducer;
  /** Subscribed to what the service consumes; required when it consumes. Run and closed by the service. */
  consumer?: EventConsumer;
  logger: Logger;
  metrics: Registry;
  /** Who may call the routes (createAuthenticator from config.auth, or headerTenancy()). */
  authenticator: Authenticator;
  /** Record retries of the inbox consumer. Default: DEFAULT_RETRY_POLICY. */
  retryPolicy?: Partial<RetryPolicy>;
  /** Called once if consuming ends on its own (the process should exit). Default: a log line only. */
  onFatal?: (err: unknown) => void;
}

export interface Service<E> {
  name: string;
  /** The HTTP shell with the service's routes; not listening (the caller decides where). */
  http: FastifyInstance;
  /** The relay of the service's outbox, if it has one. */
  relay: OutboxRelay | undefined;
  /** What the service exposes (ServiceParts.exposed). */
  exposed: E;
  /** Starts the relay, the workers, then the consumer; ready (/readyz 200) once they are. */
  start(): Promise<void>;
  /**
   * Refuses new HTTP work (503), waits for requests in flight, finishes and commits the batch in
   * hand, publishes what committed, stops the workers, then closes the HTTP server.
   */
  stop(): Promise<void>;
}

const noSignal: OutboxSignal = { committed() {}, close: () => Promise.resolve() };

export function buildService<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  resources: ServiceResources<DB, S>,
): Service<E> {
  const { config, settings, database, producer, logger, metrics } = resources;
  // Filled by start() when a schema registry is configured, before the relay sends anything.
  const schemaIds = new Map<string, string>();
  const relay =
    definition.outbox === undefined
      ? undefined
      : createOutboxRelay({
          database,
          table: definition.outbox.table,
          channel: definition.outbox.channel,
          producer,
          logger: logger.child({ component: 'outbox-relay' }),
          pollIntervalMs: config.outboxPollIntervalMs,
          metrics: createPrometheusRelayMetrics(metrics, { table: definition.outbox.table }),
          schemaIds,
        });
  const outbox =
    definition.outbox === undefined || relay === undefined
      ? noSignal
      : createOutboxSignal({
          database,
          channel: definition.outbox.channel,
          relay,
          logger: logger.child({ component: 'outbox-signal' }),
        });
  const parts = definition.build({
    name: definition.name,
    config,
    settings,
    database,
    producer,
    outbox,
    logger,
    metrics,
  });
  const inbox = inboxOf(definition, resources, parts.handlers);
  // The kit's workers start before the service's and stop after them.
  const workers: readonly Worker[] = [
    ...kitWorkers(definition, resources),
    ...(parts.workers ?? []),
  ];

  let ready = false;
  let asyncapi: Record<string, unknown> | undefined;
  const server = createHttpServer({
    logger,
    metrics,
    isReady: () => ready,
    timeouts: config.http,
    access: {
      authenticator: resources.authenticator,
      openMetrics: config.auth.openMetrics,
      rateLimit: config.rateLimit,
      ...(definition.scopes === undefined ? {} : { scopes: definition.scopes }),
    },
    ...(definition.errorStatuses === undefined ? {} : { errorStatuses: definition.errorStatuses }),
    docs: {
      title: `${definition.name} API`,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      // The configuration does not change while the service runs.
      asyncapi: () => (asyncapi ??= eventDocsFor(config)),
    },
  });
  parts.routes?.(server.app);

  let stopped: Promise<void> | undefined;
  return {
    name: definition.name,
    http: server.app,
    relay,
    exposed: parts.exposed,
    async start() {
      if (relay !== undefined) {
        for (const [key, id] of await schemaIdsOf(definition, resources)) schemaIds.set(key, id);
      }
      await relay?.start();
      for (const worker of workers) await worker.start();
      await inbox?.start();
      ready = true;
    },
    stop() {
      stopped ??= (async () => {
        ready = false;
        // Requests in flight may still commit events: let them finish before the relay's final
        // pass. The consumer next: its last batch may append events and work for the workers.
        // New requests get 503 until the very end, then the server closes.
        await server.drain();
        await inbox?.stop();
        await relay?.stop();
        await outbox.close();
        for (const worker of [...workers].reverse()) await worker.stop();
        await server.app.close();
      })();
      return stopped;
    },
  };
}

/**
 * With SCHEMA_REGISTRY_URL, the ids of the schemas of what the service publishes (the contract's
 * subjects on its topics); a missing or incompatible one refuses the start
 * (ERP_SCHEMA_NOT_REGISTERED, ERP_SCHEMA_INCOMPATIBLE). Here rather than in startService so that
 * every way of starting a service (tests build it with their own resources) checks the same.
 */
async function schemaIdsOf<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  resources: ServiceResources<DB, S>,
): Promise<Map<string, string>> {
  const { config, settings, logger } = resources;
  const topics = definition.publishes?.(config, settings) ?? [];
  if (config.schemaRegistryUrl === undefined || topics.length === 0) return new Map();
  const client = createSchemaRegistryClient({ url: config.schemaRegistryUrl });
  const subjects = schemaSubjects(config.kafka, topics);
  // Like Kafka at start: a registry that does not answer yet is waited for (logged), not a crash
  // loop; a missing or incompatible schema is not retryable and refuses the start at once.
  const ids = await retryWhileUnavailable('looking up schema ids', logger, () =>
    resolveSchemaIds(client, subjects),
  );
  logger.info(
    {
      registry: client.url,
      subjects: Object.fromEntries(
        subjects.map((s) => [s.subject, ids.get(schemaIdKeyOf(s.eventType, s.major))]),
      ),
    },
    'schema ids from the registry',
  );
  return ids;
}

/** Every service that consumes reports its group's lag. */
function kitWorkers<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  resources: ServiceResources<DB, S>,
): Worker[] {
  const { config, settings } = resources;
  const consumes = definition.consumes?.(config, settings);
  if (consumes === undefined) return [];
  // Read here, not at start: a TLS file that cannot be read fails the build, not a later start.
  const connection = kafkaConnectionFrom(config.kafka, definition.id);
  return [
    createConsumerLagWorker({
      openReader: () => createGroupLagReader(connection),
      groupId: consumes.groupId,
      topics: consumes.topics,
      registry: resources.metrics,
      logger: resources.logger.child({ component: 'consumer-lag' }),
      intervalMs: config.consumerLagIntervalMs,
    }),
  ];
}

function inboxOf<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  resources: ServiceResources<DB, S>,
  handlers: EventRouter<DB> | undefined,
): InboxConsumer | undefined {
  const consumes = definition.consumes?.(resources.config, resources.settings);
  if (consumes === undefined) return undefined;
  if (resources.consumer === undefined || handlers === undefined) {
    throw new AppError(
      PlatformErrorCodes.INVALID_OPTIONS,
      `${definition.name} consumes ${consumes.topics.join(', ')}: it needs a consumer and handlers`,
      { context: { field: resources.consumer === undefined ? 'consumer' : 'handlers' } },
    );
  }
  return createInboxConsumer({
    consumer: resources.consumer,
    router: handlers,
    database: resources.database,
    inboxTable: consumes.inboxTable ?? 'inbox',
    ordering: resources.config.kafka.consumerOrdering,
    deadLetters: { producer: resources.producer, topicSuffix: DLQ_SUFFIX },
    groupId: consumes.groupId,
    logger: resources.logger.child({ component: 'inbox-consumer' }),
    metrics: createPrometheusConsumerMetrics(resources.metrics),
    ...(resources.retryPolicy === undefined ? {} : { retryPolicy: resources.retryPolicy }),
    ...(resources.onFatal === undefined ? {} : { onFatal: resources.onFatal }),
  });
}
