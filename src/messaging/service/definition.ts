/**
 * What a service is made of, as the service kit sees it: a name, its own settings section, its
 * migrations, the outbox it publishes from, what it consumes, and a `build` function that turns
 * the resources the kit opened into its routes, handlers and workers. Everything else (database
 * and migrations, topics, producer and consumer, relay, inbox consumer, HTTP shell, metrics,
 * start/stop order, graceful shutdown) is the kit's.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type {
  AnySettingsSection,
  Config,
  Database,
  HttpStatusTable,
  Logger,
  Migration,
} from '../../platform/index.ts';
import type { EventProducer } from '../kafka/index.ts';
import type { OutboxSignal } from '../outbox/signal.ts';
import type { EventRouter } from '../router.ts';

/** What `build` receives: the resources the kit opened, and the service's parsed settings. */
export interface ServiceContext<DB, S> {
  name: string;
  config: Config;
  settings: S;
  database: Database<DB>;
  /** Publishes to Kafka; owned by the kit. */
  producer: EventProducer;
  /**
   * Tell it after a transaction that appended to the outbox committed: the relay publishes at
   * once instead of at its next poll. A no-op for a service without an outbox.
   */
  outbox: OutboxSignal;
  logger: Logger;
  metrics: Registry;
}

/** A part with a life of its own (a dispatcher, a scheduler). */
export interface Worker {
  name: string;
  /** Called after the relay started and before the consumer starts. */
  start(): void | Promise<void>;
  /** Called after the consumer and the relay stopped (their last work may need the worker). */
  stop(): Promise<void>;
}

export interface ServiceParts<DB, E> {
  /** Adds the service's routes to the HTTP shell (health, readiness and metrics are the kit's). */
  routes?(app: FastifyInstance): void;
  /** Handlers of the consumed events; required when the definition has `consumes`. */
  handlers?: EventRouter<DB>;
  /** Started in order after the relay, stopped in reverse order last. */
  workers?: readonly Worker[];
  /** What the service lets its tests and tools reach (a command handler, a dispatcher). */
  exposed: E;
}

export interface ConsumedTopics {
  /** Consumer group of the service. */
  groupId: string;
  /** Topics it consumes; dead letters go to `<topic>.dlq`, created at start. */
  topics: readonly string[];
  /** Default: 'inbox'. */
  inboxTable?: string;
}

export interface ServiceDefinition<DB, S, E> {
  /** `<name>-service`: logger name, metrics label, `source_service` of its events. */
  name: string;
  /** What it does, one paragraph: the start of its OpenAPI document (/docs). Default: none. */
  description?: string;
  /** Its folder under DATA_DIR for PGlite, and the Kafka client id suffix. */
  id: string;
  /** Its own environment variables (parsed with the shared ones, once). */
  settings: AnySettingsSection<S>;
  /** Its HTTP port, from its settings. */
  port(settings: S): number;
  /**
   * A port of its own for `GET /metrics` without a token (a Prometheus on a private interface);
   * undefined: none, and /metrics on the service's port needs the `ops` scope.
   */
  metricsPort?(settings: S): number | undefined;
  /** Its PostgreSQL URL; undefined runs PGlite in DATA_DIR/<id>/pglite. */
  databaseUrl(settings: S): string | undefined;
  /**
   * Its migrations, run after the kit's outbox and inbox tables: a folder of `.sql` files applied
   * in name order, or the migrations themselves.
   */
  migrations: string | readonly Migration[];
  /**
   * Its tables that hold tenants' rows (a `tenant_id` column). After its migrations the kit puts
   * them, with its own outbox and inbox tables, under row-level security: a request's statements
   * (Database.inTenant) see only their tenant's rows (platform/database/tenant-isolation.ts).
   * Default: none but the kit's.
   */
  tenantTables?: readonly string[];
  /** The outbox table it publishes from and the NOTIFY channel its relay listens on. */
  outbox?: { table: string; channel: string };
  /** Topics it publishes to (created at start). Default: none. */
  publishes?(config: Config, settings: S): readonly string[];
  /** What it consumes, if anything. */
  consumes?(config: Config, settings: S): ConsumedTopics;
  /** HTTP status of its error codes. */
  errorStatuses?: HttpStatusTable;
  /**
   * The token scopes its routes need: `read` for GET and HEAD, `write` for the rest, unless a
   * route declares `config: { access }`. Default: any authenticated caller.
   */
  scopes?: { read: string; write: string };
  build(ctx: ServiceContext<DB, S>): ServiceParts<DB, E>;
}

/** Declares a service (only to infer its types). */
export function defineService<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
): ServiceDefinition<DB, S, E> {
  return definition;
}

/** Suffix of dead-letter topics: records of `t` that cannot be applied go to `t.dlq`. */
export const DLQ_SUFFIX = '.dlq';
