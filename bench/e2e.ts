/**
 * `e2e`: both services on real ports, driven over HTTP: as their own processes on PostgreSQL (as
 * deployed), in this process on PGlite (in memory, so it cannot be shared with a child). (a) Throughput: a closed
 * loop of C clients posting -1 stock adjustments; every adjustment emits inventory.low_stock
 * (reorder level far above stock), and Sales must catch up. (b) Latency at a fixed open-loop rate:
 * per low-stock event, Sales `alert_history.at` minus Inventory `events.occurred_at`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { inventoryService, inventorySettings } from '../src/inventory/index.ts';
import type { InventoryDB } from '../src/inventory/index.ts';
import { buildService, createProducer, serviceConsumer } from '../src/messaging/index.ts';
import { createMetricsRegistry, loadServiceConfig } from '../src/platform/index.ts';
import { benchAuth } from './auth.ts';
import type { BenchAuth } from './auth.ts';
import { createHttpClient, type HttpClient } from './http-client.ts';
import { cpuSecondsOf, profileShares } from './cpu-profile.ts';
import {
  sayTracingRatio,
  tracingEnv,
  tracingLabel,
  zipkinCpuSeconds,
  type TracingVariant,
} from './tracing.ts';
import type { SalesDB } from '../src/sales/index.ts';
import { benchConfig, buildBenchSales, processedCount } from './sales-app.ts';
import {
  createNamedTopic,
  fmt,
  openBenchDatabase,
  percentile,
  say,
  spread,
  tenantOf,
  uniqueName,
  waitFor,
  type BenchContext,
  type BenchDatabase,
  type Engine,
} from './support.ts';

const PRODUCTS_PER_RUN = 200;
const CONCURRENCY = 32;
const RATE_PER_SEC = 100;
const CATCH_UP_TIMEOUT_MS = 240_000;

interface System {
  /** Low-stock (or other) events Sales has processed so far. */
  processed(eventType: string): Promise<number>;
  inventoryDb: BenchDatabase<InventoryDB>;
  salesDb: BenchDatabase<SalesDB>;
  inventoryUrl: string;
  http: HttpClient;
  /** Headers acting for a tenant (a token, or X-Tenant-ID with AUTH_MODE=none). */
  headers(tenant: string): Record<string, string>;
  /** Products posted so far, for the catch-up check. */
  productsCreated: number;
  /**
   * CPU seconds both services have used so far (user + system), when they are processes: the cost
   * of a feature per adjustment, which the machine's noise disturbs far less than a rate.
   */
  cpuSeconds?(): number;
  close(): Promise<void>;
}

interface Product {
  id: string;
  tenantId: string;
}

interface Adjustment {
  status: number;
  lowStockId?: string;
  ms: number;
}

export async function runE2e(ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 3 : 10;
  say(`\n== e2e: HTTP → Inventory → Kafka → Sales ==`);
  say(
    `setup: on PostgreSQL each service is its own process (src/<service>/main.ts); on PGlite (in memory) both apps run in this process; production defaults (relay woken after each commit, poll 1000 ms,` +
      ` consumer batch 500), listening on 127.0.0.1 ephemeral ports, fresh 3-partition topics;` +
      ` ${PRODUCTS_PER_RUN} new products per run over 10 tenants, stock 1,000,000, reorder level 1,000,000,000,` +
      ` so every -1 adjustment emits stock_adjusted + low_stock; one system per engine, runs one after another on it.`,
  );
  say(
    `(a) closed loop, C=${CONCURRENCY} clients (node:http, keep-alive), ${seconds} s: adjustments/s = HTTP 201s / s; catch-up = end of load` +
      ` until Sales' inbox holds every low_stock event. (b) open loop at ${RATE_PER_SEC}/s for ${seconds} s:` +
      ` latency = Sales alert_history.at − Inventory events.occurred_at (both taken inside their transactions,` +
      ` just before commit; one machine clock).`,
  );
  say('  note: the load generator shares the 2 cores with both services, Kafka and PostgreSQL.');

  for (const engine of ctx.engines) {
    // Tracing and console variants need each service in its own process (the SDK is per
    // process; the console reads the services over HTTP): PostgreSQL.
    const variants: readonly Variant[] =
      engine === 'postgres'
        ? [...ctx.tracing, ...(ctx.console ? ['console' as const] : [])]
        : ['off'];
    const systems = new Map<Variant, System>();
    try {
      for (const variant of variants) {
        systems.set(variant, await startSystem(ctx, engine, variant));
      }
      await measureE2e(ctx, engine, systems, seconds);
    } finally {
      for (const system of systems.values()) await system.close();
    }
    if (variants.includes('zipkin')) await profileTracingOff(ctx, engine, seconds);
  }
}

