/**
 * `replay`: `npm run cli -- replay` over a topic of 100,000 inventory events as Inventory writes
 * them (1,000 products created, then sales, restocks and the low-stock events they cause), on PGlite: the shadow Sales
 * consumes them all and is compared with a live Sales database (PGlite in memory, holding nothing,
 * so every event counts as "not applied live": the comparison does its full work). Timed from the
 * call to its summary; memory sampled every 100 ms while it runs.
 */
import {
  computePriority,
  createEvent,
  encodeEvent,
  kafkaHeadersFor,
  messageKeyOf,
} from '../src/contract/index.ts';
import type { AnyEvent } from '../src/contract/index.ts';
import { runReplay } from '../src/cli/replay.ts';
import { createProducer } from '../src/messaging/kafka/index.ts';
import type { SalesDB } from '../src/sales/db.ts';
import { benchProducts } from './events.ts';
import type { BenchProduct } from './events.ts';
import { benchConfig } from './sales-app.ts';
import {
  createNamedTopic,
  createTopic,
  fmt,
  openBenchDatabase,
  say,
  spread,
  uniqueName,
  type BenchContext,
} from './support.ts';

const PRODUCE_CHUNK = 2_000;
const PRODUCTS = 1_000;

function created(p: BenchProduct, quantity: number): AnyEvent {
  return createEvent(
    'inventory.product_created',
    {
      product_id: p.productId,
      product_sku: p.sku,
      product_name: p.name,
      category: p.category,
      unit_price: p.unitPrice,
      quantity_on_hand: quantity,
      reorder_level: 20,
      reorder_quantity: 100,
      location: p.location,
    },
    { tenantId: p.tenantId, sourceService: 'inventory-service' },
  );
}

function adjusted(p: BenchProduct, before: number, change: number): AnyEvent {
  return createEvent(
    'inventory.stock_adjusted',
    {
      product_id: p.productId,
      product_sku: p.sku,
      quantity_change: change,
      quantity_before: before,
      quantity_after: before + change,
      reason: change < 0 ? 'sale' : 'restock',
    },
    { tenantId: p.tenantId, sourceService: 'inventory-service' },
  );
}

const REORDER_LEVEL = 20;

function lowStock(p: BenchProduct, stock: number): AnyEvent {
  return createEvent(
    'inventory.low_stock',
    {
      product_id: p.productId,
      product_sku: p.sku,
      product_name: p.name,
      current_stock: stock,
      reorder_level: REORDER_LEVEL,
      reorder_quantity: 150,
      unit_price: p.unitPrice,
      category: p.category,
      location: p.location,
      days_of_stock_remaining: stock / 3,
    },
    {
      tenantId: p.tenantId,
      sourceService: 'inventory-service',
      priority: computePriority({ currentStock: stock, reorderLevel: REORDER_LEVEL }),
    },
  );
}

/**
 * How sales, restocks and low-stock events mix. `realistic`: staggered stocks of 30..199, sales of
 * 3 round-robin, a restock of 150 under 10 (most events are stock_adjusted). `interleaved`: every
 * product always at or under its reorder level (stock 10..20, sales of 1, restock of 10 under
 * 10), so every stock_adjusted is followed by a low_stock: the worst case for a consumer that
 * applies one type per handler call.
 */
type Mix = 'realistic' | 'interleaved';

const MIXES: Record<Mix, { start: (i: number) => number; sale: number; restock: number }> = {
  realistic: { start: (i) => 30 + (i % 170), sale: 3, restock: 150 },
  interleaved: { start: (i) => 20 - (i % 10), sale: 1, restock: 10 },
};

/**
 * n events as Inventory writes them: every product created, then sales round-robin over the
 * products, each change followed by a low-stock event when it leaves the stock at or under the
 * reorder level (decide's rule), and a restock once under 10.
 */
function replayEvents(n: number, mix: Mix): AnyEvent[] {
  const products = benchProducts(PRODUCTS);
  const { start, sale, restock } = MIXES[mix];
  const stock = products.map((_, i) => start(i));
  const events: AnyEvent[] = products.map((p, i) => created(p, stock[i]!));
  for (let i = 0; events.length < n; i++) {
    const k = i % PRODUCTS;
    const p = products[k]!;
    const change = stock[k]! < 10 ? restock : -sale;
    events.push(adjusted(p, stock[k]!, change));
    stock[k]! += change;
    if (stock[k]! <= REORDER_LEVEL && events.length < n) events.push(lowStock(p, stock[k]!));
  }
  return events;
}

