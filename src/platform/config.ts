/**
 * The one place that reads process.env. Every variable of the design document keeps its name
 * and default; the rest are ours. A bad value stops the process at start with a message that
 * names the variable (ERP_CFG_INVALID), never later in the middle of a request.
 */
import { z } from 'zod';
import { AppError } from './errors.ts';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const envSchema = z.object({
  // The design document's variables, with its defaults.
  KAFKA_BOOTSTRAP_SERVERS: z.string().trim().min(1).default('localhost:9092'),
  KAFKA_CONSUMER_GROUP: z.string().trim().min(1).default('sales-service-group'),
  KAFKA_INVENTORY_TOPIC: z.string().trim().min(1).default('inventory-events'),
  KAFKA_SALES_TOPIC: z.string().trim().min(1).default('sales-events'),
  KAFKA_AUTO_OFFSET_RESET: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['earliest', 'latest']))
    .default('earliest'),
  KAFKA_ENABLE_AUTO_COMMIT: bool.default(true),
  // Ours.
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('erp-events'),
  KAFKA_TOPIC_PARTITIONS: positiveInt.default(3),
  KAFKA_SESSION_TIMEOUT_MS: positiveInt.default(45_000),
  KAFKA_TOPIC_REPLICATION_FACTOR: positiveInt.default(1),
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
  KAFKA_SASL_USERNAME: optionalString,
  KAFKA_SASL_PASSWORD: optionalString,
  KAFKA_SSL_CA_FILE: optionalString,
  KAFKA_SSL_CERT_FILE: optionalString,
  KAFKA_SSL_KEY_FILE: optionalString,
  INVENTORY_PORT: port.default(3001),
  SALES_PORT: port.default(3002),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  INVENTORY_DATABASE_URL: optionalString,
  SALES_DATABASE_URL: optionalString,
  DATA_DIR: z.string().trim().min(1).default('.data'),
  DATABASE_POOL_SIZE: positiveInt.default(20),
  DATABASE_PREPARED_STATEMENTS: bool.default(true),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .default('info'),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
  OUTBOX_POLL_INTERVAL_MS: positiveInt.default(1_000),
  SALES_WEBHOOK_URL: optionalString,
});

export type Env = z.infer<typeof envSchema>;

export interface KafkaSettings {
  clientId: string;
  bootstrapServers: string[];
  consumerGroup: string;
  inventoryTopic: string;
  salesTopic: string;
  autoOffsetReset: 'earliest' | 'latest';
  enableAutoCommit: boolean;
  topicPartitions: number;
  topicReplicationFactor: number;
  /** Consumer session timeout: how long a dead Sales instance holds its partitions. */
  sessionTimeoutMs: number;
  sasl?: {
    mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN';
    username: string;
    password: string;
  };
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export interface Config {
  kafka: KafkaSettings;
  host: string;
  inventory: { port: number; databaseUrl?: string };
  sales: { port: number; databaseUrl?: string; webhookUrl?: string };
  dataDir: string;
  /** PostgreSQL connections per service: bounds how many commands commit at once. */
  databasePoolSize: number;
  /** Named prepared statements on PostgreSQL; off behind a pooler that cannot keep them (PgBouncer < 1.21 in transaction mode). */
  databasePreparedStatements: boolean;
  logLevel: Env['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  outboxPollIntervalMs: number;
}

/** Parses the environment once. Throws ERP_CFG_INVALID naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new AppError('ERP_CFG_INVALID', `invalid configuration: ${problems.join('; ')}`, {
      context: { variables: parsed.error.issues.map((i) => i.path.join('.')) },
    });
  }
  const e = parsed.data;
  const usesSasl = e.KAFKA_SECURITY_PROTOCOL.startsWith('SASL');
  const usesTls = e.KAFKA_SECURITY_PROTOCOL.endsWith('SSL');
  if (usesSasl && (e.KAFKA_SASL_USERNAME === undefined || e.KAFKA_SASL_PASSWORD === undefined)) {
    throw new AppError(
      'ERP_CFG_INVALID',
      `invalid configuration: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SECURITY_PROTOCOL is ${e.KAFKA_SECURITY_PROTOCOL}`,
      { context: { variables: ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] } },
    );
  }
  const kafka: KafkaSettings = {
    clientId: e.KAFKA_CLIENT_ID,
    bootstrapServers: e.KAFKA_BOOTSTRAP_SERVERS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    consumerGroup: e.KAFKA_CONSUMER_GROUP,
    inventoryTopic: e.KAFKA_INVENTORY_TOPIC,
    salesTopic: e.KAFKA_SALES_TOPIC,
    autoOffsetReset: e.KAFKA_AUTO_OFFSET_RESET,
    enableAutoCommit: e.KAFKA_ENABLE_AUTO_COMMIT,
    topicPartitions: e.KAFKA_TOPIC_PARTITIONS,
    topicReplicationFactor: e.KAFKA_TOPIC_REPLICATION_FACTOR,
    sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
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
  const inventory: Config['inventory'] = { port: e.INVENTORY_PORT };
  if (e.INVENTORY_DATABASE_URL !== undefined) inventory.databaseUrl = e.INVENTORY_DATABASE_URL;
  const sales: Config['sales'] = { port: e.SALES_PORT };
  if (e.SALES_DATABASE_URL !== undefined) sales.databaseUrl = e.SALES_DATABASE_URL;
  if (e.SALES_WEBHOOK_URL !== undefined) sales.webhookUrl = e.SALES_WEBHOOK_URL;
  return {
    kafka,
    host: e.HOST,
    inventory,
    sales,
    dataDir: e.DATA_DIR,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    outboxPollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
  };
}
