/**
 * The order saga: orders/s from placement to CONFIRMED, and the p50/p99 latency placement →
 * confirmation at a steady rate. Both services in this process (as test/support/system.ts wires
 * them: the kit's relay, inbox consumer and outbox on each side) on fresh topics and databases;
 * orders go in through Sales' HTTP routes (app.inject: no sockets, so the figure is the saga's,
 * not the HTTP stack's). Latency comes from Sales' own clock: the order's created_at to the
 * `reserved` step of its history, so no two clocks are compared.
 */
import { sql } from 'kysely';
import { inventoryService } from '../src/inventory/index.ts';
import type { InventoryDB } from '../src/inventory/index.ts';
import {
  buildService,
  createProducer,
  ensureTopics,
  serviceConsumer,
  serviceTopics,
} from '../src/messaging/index.ts';
import type { Service } from '../src/messaging/index.ts';
import { createMetricsRegistry, headerTenancy, loadServiceConfig } from '../src/platform/index.ts';
import type { Database } from '../src/platform/index.ts';
import { salesService } from '../src/sales/index.ts';
import type { SalesDB } from '../src/sales/index.ts';
import {
  fmt,
  forEachEngine,
  openBenchDatabase,
  percentile,
  say,
  spread,
  uniqueName,
  waitFor,
} from './support.ts';
import type { BenchContext, Engine } from './support.ts';

const TENANT = 'bench-saga';
const CONCURRENCY = 32;

interface System {
  inventory: Service<unknown>;
  sales: Service<unknown>;
  salesDb: Database<SalesDB>;
  close(): Promise<void>;
}

async function startSystem(ctx: BenchContext, engine: Engine): Promise<System> {
  const env = {
    KAFKA_BOOTSTRAP_SERVERS: ctx.conn.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: uniqueName('bench-saga-inventory'),
    KAFKA_SALES_TOPIC: uniqueName('bench-saga-sales'),
    KAFKA_CONSUMER_GROUP: uniqueName('bench-saga-sales-group'),
    INVENTORY_CONSUMER_GROUP: uniqueName('bench-saga-inventory-group'),
    // Nothing times out during a run: the figure is the saga's speed, not its timeout.
    ORDER_SAGA_TIMEOUT_MS: '600000',
    RATE_LIMIT_MAX: '0',
    LOG_LEVEL: 'silent',
  };
  const inv = loadServiceConfig(inventoryService.settings, env);
  const sal = loadServiceConfig(salesService().settings, env);
  const { config } = inv;
  const topics = [
    ...serviceTopics(inventoryService, inv.settings, config),
    ...serviceTopics(salesService(), sal.settings, config),
  ];
  await ensureTopics(ctx.conn, topics);
  ctx.topics.push(...topics.map((t) => t.name));
  const inventoryDb = await openBenchDatabase<InventoryDB>(engine, 'inventory', ctx.postgresUrl);
  const salesDb = await openBenchDatabase<SalesDB>(engine, 'sales', ctx.postgresUrl);
  const producers = [
    createProducer({ ...ctx.conn, clientId: 'bench-saga-inventory' }),
    createProducer({ ...ctx.conn, clientId: 'bench-saga-sales' }),
  ] as const;
  const authenticator = headerTenancy();
  const inventory = buildService(inventoryService, {
    ...inv,
    database: inventoryDb.database,
    producer: producers[0],
    consumer: serviceConsumer(inventoryService, inv.settings, config, {
      databaseKind: inventoryDb.database.kind,
      logger: ctx.logger,
    }),
    logger: ctx.logger,
    metrics: createMetricsRegistry('inventory-service', false),
    authenticator,
  });
  const sales = buildService(salesService(), {
    ...sal,
    database: salesDb.database,
    producer: producers[1],
    consumer: serviceConsumer(salesService(), sal.settings, config, {
      databaseKind: salesDb.database.kind,
      logger: ctx.logger,
    }),
    logger: ctx.logger,
    metrics: createMetricsRegistry('sales-service', false),
    authenticator,
  });
  await Promise.all([inventory.start(), sales.start()]);
  return {
    inventory: inventory,
    sales: sales,
    salesDb: salesDb.database,
    async close() {
      await Promise.allSettled([inventory.stop(), sales.stop()]);
      await Promise.allSettled(producers.map((p) => p.close()));
      await Promise.allSettled([inventoryDb.close(), salesDb.close()]);
    },
  };
}

const headers = { 'x-tenant-id': TENANT };