/** Where the tracing code is: what runs, with tracing off, only because tracing exists. */
const TRACING_CODE =
  /\/src\/(platform|messaging)\/tracing\.ts$|\/src\/platform\/http\/tracing\.ts$|\/node_modules\/@opentelemetry\//;

/**
 * Tracing off, profiled: one more system with tracing off whose services run under V8's sampling
 * profiler, loaded as in (a); the share of their CPU samples spent in tracing code is what tracing
 * costs a deployment that leaves it off (each helper returns at its first line, tracingOn()).
 * Not one of the measured systems above: the profiler's own cost would skew their ratio.
 */
async function profileTracingOff(ctx: BenchContext, engine: Engine, seconds: number) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-cpu-prof-'));
  try {
    const system = await startSystem(ctx, engine, 'off', {
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=200`,
    });
    try {
      const products = await createProducts(system, PRODUCTS_PER_RUN);
      await caughtUp(system, 'inventory.product_created');
      const before = await system.processed('inventory.low_stock');
      const { results } = await closedLoop(system, products, CONCURRENCY, seconds);
      const ok = results.filter((r) => r.status === 201).length;
      await waitFor(
        'Sales caught up',
        async () => (await system.processed('inventory.low_stock')) >= before + ok,
        CATCH_UP_TIMEOUT_MS,
      );
    } finally {
      // The profiles are written as the processes exit.
      await system.close();
    }
    const shares = await profileShares(dir, (url) => TRACING_CODE.test(url));
    const samples = shares.reduce((n, s) => n + s.samples, 0);
    const matching = shares.reduce((n, s) => n + s.matching, 0);
    const share = (100 * matching) / Math.max(samples, 1);
    say(
      `  ${engine} [tracing off, profiled]: ${matching} of ${samples} CPU samples of both services (every 200 µs, ${seconds} s of load and the catch-up) in tracing code` +
        ` (src/platform/tracing.ts, src/messaging/tracing.ts, src/platform/http/tracing.ts, @opentelemetry/*): ${share.toFixed(3)} %`,
    );
    for (const s of shares) {
      say(
        `    ${s.file}: ${s.matching}/${s.samples}` +
          (s.top.length === 0 ? '' : ` (${s.top.map(([f, n]) => `${f} ${n}`).join(', ')})`),
      );
    }
    ctx.record({
      section: 'e2e',
      engine,
      metric: "tracing off: share of the services' CPU samples in tracing code",
      unit: '%',
      values: [share],
      target: { op: '<', value: 2 },
      setup: { seconds, concurrency: CONCURRENCY, samples, matching },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What a system runs beside the plain services: nothing ('off'), tracing exporting to Zipkin
 * ('zipkin'), or the operator's console polling them ('console', tracing off).
 */
type Variant = TracingVariant | 'console';

const variantLabel = (variant: Variant): string =>
  variant === 'console' ? 'the console polling every 1 s (tracing off)' : tracingLabel(variant);

/** Series per variant, filled rep by rep: the variants alternate so that noise hits them alike. */
function series(systems: Map<Variant, System>): Map<Variant, number[]> {
  return new Map([...systems.keys()].map((v) => [v, []]));
}

async function measureE2e(
  ctx: BenchContext,
  engine: Engine,
  systems: Map<Variant, System>,
  seconds: number,
): Promise<void> {
  const label = (variant: Variant) => (systems.size > 1 ? ` [${variantLabel(variant)}]` : '');
  const throughput = series(systems);
  const catchUp = series(systems);
  const cpuPerAdjustment = series(systems);
  const zipkinCpu: number[] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    for (const [variant, system] of systems) {
      const products = await createProducts(system, PRODUCTS_PER_RUN);
      await caughtUp(system, 'inventory.product_created');
      const before = await system.processed('inventory.low_stock');
      const cpuBefore = system.cpuSeconds?.();
      const zipkinBefore = variant === 'console' ? undefined : await zipkinCpuSeconds(variant);
      const { results, elapsed } = await closedLoop(system, products, CONCURRENCY, seconds);
      const loadEnd = performance.now();
      const ok = results.filter((r) => r.status === 201);
      const lowStock = ok.filter((r) => r.lowStockId !== undefined).length;
      if (lowStock !== ok.length)
        throw new Error(`${ok.length - lowStock} adjustments without low_stock`);
      await waitFor(
        'Sales caught up',
        async () => (await system.processed('inventory.low_stock')) >= before + lowStock,
        CATCH_UP_TIMEOUT_MS,
      );
      const behind = (performance.now() - loadEnd) / 1000;
      const rate = ok.length / elapsed;
      // Until Sales caught up: the CPU of every adjustment's whole path, both services.
      const cpuMs =
        cpuBefore === undefined
          ? undefined
          : ((system.cpuSeconds!() - cpuBefore) * 1000) / ok.length;
      if (cpuMs !== undefined) cpuPerAdjustment.get(variant)!.push(cpuMs);
      const zipkinAfter = variant === 'console' ? undefined : await zipkinCpuSeconds(variant);
      const zipkinMs =
        zipkinBefore === undefined || zipkinAfter === undefined
          ? undefined
          : ((zipkinAfter - zipkinBefore) * 1000) / ok.length;
      if (zipkinMs !== undefined) zipkinCpu.push(zipkinMs);
      throughput.get(variant)!.push(rate);
      catchUp.get(variant)!.push(behind);
      const statuses = countBy(results.map((r) => r.status));
      const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
      say(
        `  ${engine}${label(variant)} (a) run ${rep}: ${fmt(rate)} adjustments/s (${ok.length} in ${elapsed.toFixed(1)} s;` +
          ` statuses ${JSON.stringify(statuses)}; HTTP p50 ${fmt(percentile(ms, 50))} ms p99 ${fmt(percentile(ms, 99))} ms);` +
          ` Sales caught up ${behind.toFixed(2)} s after the load ended` +
          (cpuMs === undefined ? '' : `; services' CPU ${cpuMs.toFixed(2)} ms per adjustment`) +
          (zipkinMs === undefined ? '' : `; Zipkin's CPU ${zipkinMs.toFixed(2)} ms per adjustment`),
      );
    }
  }
  for (const variant of systems.keys()) {
    const rates = throughput.get(variant)!;
    ctx.record({
      section: 'e2e',
      engine,
      metric: `adjustments/s (C=${CONCURRENCY})${label(variant)}`,
      unit: 'adj/s',
      values: rates,
      ...(engine === 'postgres' ? { target: { op: '>=' as const, value: 500 } } : {}),
      setup: {
        seconds,
        concurrency: CONCURRENCY,
        productsPerRun: PRODUCTS_PER_RUN,
        tracing: variant,
      },
    });
    ctx.record({
      section: 'e2e',
      engine,
      metric: `Sales catch-up after load${label(variant)}`,
      unit: 's',
      values: catchUp.get(variant)!,
      setup: { seconds, concurrency: CONCURRENCY, tracing: variant },
    });
    say(
      `  ${engine}${label(variant)} (a): ${spread(rates)} adjustments/s; catch-up ${spread(catchUp.get(variant)!)} s`,
    );
  }
  for (const [variant, values] of cpuPerAdjustment) {
    if (values.length === 0) continue;
    ctx.record({
      section: 'e2e',
      engine,
      metric: `services' CPU per adjustment${label(variant)}`,
      unit: 'ms',
      values,
      setup: { seconds, concurrency: CONCURRENCY, tracing: variant },
    });
  }
  sayTracingRatio(`  ${engine} (a) adjustments/s`, throughput);
  sayTracingRatio(`  ${engine} (a) services' CPU ms per adjustment`, cpuPerAdjustment, false);
  const console_ = ['console', 'the console polling'] as const;
  sayTracingRatio(`  ${engine} (a) adjustments/s`, throughput, true, ...console_);
  sayTracingRatio(
    `  ${engine} (a) services' CPU ms per adjustment`,
    cpuPerAdjustment,
    false,
    ...console_,
  );
  if (zipkinCpu.length > 0) {
    say(
      `  ${engine} (a) Zipkin's own CPU (the trace backend, on the same cores) per adjustment: ${spread(zipkinCpu)} ms`,
    );
  }

  const quantiles = [50, 95, 99, 100] as const;
  const latency = new Map([...systems.keys()].map((v) => [v, quantiles.map(() => [] as number[])]));
  for (let rep = 1; rep <= ctx.reps; rep++) {
    for (const [variant, system] of systems) {
      const products = await createProducts(system, PRODUCTS_PER_RUN);
      await caughtUp(system, 'inventory.product_created');
      const before = await system.processed('inventory.low_stock');
      const { results, lateStarts, sendSeconds } = await openLoop(
        system,
        products,
        RATE_PER_SEC,
        seconds,
      );
      const ids = results.flatMap((r) => (r.lowStockId === undefined ? [] : [r.lowStockId]));
      await waitFor(
        'Sales caught up',
        async () => (await system.processed('inventory.low_stock')) >= before + ids.length,
        CATCH_UP_TIMEOUT_MS,
      );
      const latencies = await eventLatencies(system, ids);
      if (latencies.length !== ids.length) {
        throw new Error(`latency found for ${latencies.length} of ${ids.length} events`);
      }
      latencies.sort((a, b) => a - b);
      const values = quantiles.map((q) => percentile(latencies, q));
      values.forEach((v, i) => latency.get(variant)![i]!.push(v));
      const [p50, p95, p99, max] = values as [number, number, number, number];
      const failed = results.length - results.filter((r) => r.status === 201).length;
      say(
        `  ${engine}${label(variant)} (b) run ${rep}: ${latencies.length} events; p50 ${fmt(p50)} ms, p95 ${fmt(p95)} ms,` +
          ` p99 ${fmt(p99)} ms, max ${fmt(max)} ms (non-201: ${failed}; achieved send rate` +
          ` ${fmt(results.length / sendSeconds)}/s, ${lateStarts} sends >5 ms late: the generator shares the event loop)`,
      );
    }
  }
  for (const [variant, perQuantile] of latency) {
    quantiles.forEach((q, i) => {
      const name = q === 100 ? 'max' : `p${q}`;
      ctx.record({
        section: 'e2e',
        engine,
        metric: `latency ${name} @${RATE_PER_SEC}/s${label(variant)}`,
        unit: 'ms',
        values: [...perQuantile[i]!],
        ...(q === 99 ? { target: { op: '<' as const, value: 100 } } : {}),
        setup: { seconds, ratePerSec: RATE_PER_SEC, tracing: variant },
      });
    });
    say(
      `  ${engine}${label(variant)} (b): p50 ${spread(perQuantile[0]!)} ms; p95 ${spread(perQuantile[1]!)} ms; p99 ${spread(perQuantile[2]!)} ms; max ${spread(perQuantile[3]!)} ms`,
    );
  }
}

async function startSystem(
  ctx: BenchContext,
  engine: Engine,
  variant: Variant,
  extraEnv: Record<string, string> = {},
): Promise<System> {
  const auth = await benchAuth();
  say(
    `  authentication: ${auth.mode === 'none' ? 'none (AUTH_MODE=none, X-Tenant-ID)' : 'development issuer, ES256 bearer tokens'}; ${variantLabel(variant)}`,
  );
  const tracing = await tracingEnv(variant === 'console' ? 'off' : variant);
  return engine === 'postgres'
    ? startProcesses(ctx, auth, { ...tracing, ...extraEnv }, variant === 'console')
    : startInProcess(ctx, engine, auth);
}

/**
 * PostgreSQL: each service as its own process (src/<service>/main.ts, as deployed), so that the two
 * services and this load generator do not share one event loop.
 */
async function startProcesses(
  ctx: BenchContext,
  auth: BenchAuth,
  tracing: Record<string, string>,
  withConsole: boolean,
): Promise<System> {
  const inventoryTopic = uniqueName('bench-e2e-inventory-events');
  const salesTopic = uniqueName('bench-e2e-sales-events');
  await createNamedTopic(ctx, inventoryTopic, 3);
  // Three partitions: Sales declares its dead-letter topic like the others and refuses a mismatch.
  await createNamedTopic(ctx, `${inventoryTopic}.dlq`, 3);
  await createNamedTopic(ctx, salesTopic, 3);
  const inventoryDb = await openBenchDatabase<InventoryDB>(
    'postgres',
    'inventory',
    ctx.postgresUrl,
  );
  const salesDb = await openBenchDatabase<SalesDB>('postgres', 'sales', ctx.postgresUrl);
  const withSchema = (schema: string | undefined) =>
    `${ctx.postgresUrl}${ctx.postgresUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema ?? 'public'}`)}`;
  const [inventoryPort, salesPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVERS: ctx.conn.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: inventoryTopic,
    KAFKA_SALES_TOPIC: salesTopic,
    KAFKA_CONSUMER_GROUP: uniqueName('bench-e2e-group'),
    INVENTORY_CONSUMER_GROUP: uniqueName('bench-e2e-inventory-group'),
    INVENTORY_DATABASE_URL: withSchema(inventoryDb.schema),
    SALES_DATABASE_URL: withSchema(salesDb.schema),
    INVENTORY_PORT: String(inventoryPort),
    SALES_PORT: String(salesPort),
    LOG_LEVEL: 'warn',
    AUTH_MODE: auth.mode,
    DATA_DIR: auth.dataDir,
    ...tracing,
  };
  const children = ['inventory', 'sales'].map((name) =>
    spawn(process.execPath, [`src/${name}/main.ts`], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const inventoryUrl = `http://127.0.0.1:${inventoryPort}`;
  const salesUrl = `http://127.0.0.1:${salesPort}`;
  // --console: the operator's console runs beside them, polling every second (a third of its
  // default period), to show what it costs the services. Its own CPU is not counted in the
  // services' CPU per adjustment.
  const operatorConsole = withConsole
    ? spawn(process.execPath, ['src/console/main.ts'], {
        env: {
          ...env,
          CONSOLE_PORT: String(await freePort()),
          CONSOLE_INVENTORY_URL: inventoryUrl,
          CONSOLE_SALES_URL: salesUrl,
          CONSOLE_POLL_MS: '1000',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    : undefined;
  const stopChildren = () =>
    Promise.all(
      [...children, ...(operatorConsole === undefined ? [] : [operatorConsole])].map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve(null);
            c.once('exit', resolve);
            c.kill('SIGTERM');
          }),
      ),
    );
  try {
    for (const url of [inventoryUrl, salesUrl]) {
      await waitFor(
        `${url} ready`,
        async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true,
        60_000,
      );
    }
  } catch (err) {
    await stopChildren();
    await Promise.all([inventoryDb.close(), salesDb.close()]);
    throw err;
  }
  const http = createHttpClient(CONCURRENCY);
  say(
    `  postgres: Inventory and Sales as processes (src/<service>/main.ts), on PostgreSQL schemas ${inventoryDb.schema} and ${salesDb.schema}${operatorConsole === undefined ? '' : '; the console beside them, polling every 1 s (--console)'}`,
  );
  return {
    processed: (eventType) => scrapeProcessed(salesUrl, eventType, auth.headers()),
    cpuSeconds: () => children.reduce((sum, c) => sum + cpuSecondsOf(c.pid), 0),
    inventoryDb,
    salesDb,
    inventoryUrl,
    http,
    headers: (tenant) => auth.headers(tenant),
    productsCreated: 0,
    async close() {
      http.close();
      await stopChildren();
      await inventoryDb.close();
      await salesDb.close();
    },
  };
}

async function scrapeProcessed(
  salesUrl: string,
  eventType: string,
  headers: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`${salesUrl}/metrics`, { headers })).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('erp_consumer_events_total{') &&
      line.includes(`event_type="${eventType}"`) &&
      line.includes('outcome="processed"')
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startInProcess(ctx: BenchContext, engine: Engine, auth: BenchAuth): Promise<System> {
  const inventoryTopic = uniqueName('bench-e2e-inventory-events');
  const salesTopic = uniqueName('bench-e2e-sales-events');
  await createNamedTopic(ctx, inventoryTopic, 3);
  await createNamedTopic(ctx, `${inventoryTopic}.dlq`, 1);
  await createNamedTopic(ctx, salesTopic, 3);
  await createNamedTopic(ctx, `${salesTopic}.dlq`, 1);
  const config = benchConfig({
    bootstrapServers: ctx.conn.bootstrapServers,
    inventoryTopic,
    salesTopic,
    consumerGroup: uniqueName('bench-e2e-group'),
  });
  const inventoryDb = await openBenchDatabase<InventoryDB>(engine, 'inventory', ctx.postgresUrl);
  const salesDb = await openBenchDatabase<SalesDB>(engine, 'sales', ctx.postgresUrl);
  const producer = createProducer({
    clientId: 'bench-inventory',
    bootstrapServers: ctx.conn.bootstrapServers,
  });
  // Inventory consumes the sales topic too (the order saga), in a group of its own.
  const inventoryConfig = {
    ...config.config,
    kafka: { ...config.config.kafka, inventoryConsumerGroup: uniqueName('bench-e2e-inventory') },
  };
  const inventorySettingsValue = loadServiceConfig(inventorySettings, {}).settings;
  const inventory = buildService(inventoryService, {
    config: inventoryConfig,
    settings: inventorySettingsValue,
    database: inventoryDb.database,
    producer,
    consumer: serviceConsumer(inventoryService, inventorySettingsValue, inventoryConfig, {
      databaseKind: inventoryDb.database.kind,
      logger: ctx.logger,
    }),
    logger: ctx.logger,
    metrics: createMetricsRegistry('inventory-service', false),
    authenticator: auth.authenticator,
  });
  const sales = buildBenchSales(config, salesDb.database, ctx.logger, auth.authenticator);
  await Promise.all([inventory.start(), sales.app.start()]);
  const address = await inventory.http.listen({ host: '127.0.0.1', port: 0 });
  await sales.app.http.listen({ host: '127.0.0.1', port: 0 });
  say(`  ${engine}: Inventory on ${inventoryDb.where}, Sales on ${salesDb.where}`);
  const http = createHttpClient(CONCURRENCY);
  return {
    processed: (eventType) => processedCount(sales.metrics, eventType),
    inventoryDb,
    salesDb,
    inventoryUrl: address,
    http,
    headers: (tenant) => auth.headers(tenant),
    productsCreated: 0,
    async close() {
      http.close();
      await inventory.stop().catch(() => {});
      await sales.close();
      await producer.close().catch(() => {});
      await inventoryDb.close();
      await salesDb.close();
    },
  };
}

