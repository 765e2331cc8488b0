/**
 * The one place that reads process.env. Every variable of the design document keeps its name
 * and default; the rest are ours. The shared settings (Kafka, database pool, HTTP host, logs,
 * shutdown) are parsed here; each service declares its own section (its port, its database URL,
 * what only it uses) with `defineSettings`, and both are parsed together, once, at start. A bad
 * value stops the process with a message that names every bad variable (ERP_CFG_INVALID), never
 * later in the middle of a request.
 */
import { z } from 'zod';
import type { AuthSettings } from './auth/index.ts';
import { DEFAULT_RATE_LIMIT } from './http/rate-limit.ts';
import type { RateLimitSettings } from './http/rate-limit.ts';
import { AppError, PlatformErrorCodes } from './errors.ts';
import type { TracingSettings } from './tracing.ts';

/** Building blocks for a service's own variables, with the same parsing rules as ours. */
export const env = {
  bool: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  port: z.coerce.number().int().min(0).max(65535),
  positiveInt: z.coerce.number().int().min(1),
  nonNegativeInt: z.coerce.number().int().min(0),
  text: z.string().trim().min(1),
  /** Unset or empty means undefined. */
  optionalText: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
};

/**
 * How long the HTTP shell waits on a client. Without bounds, a client that sends its headers and
 * a few bytes of a promised body holds a socket (and a request in flight, which a graceful stop
 * waits for) for as long as it likes; enough of them and the service runs out of sockets.
 */
export interface HttpSettings {
  /**
   * The whole request, headers and body, must arrive within this; else 408
   * ERP_HTTP_REQUEST_TIMEOUT and the connection is closed. A connection with no byte moving
   * either way for twice this (a client that stopped reading its answer) is closed. Default 30 000:
   * our bodies are at most 1 MiB, which a link of 300 kbit/s still sends in time.
   */
  requestTimeoutMs: number;
  /**
   * The request line and headers must arrive within this (at most requestTimeoutMs); else 408.
   * Default 10 000 (or requestTimeoutMs if shorter): a few hundred bytes, which no live client
   * takes seconds to send.
   */
  headersTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this. Default 5 000 (Node's own default):
   * long enough for a client's next request, short enough that idle sockets do not pile up.
   * Behind a load balancer, set it above the balancer's idle timeout.
   */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_SETTINGS: Readonly<HttpSettings> = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
};

const sharedSchema = z.object({
  // The design document's variables, with its defaults.
  KAFKA_BOOTSTRAP_SERVERS: env.text.default('localhost:9092'),
  KAFKA_CONSUMER_GROUP: env.text.default('sales-service-group'),
  INVENTORY_CONSUMER_GROUP: env.text.default('inventory-service-group'),
  KAFKA_INVENTORY_TOPIC: env.text.default('inventory-events'),
  KAFKA_SALES_TOPIC: env.text.default('sales-events'),
  KAFKA_AUTO_OFFSET_RESET: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['earliest', 'latest']))
    .default('earliest'),
  KAFKA_ENABLE_AUTO_COMMIT: env.bool.default(true),
  // Ours.
  KAFKA_CLIENT_ID: env.text.default('erp-events'),
  KAFKA_TOPIC_PARTITIONS: env.positiveInt.default(3),
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt.default(45_000),
  KAFKA_CONSUMER_ORDERING: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['key', 'partition']))
    .default('key'),
  KAFKA_TOPIC_REPLICATION_FACTOR: env.positiveInt.default(1),
  KAFKA_SECURITY_PROTOCOL: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']))
    .default('PLAINTEXT'),
  KAFKA_SASL_MECHANISM: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']))
    .default('SCRAM-SHA-256'),
  KAFKA_SASL_USERNAME: env.optionalText,
  KAFKA_SASL_PASSWORD: env.optionalText,
  KAFKA_SSL_CA_FILE: env.optionalText,
  KAFKA_SSL_CERT_FILE: env.optionalText,
  KAFKA_SSL_KEY_FILE: env.optionalText,
  HOST: env.text.default('127.0.0.1'),
  DATA_DIR: env.text.default('.data'),
  DATABASE_POOL_SIZE: env.positiveInt.default(20),
  DATABASE_PREPARED_STATEMENTS: env.bool.default(true),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .default('info'),
  SHUTDOWN_TIMEOUT_MS: env.positiveInt.default(30_000),
  HTTP_REQUEST_TIMEOUT_MS: env.positiveInt.default(DEFAULT_HTTP_SETTINGS.requestTimeoutMs),
  // Unset: the default, or the request timeout when that is shorter.
  HTTP_HEADERS_TIMEOUT_MS: env.positiveInt.optional(),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env.positiveInt.default(DEFAULT_HTTP_SETTINGS.keepAliveTimeoutMs),
  OUTBOX_POLL_INTERVAL_MS: env.positiveInt.default(1_000),
  CONSUMER_LAG_INTERVAL_MS: env.positiveInt.default(5_000),
  // Unset: `oidc` with AUTH_ISSUER_URL, else the development issuer. `none` only when set.
  AUTH_MODE: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['oidc', 'dev', 'none']))
    .optional(),
  AUTH_ISSUER_URL: env.optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  AUTH_AUDIENCE: env.text.default('erp-events'),
  AUTH_TENANT_CLAIM: env.text.default('tenant_id'),
  AUTH_CLOCK_SKEW_SECONDS: env.nonNegativeInt.default(30),
  AUTH_OPEN_METRICS: env.bool.default(false),
  // Unset: no registry, no schema_id header, nothing checked at start.
  SCHEMA_REGISTRY_URL: env.optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMIT.max),
  RATE_LIMIT_WINDOW_MS: env.positiveInt.default(DEFAULT_RATE_LIMIT.windowMs),
  // OpenTelemetry's own variables: parsed here so that a typo stops the start with ERP_CFG_INVALID
  // instead of a warning from the SDK and no traces. The SDK reads them (and the exporters' other
  // OTEL_* variables) itself when tracing is on.
  OTEL_TRACES_EXPORTER: z
    .string()
    .trim()
    .toLowerCase()
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(['otlp', 'zipkin', 'console', 'none'])))
    .optional(),
  OTEL_SDK_DISABLED: env.bool.default(false),
  OTEL_SERVICE_NAME: env.optionalText,
  OTEL_TRACES_SAMPLER: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.enum([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ]),
    )
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
});

