/**
 * `replay`: `npm run cli -- replay`, as its own process, over a topic of 100,000 inventory events
 * as Inventory writes them (1,000 products created, then sales, restocks and the low-stock events
 * they cause), on PGlite: the shadow Sales consumes them all and is compared with a live Sales
 * database (an empty PGlite folder, so every event counts as "not applied live": the comparison
 * does its full work). Timed from spawn to exit; the process's peak RSS from /proc.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  computePriority,
  createEvent,
  encodeEvent,
  kafkaHeadersFor,
  messageKeyOf,
} from '../src/contract/index.ts';
import type { AnyEvent } from '../src/contract/index.ts';
import { createProducer } from '../src/messaging/kafka/index.ts';
import { migrate, openDatabase } from '../src/platform/index.ts';
import { salesService } from '../src/sales/index.ts';
import type { SalesDB } from '../src/sales/db.ts';
import { benchProducts } from './events.ts';
import type { BenchProduct } from './events.ts';
import {
  createNamedTopic,
  createTopic,
  fmt,
  median,
  migrationsOf,
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
  const n = ctx.quick ? 20_000 : 100_000;
  const peaks = new Map<string, number>();
  for (const mix of Object.keys(MIXES) as Mix[])
    peaks.set(mix, (await replayMix(ctx, mix, n, ctx.reps)).peakMiB);
  if (ctx.quick) return;
  // Bounded memory: the peak at a fifth of the events, beside the peak at all of them.
  const small = n / 5;
  const smallPeak = (await replayMix(ctx, 'realistic', small, 1)).peakMiB;
  const ratio = peaks.get('realistic')! / smallPeak;
  say(
    `  memory: peak RSS ${smallPeak.toFixed(0)} MiB for ${small.toLocaleString('en-US')} events, ${peaks.get('realistic')!.toFixed(0)} MiB for ${n.toLocaleString('en-US')} (×${ratio.toFixed(2)} for ×5 the events; most of it is the two PGlite instances, live and shadow)`,
  );
  // What KAFKA_CONSUMER_ORDERING=key (the default) buys on an interleaved topic, both in this run.
  const byKey = (await replayMix(ctx, 'interleaved', small, 1, 'key')).seconds;
  const byPartition = (await replayMix(ctx, 'interleaved', small, 1, 'partition')).seconds;
  say(
    `  ordering: ${small.toLocaleString('en-US')} interleaved events in ${byKey.toFixed(1)} s with KAFKA_CONSUMER_ORDERING=key, ${byPartition.toFixed(1)} s with =partition (×${(byPartition / byKey).toFixed(1)})`,
  );
}

/** Runs one mix `reps` times; the medians of its seconds and peak RSS (MiB). */
async function replayMix(
  ctx: BenchContext,
  mix: Mix,
  n: number,
  reps: number,
  ordering: 'key' | 'partition' = 'key',
): Promise<{ seconds: number; peakMiB: number }> {
  const events = replayEvents(n, mix);
  const counts = new Map<string, number>();
  for (const e of events)
    counts.set(e.metadata.event_type, (counts.get(e.metadata.event_type) ?? 0) + 1);
  const { sale, restock } = MIXES[mix];
  say(
    `setup (${mix}${ordering === 'key' ? '' : `, KAFKA_CONSUMER_ORDERING=${ordering}`}): N=${n.toLocaleString('en-US')} events (${[...counts].map(([t, c]) => `${c.toLocaleString('en-US')} ${t}`).join(', ')})` +
      ` over ${PRODUCTS.toLocaleString('en-US')} products / 10 tenants (sales of ${sale} round-robin, a low-stock event after each change that leaves stock at or under 20, restock of ${restock} under 10), produced first into a fresh 3-partition topic;` +
      ` then \`npm run cli -- replay --from 1970-01-01T00:00:00Z\` as its own process: a shadow Sales on PGlite in a temp folder (its own group, consumer batches of 500,` +
      ` one at a time), then the event-by-event comparison with live Sales (an empty PGlite folder).` +
      ` Timed from spawn to exit; peak RSS is the process's VmHWM. Target: under 60 s.`,
  );
  const seconds: number[] = [];
  const peaks: number[] = [];
  for (let rep = 1; rep <= reps; rep++) {
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
    // Live Sales: an empty, migrated PGlite folder, where the CLI looks for it (DATA_DIR).
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-replay-'));
    try {
      const live = await openDatabase<SalesDB>({ dataDir: join(dataDir, 'sales', 'pglite') });
      await migrate(live, migrationsOf(salesService()));
      await live.close();
      const run = await runCli(dataDir, {
        KAFKA_BOOTSTRAP_SERVERS: ctx.conn.bootstrapServers.join(','),
        KAFKA_INVENTORY_TOPIC: topic,
        KAFKA_SALES_TOPIC: salesTopic,
        KAFKA_CONSUMER_GROUP: uniqueName('bench-sales-group'),
        KAFKA_CONSUMER_ORDERING: ordering,
      });
      const read = /records: (\d+) read/.exec(run.out)?.[1];
      if (run.code !== 0 || Number(read) !== n) {
        throw new Error(`replay exited ${run.code}, read ${read} of ${n}:\n${run.out}${run.err}`);
      }
      seconds.push(run.seconds);
      peaks.push(run.peakMiB);
      say(
        `  ${mix} run ${rep}: ${run.seconds.toFixed(1)} s for ${n.toLocaleString('en-US')} events (${fmt(n / run.seconds)} events/s);` +
          ` peak RSS of the replay process ${run.peakMiB.toFixed(0)} MiB`,
      );
      for (const line of run.out.split('\n').filter((l) => l !== '' && !l.startsWith('event ')))
        say(`    ${line}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  ctx.record({
    section: 'replay',
    engine: 'pglite',
    metric: `replay of ${n} events (${mix}${ordering === 'key' ? '' : `, ordering ${ordering}`})`,
    unit: 's',
    values: seconds,
    target: { op: '<', value: 60 },
    setup: { n, mix, products: PRODUCTS, peakRssMiB: peaks },
  });
  say(`  ${mix}: ${spread(seconds)} s; peak RSS ${spread(peaks)} MiB`);
  return { seconds: median(seconds), peakMiB: median(peaks) };
}

interface CliRun {
  code: number | null;
  seconds: number;
  peakMiB: number;
  out: string;
  err: string;
}

/** The replay command as a user runs it; its peak RSS read from /proc (VmHWM) until it exits. */
async function runCli(dataDir: string, env: Record<string, string>): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['src/cli/main.ts', 'replay', '--from', '1970-01-01T00:00:00Z'],
    { env: { ...process.env, ...env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  let peakKiB = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // Exited between two samples: the last reading stands.
    }
  };
  const sampler = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  return { code, seconds: (performance.now() - started) / 1000, peakMiB: peakKiB / 1024, out, err };
}
