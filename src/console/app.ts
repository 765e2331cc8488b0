/**
 * The console as a function of its resources, like a service of the kit: the platform's HTTP
 * shell (errors with codes, health, readiness, access control, graceful drain), the console's
 * routes, and one worker (the overview poller). It has no database, outbox or consumer, so it
 * does not take the kit's `buildService`; it reads the services through their HTTP APIs and
 * Kafka through its own admin connections, never on their request paths.
 */
import type { FastifyInstance } from 'fastify';
import { createClusterReader, DLQ_SUFFIX, kafkaConnectionFrom } from '../messaging/index.ts';
import { createHttpServer, createMetricsRegistry } from '../platform/index.ts';
import type { Authenticator, Config, Logger } from '../platform/index.ts';
import { CONSOLE_HTTP_STATUSES } from './errors.ts';
import { createOverviewPoller } from './overview.ts';
import type { OverviewPoller } from './overview.ts';
import { registerConsoleRoutes, withSessionCookie } from './routes.ts';
import type { ConsoleSettings } from './settings.ts';
import { createUpstream } from './upstream.ts';

export interface ConsoleResources {
  config: Config;
  settings: ConsoleSettings;
  authenticator: Authenticator;
  logger: Logger;
}

export interface Console {
  http: FastifyInstance;
  overview: OverviewPoller;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function buildConsole(resources: ConsoleResources): Promise<Console> {
  const { config, settings, logger } = resources;
  const conn = kafkaConnectionFrom(config.kafka, 'console');
  const upstream = await createUpstream(config);
  const overview = createOverviewPoller({
    services: [
      { name: 'inventory', url: settings.inventoryUrl },
      { name: 'sales', url: settings.salesUrl },
    ],
    conn,
    groupId: config.kafka.consumerGroup,
    topics: [config.kafka.inventoryTopic],
    upstream,
    pollMs: settings.pollMs,
    historyPoints: settings.historyPoints,
    logger: logger.child({ component: 'overview' }),
  });
  const kafka = createClusterReader(conn);
  const authenticator = withSessionCookie(resources.authenticator);
  let ready = false;
  const server = createHttpServer({
    logger,
    metrics: createMetricsRegistry('console', false),
    isReady: () => ready,
    timeouts: config.http,
    access: { authenticator, openMetrics: config.auth.openMetrics, rateLimit: config.rateLimit },
    errorStatuses: CONSOLE_HTTP_STATUSES,
    docs: { title: 'erp-events console API' },
  });
  registerConsoleRoutes(server.app, {
    settings,
    authenticator,
    conn,
    deadLetterTopics: [`${config.kafka.inventoryTopic}${DLQ_SUFFIX}`],
    overview,
    kafka,
    upstream,
  });
  let stopped: Promise<void> | undefined;
  return {
    http: server.app,
    overview,
    start() {
      overview.start();
      ready = true;
      return Promise.resolve();
    },
    stop() {
      stopped ??= (async () => {
        ready = false;
        await server.drain();
        await overview.stop();
        await kafka.close().catch(() => {});
        await server.app.close();
      })();
      return stopped;
    },
  };
}