async function createProduct(sys: System, onHand: number): Promise<string> {
  const res = await sys.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: {
      sku: uniqueName('SAGA'),
      name: 'Saga widget',
      category: 'bench',
      unit_price: 1,
      quantity_on_hand: onHand,
      reorder_level: 0,
      reorder_quantity: 1,
      location: 'A',
    },
  });
  if (res.statusCode !== 201) throw new Error(`create product: ${res.statusCode} ${res.body}`);
  const id = res.json<{ id: string }>().id;
  await waitFor(
    'Sales knows the product',
    async () =>
      (await sys.salesDb.db
        .selectFrom('products')
        .select('product_id')
        .where('product_id', '=', id)
        .executeTakeFirst()) !== undefined,
    30_000,
  );
  return id;
}

async function place(sys: System, productId: string): Promise<void> {
  const res = await sys.sales.http.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers,
    payload: { customer: 'bench', lines: [{ product_id: productId, quantity: 1 }] },
  });
  if (res.statusCode !== 201) throw new Error(`place order: ${res.statusCode} ${res.body}`);
}

async function confirmedCount(sys: System): Promise<number> {
  const r = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM orders WHERE status = 'CONFIRMED'`.execute(sys.salesDb.db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * One order confirmed before measuring: both consumer groups have joined and own their
 * partitions (a new group's first assignment takes seconds, which is not the saga's speed).
 */
async function warmUp(sys: System): Promise<void> {
  const productId = await createProduct(sys, 1);
  await place(sys, productId);
  await waitFor(
    'the warm-up order CONFIRMED',
    async () => (await confirmedCount(sys)) >= 1,
    60_000,
  );
}

/** Milliseconds from each order's placement to its confirmation (Sales' clock on both ends). */
async function latencies(sys: System, productId: string): Promise<number[]> {
  const r = await sql<{ ms: number }>`
    SELECT extract(epoch FROM (h.at - o.created_at)) * 1000 AS ms
    FROM orders o JOIN order_history h ON h.order_id = o.id AND h.step = 'reserved'
    WHERE EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.product_id = ${productId})`.execute(
    sys.salesDb.db,
  );
  return r.rows.map((row) => Number(row.ms)).sort((a, b) => a - b);
}

/** N orders placed CONCURRENCY at a time; orders/s from the first placement to the last CONFIRMED. */
async function throughput(ctx: BenchContext, engine: Engine, n: number): Promise<number> {
  const sys = await startSystem(ctx, engine);
  try {
    await warmUp(sys);
    const productId = await createProduct(sys, n);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          next++;
          await place(sys, productId);
        }
      }),
    );
    await waitFor('every order CONFIRMED', async () => (await confirmedCount(sys)) > n, 300_000);
    return n / ((performance.now() - started) / 1000);
  } finally {
    await sys.close();
  }
}

/** `rate` orders/s for `seconds`; p50 and p99 placement → confirmation. */
async function latencyAt(
  ctx: BenchContext,
  engine: Engine,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number }> {
  const sys = await startSystem(ctx, engine);
  try {
    const n = rate * seconds;
    await warmUp(sys);
    const productId = await createProduct(sys, n);
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(place(sys, productId));
    }
    await Promise.all(inFlight);
    await waitFor('every order CONFIRMED', async () => (await confirmedCount(sys)) > n, 300_000);
    const ms = await latencies(sys, productId);
    return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  } finally {
    await sys.close();
  }
}

export async function runSaga(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 500 : 2_000;
  const rate = 50;
  const seconds = ctx.quick ? 5 : 15;
  say(
    `\n== saga: orders placed → CONFIRMED (both services in process, HTTP via inject, ${CONCURRENCY} in flight; one 1-unit line each, one product) ==`,
  );
  await forEachEngine(ctx, async (engine) => {
    const values: number[] = [];
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      values.push(await throughput(ctx, engine, n));
      const l = await latencyAt(ctx, engine, rate, seconds);
      p50s.push(l.p50);
      p99s.push(l.p99);
      say(
        `${engine} run ${rep + 1}: ${fmt(values[rep]!)} orders/s (${n} orders); at ${rate}/s for ${seconds} s: p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms`,
      );
    }
    const setup = { orders: n, concurrency: CONCURRENCY, rate, seconds, products: 1 };
    ctx.record({
      section: 'saga',
      engine,
      metric: 'orders placed → CONFIRMED',
      unit: 'orders/s',
      values,
      setup,
    });
    ctx.record({
      section: 'saga',
      engine,
      metric: `p50 placement → confirmation at ${rate}/s`,
      unit: 'ms',
      values: p50s,
      setup,
    });
    ctx.record({
      section: 'saga',
      engine,
      metric: `p99 placement → confirmation at ${rate}/s`,
      unit: 'ms',
      values: p99s,
      setup,
    });
    say(`${engine}: ${spread(values)} orders/s; p99 ${spread(p99s)} ms`);
  });
}
