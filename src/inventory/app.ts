/**
 * The Inventory service as a function of its resources: HTTP routes, command handling and the
 * outbox relay. main.ts wires real resources; tests pass their own.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { EventProducer } from '../messaging/kafka/index.ts';
import { createOutboxRelay, createPrometheusRelayMetrics } from '../messaging/outbox-relay.ts';
import type { OutboxRelay } from '../messaging/outbox-relay.ts';
import { createOutboxSignal } from '../messaging/outbox-signal.ts';
import type { Config } from '../platform/config.ts';
import type { Database } from '../platform/database.ts';
import { createHttpServer } from '../platform/http.ts';
import type { Logger } from '../platform/logger.ts';
import { createCommandHandler } from './commands.ts';
import type { CommandHandler } from './commands.ts';
import type { InventoryDB } from './db.ts';
import { registerInventoryRoutes } from './routes.ts';

/** The NOTIFY channel that wakes a relay in another process when events commit. */
export const INVENTORY_OUTBOX_CHANNEL = 'inventory_outbox';

export interface InventoryAppDeps {
  config: Pick<Config, 'kafka' | 'outboxPollIntervalMs'>;
  database: Database<InventoryDB>;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
}

export interface InventoryApp {
  http: FastifyInstance;
  commands: CommandHandler;
  relay: OutboxRelay;
  start(): Promise<void>;
  /**
   * Refuses new HTTP work (503), waits for requests in flight, then lets the relay publish what
   * committed. Closes the HTTP server; the database and producer stay open.
   */
  stop(): Promise<void>;
}

export function buildInventoryApp(deps: InventoryAppDeps): InventoryApp {
  const { config, database, logger } = deps;
  const relay = createOutboxRelay({
    database,
    table: 'events',
    channel: INVENTORY_OUTBOX_CHANNEL,
    producer: deps.producer,
    logger: logger.child({ component: 'outbox-relay' }),
    pollIntervalMs: config.outboxPollIntervalMs,
    metrics: createPrometheusRelayMetrics(deps.metrics, { table: 'events' }),
  });
  const outbox = createOutboxSignal({
    database,
    channel: INVENTORY_OUTBOX_CHANNEL,
    relay,
    logger: logger.child({ component: 'outbox-signal' }),
  });
  const commands = createCommandHandler({ database, topic: config.kafka.inventoryTopic, outbox });
  let ready = false;
  const server = createHttpServer({ logger, metrics: deps.metrics, isReady: () => ready });
  registerInventoryRoutes(server.app, { database, commands });

  return {
    http: server.app,
    commands,
    relay,
    async start() {
      await relay.start();
      ready = true;
    },
    async stop() {
      ready = false;
      server.drain();
      // Requests in flight may still commit events: let them finish (close() waits for them)
      // before the relay's final pass, so that pass publishes everything that committed.
      await server.app.close();
      await relay.stop();
      await outbox.close();
    },
  };
}