export async function runReplayBench(ctx: BenchContext): Promise<void> {
  say(`\n== replay: npm run cli -- replay over inventory-events into a shadow Sales ==`);
  for (const mix of Object.keys(MIXES) as Mix[]) await replayMix(ctx, mix);
}

async function replayMix(ctx: BenchContext, mix: Mix): Promise<void> {
  const n = ctx.quick ? 20_000 : 100_000;
  const events = replayEvents(n, mix);
  const counts = new Map<string, number>();
  for (const e of events)
    counts.set(e.metadata.event_type, (counts.get(e.metadata.event_type) ?? 0) + 1);
  const { sale, restock } = MIXES[mix];
  say(
    `setup (${mix}): N=${n.toLocaleString('en-US')} events (${[...counts].map(([t, c]) => `${c.toLocaleString('en-US')} ${t}`).join(', ')})` +
      ` over ${PRODUCTS.toLocaleString('en-US')} products / 10 tenants (sales of ${sale} round-robin, a low-stock event after each change that leaves stock at or under 20, restock of ${restock} under 10), produced first into a fresh 3-partition topic;` +
      ` then runReplay --from 1970-01-01 (src/cli/replay.ts): a shadow Sales on PGlite in a temp folder (its own group, consumer batches of 500,` +
      ` one at a time), then the event-by-event comparison with a live Sales database (PGlite in memory, empty).` +
      ` Timed from the call to the summary; peak RSS sampled every 100 ms during the run. Target: under 60 s.`,
  );
  const seconds: number[] = [];
  const peaks: number[] = [];
  const before: number[] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const topic = await createTopic(ctx, 'bench-replay', 3);
    const salesTopic = await createTopic(ctx, 'bench-replay-sales', 3);
    await createNamedTopic(ctx, `${topic}.dlq`, 1);
    const producer = createProducer({
      clientId: 'bench-feeder',
      bootstrapServers: ctx.conn.bootstrapServers,
    });
    try {
      for (let i = 0; i < events.length; i += PRODUCE_CHUNK) {
        await producer.send(
          events.slice(i, i + PRODUCE_CHUNK).map((e) => ({
            topic,
            key: messageKeyOf(e),
            value: encodeEvent(e),
            headers: kafkaHeadersFor(e),
          })),
        );
      }
    } finally {
      await producer.close();
    }
    const live = await openBenchDatabase<SalesDB>('pglite', 'sales', ctx.postgresUrl);
    const { config, settings } = benchConfig({
      bootstrapServers: ctx.conn.bootstrapServers,
      inventoryTopic: topic,
      salesTopic,
      consumerGroup: uniqueName('bench-sales-group'),
    });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    const lines: string[] = [];
    try {
      const started = performance.now();
      const result = await runReplay(
        { conn: ctx.conn, config, settings, topic, from: new Date(0), live: live.database },
        { out: (l) => void lines.push(l), err: () => {} },
      );
      const elapsed = (performance.now() - started) / 1000;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      if (result.read !== n) throw new Error(`replay read ${result.read} of ${n} records`);
      seconds.push(elapsed);
      peaks.push(peak / 2 ** 20);
      before.push(rssBefore / 2 ** 20);
      say(
        `  ${mix} run ${rep}: ${elapsed.toFixed(1)} s for ${n.toLocaleString('en-US')} events (${fmt(n / elapsed)} events/s);` +
          ` peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (${(rssBefore / 2 ** 20).toFixed(0)} MiB before);` +
          ` ${result.comparison.events.toLocaleString('en-US')} low-stock events compared`,
      );
      for (const line of lines.filter((l) => !l.startsWith('event '))) say(`    ${line}`);
    } finally {
      clearInterval(sampler);
      await live.close();
    }
  }
  ctx.record({
    section: 'replay',
    engine: 'pglite',
    metric: `replay of ${n} events (${mix})`,
    unit: 's',
    values: seconds,
    target: { op: '<', value: 60 },
    setup: { n, mix, products: PRODUCTS, peakRssMiB: peaks, rssBeforeMiB: before },
  });
  say(`  ${mix}: ${spread(seconds)} s; peak RSS ${spread(peaks)} MiB`);
}