async function createProducts(system: System, count: number): Promise<Product[]> {
  const products: Product[] = [];
  const batch = 16;
  for (let i = 0; i < count; i += batch) {
    const created = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
        const tenantId = tenantOf(i + j);
        const res = await system.http.post<{ id?: string }>(
          `${system.inventoryUrl}/api/v1/products`,
          system.headers(tenantId),
          {
            sku: `E2E-${randomUUID().slice(0, 13)}`,
            name: `Bench product ${i + j}`,
            category: 'electronics',
            unit_price: 199.99,
            quantity_on_hand: 1_000_000,
            reorder_level: 1_000_000_000,
            reorder_quantity: 500,
            location: 'Warehouse A',
          },
        );
        const body = res.body;
        if (res.status !== 201 || body.id === undefined) {
          throw new Error(`create product: HTTP ${res.status} ${JSON.stringify(body)}`);
        }
        return { id: body.id, tenantId };
      }),
    );
    products.push(...created);
  }
  return products;
}

/** Waits until Sales applied every product_created posted so far (so runs start level). */
async function caughtUp(system: System, eventType: string): Promise<void> {
  system.productsCreated += PRODUCTS_PER_RUN;
  const expected = system.productsCreated;
  await waitFor(
    `Sales applied ${expected} ${eventType}`,
    async () => (await system.processed(eventType)) >= expected,
    CATCH_UP_TIMEOUT_MS,
  );
}

