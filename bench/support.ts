/**
 * Shared plumbing of the benchmarks: engines (PGlite in memory, PostgreSQL in a schema of its
 * own), Kafka topics, statistics and the result records the summary is built from.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { sql } from 'kysely';
import pg from 'pg';
import { inventoryService } from '../src/inventory/index.ts';
import { ensureTopics, serviceMigrations } from '../src/messaging/index.ts';
import type { KafkaConnectionOptions, ServiceDefinition } from '../src/messaging/index.ts';
import { createLogger, loadServiceConfig, migrate, openDatabase } from '../src/platform/index.ts';
import type { Database, Logger, Migration } from '../src/platform/index.ts';
import { salesService } from '../src/sales/index.ts';

export type Engine = 'pglite' | 'postgres';

export interface Target {
  /** `>=` for throughputs, `<` for latencies. */
  op: '>=' | '<';
  value: number;
}

export interface Result {
  section: string;
  engine: Engine | 'java';
  metric: string;
  unit: string;
  values: number[];
  median: number;
  min: number;
  max: number;
  target?: Target;
  /** null when the metric has no target. */
  met: boolean | null;
  setup: Record<string, unknown>;
}

export interface BenchContext {
  quick: boolean;
  reps: number;
  engines: Engine[];
  postgresUrl: string;
  conn: KafkaConnectionOptions;
  logger: Logger;
  /** ['off'], or ['off', 'zipkin'] to measure with and without tracing (--tracing=zipkin). */
  tracing: readonly ('off' | 'zipkin')[];
  /** --console: e2e also measures the services with the operator's console polling them. */
  console: boolean;
  /** Adds a measurement to the summary (and prints nothing). */
  record(result: Omit<Result, 'median' | 'min' | 'max' | 'met'>): Result;
  /** Topics created by the run, deleted at its end. */
  topics: string[];
}

export const silentLogger: Logger = createLogger('bench', 'silent');

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile of values sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(result: Omit<Result, 'median' | 'min' | 'max' | 'met'>): Result {
  const med = median(result.values);
  const met =
    result.target === undefined
      ? null
      : result.target.op === '>='
        ? med >= result.target.value
        : med < result.target.value;
  return {
    ...result,
    median: med,
    min: Math.min(...result.values),
    max: Math.max(...result.values),
    met,
  };
}

/** 12,345 / 12.3 / 0.123: enough digits to compare, no more. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function spread(values: readonly number[]): string {
  return `median ${fmt(median(values))} (min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))}; runs: ${values.map(fmt).join(', ')})`;
}

export const say = (line: string): void => console.log(line);

export interface BenchDatabase<DB> {
  database: Database<DB>;
  /** Where the data lives, for the printed setup. */
  where: string;
  /** PostgreSQL only: the schema, so that a service process can be pointed at it. */
  schema?: string;
  close(): Promise<void>;
}

/** Every migration of a service, as the service kit runs them. */
export function migrationsOf<DB, S, E>(service: ServiceDefinition<DB, S, E>): Migration[] {
  const { config, settings } = loadServiceConfig(service.settings, {});
  return serviceMigrations(service, settings, config);
}

/**
 * A fresh migrated database: PGlite in memory (no dataDir), or PostgreSQL in a new schema that
 * `close()` drops.
 */
export async function openBenchDatabase<DB>(
  engine: Engine,
  migrations: 'inventory' | 'sales',
  postgresUrl: string,
  poolSize?: number,
): Promise<BenchDatabase<DB>> {
  const folder =
    migrations === 'inventory' ? migrationsOf(inventoryService) : migrationsOf(salesService());
  if (engine === 'pglite') {
    const database = await openDatabase<DB>({});
    await migrate(database, folder);
    return { database, where: 'PGlite in memory', close: () => database.close() };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const database = await openDatabase<DB>({
    url: postgresUrl,
    schema,
    ...(poolSize === undefined ? {} : { poolSize }),
  });
  await migrate(database, folder);
  return {
    database,
    where: `PostgreSQL schema ${schema}`,
    schema,
    async close() {
      await database.close();
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** `PostgreSQL 15.20` or `PGlite 0.5.16 (PostgreSQL 17.5)`. */
export async function engineVersion(engine: Engine, postgresUrl: string): Promise<string> {
  const database = await openDatabase<unknown>(engine === 'pglite' ? {} : { url: postgresUrl });
  try {
    const r = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(
      database.db,
    );
    const server = r.rows[0]?.v ?? '?';
    if (engine === 'postgres') return `PostgreSQL ${server}`;
    return `PGlite ${packageVersion('@electric-sql/pglite')} (PostgreSQL ${server}, in memory)`;
  } finally {
    await database.close();
  }
}

/** Why PostgreSQL cannot be used, or null when it answers. */
export async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createTopic(
  ctx: BenchContext,
  prefix: string,
  partitions: number,
): Promise<string> {
  const name = uniqueName(prefix);
  await createNamedTopic(ctx, name, partitions);
  return name;
}

export async function createNamedTopic(
  ctx: BenchContext,
  name: string,
  partitions: number,
): Promise<void> {
  await ensureTopics(ctx.conn, [{ name, partitions, replicationFactor: 1 }]);
  ctx.topics.push(name);
}

/** Best effort: the broker would keep them otherwise (they are large). */
export async function deleteTopics(conn: KafkaConnectionOptions, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Admin({ clientId: conn.clientId, bootstrapBrokers: conn.bootstrapServers });
  try {
    await admin.deleteTopics({ topics });
  } catch {
    // Left for `kafka-topics --delete`; not worth failing the run over.
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Polls `check` every `everyMs` until true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/** Runs `body` on every engine in turn. */
export async function forEachEngine(
  ctx: BenchContext,
  body: (engine: Engine) => Promise<void>,
): Promise<void> {
  for (const engine of ctx.engines) await body(engine);
}

export const TENANTS = 10;
export const tenantOf = (i: number): string => `bench-tenant-${i % TENANTS}`;

/** The installed version of a dependency, read from its package.json in node_modules. */
export function packageVersion(name: string): string {
  try {
    const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}