type SharedEnv = z.infer<typeof sharedSchema>;

export interface KafkaSettings {
  clientId: string;
  bootstrapServers: string[];
  /**
   * KAFKA_CONSUMER_GROUP, default sales-service-group: the group Sales consumes in. Shared, as in
   * the design document, because the published AsyncAPI document (every service serves it, the CLI
   * prints it) names it.
   */
  consumerGroup: string;
  /**
   * INVENTORY_CONSUMER_GROUP, default inventory-service-group: the group Inventory consumes
   * `sales-events` in (the order saga). Shared for the same reason as KAFKA_CONSUMER_GROUP.
   */
  inventoryConsumerGroup: string;
  inventoryTopic: string;
  salesTopic: string;
  autoOffsetReset: 'earliest' | 'latest';
  enableAutoCommit: boolean;
  topicPartitions: number;
  topicReplicationFactor: number;
  /** Consumer session timeout: how long a dead member holds its partitions. */
  sessionTimeoutMs: number;
  /**
   * KAFKA_CONSUMER_ORDERING: what order consumers apply a batch in, 'key' (each key's order; the
   * contract's promise) or 'partition' (the partition's whole order). See messaging/inbox.
   */
  consumerOrdering: 'key' | 'partition';
  sasl?: {
    mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN';
    username: string;
    password: string;
  };
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** The settings every service shares. */
export interface Config {
  kafka: KafkaSettings;
  host: string;
  dataDir: string;
  /** PostgreSQL connections per service: bounds how many commands commit at once. */
  databasePoolSize: number;
  /** Named prepared statements on PostgreSQL; off behind a pooler that cannot keep them (PgBouncer < 1.21 in transaction mode). */
  databasePreparedStatements: boolean;
  logLevel: SharedEnv['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  outboxPollIntervalMs: number;
  /** How often a consuming service reads its group's lag (erp_consumer_lag). */
  consumerLagIntervalMs: number;
  http: HttpSettings;
  auth: AuthSettings;
  /** Requests per tenant per window, per instance; max 0 is no limit. */
  rateLimit: RateLimitSettings;
  tracing: TracingSettings;
  /**
   * The Confluent-compatible API of the schema registry (SCHEMA_REGISTRY_URL), e.g.
   * http://127.0.0.1:8280/apis/ccompat/v7. When set, a producing service refuses to start unless
   * the contract's schemas of what it publishes are registered, and its events carry their id in
   * a `schema_id` header. Default: unset (neither).
   */
  schemaRegistryUrl?: string;
}

/**
 * A service's own section of the environment: the variables it reads (zod schemas by name, e.g.
 * `{ SALES_PORT: env.port.default(3002) }`) and how they become its typed settings.
 */
export interface SettingsSection<V extends z.ZodRawShape, S> {
  variables: V;
  settings(values: z.output<z.ZodObject<V>>): S;
}

/** A settings section of any variables: what the service kit takes. */
export type AnySettingsSection<S> = SettingsSection<z.ZodRawShape, S>;

/** Declares a settings section (only to infer its types). */
export function defineSettings<V extends z.ZodRawShape, S>(
  section: SettingsSection<V, S>,
): SettingsSection<V, S> {
  return section;
}

/** Parses the shared settings once. Throws ERP_CFG_INVALID naming every bad variable. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  return configFrom(parse(sharedSchema, environment));
}

/**
 * The shared settings and a service's own section, parsed together so that one error names every
 * bad variable of both. Throws ERP_CFG_INVALID.
 */
export function loadServiceConfig<V extends z.ZodRawShape, S>(
  section: SettingsSection<V, S>,
  environment: Record<string, string | undefined> = process.env,
): { config: Config; settings: S } {
  const values = parse(sharedSchema.extend(section.variables), environment);
  return {
    config: configFrom(values as SharedEnv),
    settings: section.settings(values as z.output<z.ZodObject<V>>),
  };
}

function parse<T extends z.ZodType>(schema: T, environment: Record<string, unknown>): z.output<T> {
  const parsed = schema.safeParse(environment);
  if (parsed.success) return parsed.data;
  // The variable is the first step of the path (a list variable adds the item's index).
  const variableOf = (i: z.core.$ZodIssue): string => String(i.path[0] ?? '');
  const problems = parsed.error.issues.map((i) => `${variableOf(i)}: ${i.message}`);
  throw invalid(`invalid configuration: ${problems.join('; ')}`, [
    ...new Set(parsed.error.issues.map(variableOf)),
  ]);
}

function invalid(message: string, variables: string[]): AppError {
  return new AppError(PlatformErrorCodes.CFG_INVALID, message, { context: { variables } });
}

function configFrom(e: SharedEnv): Config {
  const usesSasl = e.KAFKA_SECURITY_PROTOCOL.startsWith('SASL');
  const usesTls = e.KAFKA_SECURITY_PROTOCOL.endsWith('SSL');
  if (usesSasl && (e.KAFKA_SASL_USERNAME === undefined || e.KAFKA_SASL_PASSWORD === undefined)) {
    throw invalid(
      `invalid configuration: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SECURITY_PROTOCOL is ${e.KAFKA_SECURITY_PROTOCOL}`,
      ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'],
    );
  }
  const headersTimeoutMs =
    e.HTTP_HEADERS_TIMEOUT_MS ??
    Math.min(DEFAULT_HTTP_SETTINGS.headersTimeoutMs, e.HTTP_REQUEST_TIMEOUT_MS);
  if (headersTimeoutMs > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw invalid(
      `invalid configuration: HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${e.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`,
      ['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS'],
    );
  }
  const auth = authFrom(e);
  const kafka: KafkaSettings = {
    clientId: e.KAFKA_CLIENT_ID,
    bootstrapServers: e.KAFKA_BOOTSTRAP_SERVERS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    consumerGroup: e.KAFKA_CONSUMER_GROUP,
    inventoryConsumerGroup: e.INVENTORY_CONSUMER_GROUP,
    inventoryTopic: e.KAFKA_INVENTORY_TOPIC,
    salesTopic: e.KAFKA_SALES_TOPIC,
    autoOffsetReset: e.KAFKA_AUTO_OFFSET_RESET,
    enableAutoCommit: e.KAFKA_ENABLE_AUTO_COMMIT,
    topicPartitions: e.KAFKA_TOPIC_PARTITIONS,
    topicReplicationFactor: e.KAFKA_TOPIC_REPLICATION_FACTOR,
    sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
    consumerOrdering: e.KAFKA_CONSUMER_ORDERING,
  };
  if (usesSasl) {
    kafka.sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM,
      username: e.KAFKA_SASL_USERNAME ?? '',
      password: e.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  if (usesTls) {
    kafka.tls = {};
    if (e.KAFKA_SSL_CA_FILE !== undefined) kafka.tls.caFile = e.KAFKA_SSL_CA_FILE;
    if (e.KAFKA_SSL_CERT_FILE !== undefined) kafka.tls.certFile = e.KAFKA_SSL_CERT_FILE;
    if (e.KAFKA_SSL_KEY_FILE !== undefined) kafka.tls.keyFile = e.KAFKA_SSL_KEY_FILE;
  }
  return {
    kafka,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    outboxPollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
    consumerLagIntervalMs: e.CONSUMER_LAG_INTERVAL_MS,
    http: {
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    auth,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
    tracing: tracingFrom(e),
    ...(e.SCHEMA_REGISTRY_URL === undefined ? {} : { schemaRegistryUrl: e.SCHEMA_REGISTRY_URL }),
  };
}

/**
 * Off unless OTEL_TRACES_EXPORTER names an exporter: unlike the SDK's own default (`otlp`), a
 * service started without the variable sends nothing anywhere and pays nothing for tracing.
 */
function tracingFrom(e: SharedEnv): TracingSettings {
  const named = e.OTEL_TRACES_EXPORTER ?? [];
  const exporters = e.OTEL_SDK_DISABLED || named.includes('none') ? [] : named;
  return {
    exporters: exporters.filter((x) => x !== 'none'),
    ...(e.OTEL_SERVICE_NAME === undefined ? {} : { serviceName: e.OTEL_SERVICE_NAME }),
  };
}

function authFrom(e: SharedEnv): AuthSettings {
  const mode = e.AUTH_MODE ?? (e.AUTH_ISSUER_URL === undefined ? 'dev' : 'oidc');
  if (mode === 'oidc' && e.AUTH_ISSUER_URL === undefined) {
    throw invalid('invalid configuration: AUTH_MODE=oidc needs AUTH_ISSUER_URL', [
      'AUTH_ISSUER_URL',
    ]);
  }
  if (mode !== 'oidc' && e.AUTH_ISSUER_URL !== undefined) {
    throw invalid(
      `invalid configuration: AUTH_ISSUER_URL is set but AUTH_MODE is ${mode}: unset one of them`,
      ['AUTH_MODE', 'AUTH_ISSUER_URL'],
    );
  }
  return {
    mode,
    ...(e.AUTH_ISSUER_URL === undefined ? {} : { issuerUrl: e.AUTH_ISSUER_URL }),
    audience: e.AUTH_AUDIENCE,
    tenantClaim: e.AUTH_TENANT_CLAIM,
    clockSkewSeconds: e.AUTH_CLOCK_SKEW_SECONDS,
    openMetrics: e.AUTH_OPEN_METRICS,
  };
}