async function adjust(system: System, product: Product): Promise<Adjustment> {
  const started = performance.now();
  const res = await system.http.post<{ events?: { event_id: string; event_type: string }[] }>(
    `${system.inventoryUrl}/api/v1/products/${product.id}/stock-adjustments`,
    system.headers(product.tenantId),
    { quantity_change: -1, reason: 'sale' },
  );
  const body = res.body;
  const ms = performance.now() - started;
  const lowStockId = body.events?.find((e) => e.event_type === 'inventory.low_stock')?.event_id;
  return lowStockId === undefined
    ? { status: res.status, ms }
    : { status: res.status, ms, lowStockId };
}

async function closedLoop(
  system: System,
  products: Product[],
  concurrency: number,
  seconds: number,
): Promise<{ results: Adjustment[]; elapsed: number }> {
  const results: Adjustment[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const product = products[Math.floor(Math.random() * products.length)]!;
      try {
        results.push(await adjust(system, product));
      } catch {
        results.push({ status: 0, ms: 0 });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Requests in flight at the deadline finish and count; the elapsed time includes them.
  return { results, elapsed: (performance.now() - started) / 1000 };
}

async function openLoop(
  system: System,
  products: Product[],
  ratePerSec: number,
  seconds: number,
): Promise<{ results: Adjustment[]; lateStarts: number; sendSeconds: number }> {
  const total = ratePerSec * seconds;
  const intervalMs = 1000 / ratePerSec;
  const pending: Promise<Adjustment>[] = [];
  const started = performance.now();
  let lateStarts = 0;
  for (let i = 0; i < total; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    else if (wait < -5) lateStarts++;
    const product = products[i % products.length]!;
    pending.push(adjust(system, product).catch(() => ({ status: 0, ms: 0 })));
  }
  const sendSeconds = (performance.now() - started) / 1000;
  return { results: await Promise.all(pending), lateStarts, sendSeconds };
}

/** Milliseconds from Inventory's events.occurred_at to Sales' alert_history.at, per event id. */
async function eventLatencies(system: System, ids: string[]): Promise<number[]> {
  const occurred = await sql<{ event_id: string; at: Date }>`
    SELECT event_id, occurred_at AS at FROM events WHERE event_id = ANY(${ids}::text[])`.execute(
    system.inventoryDb.database.db,
  );
  const alerted = await sql<{ event_id: string; at: Date }>`
    SELECT event_id, at FROM alert_history WHERE event_id = ANY(${ids}::text[])`.execute(
    system.salesDb.database.db,
  );
  const start = new Map(occurred.rows.map((r) => [r.event_id, new Date(r.at).getTime()]));
  const latencies: number[] = [];
  for (const row of alerted.rows) {
    const t0 = start.get(row.event_id);
    if (t0 !== undefined) latencies.push(new Date(row.at).getTime() - t0);
  }
  return latencies;
}

function countBy(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
