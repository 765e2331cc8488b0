/**
 * `sales-consumer`: Sales' low-stock events/s. N valid inventory.low_stock records are produced
 * into a fresh topic first; then only the Sales app starts (fresh group, fresh database) and is
 * timed until its inbox holds N rows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { encodeEvent, kafkaHeadersFor, messageKeyOf } from '../src/contract/index.ts';
import { createProducer } from '../src/messaging/kafka/index.ts';
import type { OutgoingRecord } from '../src/messaging/kafka/index.ts';
import type { SalesDB } from '../src/sales/db.ts';
import { benchProducts, lowStockEvents } from './events.ts';
import { benchConfig, buildBenchSales, processedCount } from './sales-app.ts';
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

export async function runSalesConsumer(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 4_000 : 20_000;
  // Each run stops when the inbox holds N rows or at this cap, whichever comes first, so that a
  // slow consumer cannot blow the time budget; the rate is what committed within the window.
  const capSeconds = ctx.quick ? 6 : 12;
  const products = benchProducts(1_000);
  const events = lowStockEvents(products, n);
  const records = (topic: string): OutgoingRecord[] =>
    events.map((e) => ({
      topic,
      key: messageKeyOf(e),
      value: encodeEvent(e),
      headers: kafkaHeadersFor(e),
    }));
  const avgValue = Math.round(
    events.reduce((s, e) => s + encodeEvent(e).length, 0) / events.length,
  );

  say(`\n== sales-consumer: inventory.low_stock → Sales inbox ==`);
  say(
    `setup: N=${n.toLocaleString('en-US')} inventory.low_stock records (value avg ${avgValue} B, key product_id)` +
      ` over 1,000 products / 10 tenants, produced first into a fresh 3-partition topic;` +
      ` then only the Sales app (src/sales/main.ts wiring: consumer defaults maxBatchSize 500,` +
      ` batches of partitions in parallel on PostgreSQL, one at a time on PGlite, one transaction per batch with the inbox, low-stock runs set-based) on a fresh group and database;` +
      ` the relay and notification dispatcher run too (alerts append sales events, HIGH/CRITICAL notify).` +
      ` Timed until the inbox holds N rows, or stopped at ${capSeconds} s after start;` +
      ` events/s counted from the first committed batch (group join and that batch excluded), the rate from app.start() is printed too.`,
  );

  for (const engine of ctx.engines) {
    const rates: number[] = [];
    const steady: number[] = [];
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const topic = await createTopic(ctx, 'bench-lowstock', 3);
      const salesTopic = await createTopic(ctx, 'bench-sales-events', 3);
      await createNamedTopic(ctx, `${topic}.dlq`, 1);
      const producer = createProducer({
        clientId: 'bench-feeder',
        bootstrapServers: ctx.conn.bootstrapServers,
      });
      try {
        const all = records(topic);
        for (let i = 0; i < all.length; i += PRODUCE_CHUNK) {
          await producer.send(all.slice(i, i + PRODUCE_CHUNK));
        }
      } finally {
        await producer.close();
      }

      const bench = await openBenchDatabase<SalesDB>(engine, 'sales', ctx.postgresUrl);
      const config = benchConfig({
        bootstrapServers: ctx.conn.bootstrapServers,
        inventoryTopic: topic,
        salesTopic,
        consumerGroup: uniqueName('bench-sales-group'),
      });
      const sales = buildBenchSales(config, bench.database, ctx.logger);
      try {
        const started = performance.now();
        const deadline = started + capSeconds * 1000;
        let firstAt: number | undefined;
        let firstCount = 0;
        let done = 0;
        await sales.app.start();
        while (done < n && performance.now() < deadline) {
          await sleep(20);
          done = await processedCount(sales.metrics, 'inventory.low_stock');
          if (firstAt === undefined && done > 0) {
            firstAt = performance.now();
            firstCount = done;
          }
        }
        const finished = performance.now();
        await sales.app.stop();
        const inbox = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox`.execute(
          bench.database.db,
        );
        const held = inbox.rows[0]?.n ?? 0;
        if (held < done) throw new Error(`inbox holds ${held}, the consumer reported ${done}`);
        if (firstAt === undefined || done === firstCount) {
          throw new Error(`only ${done} events committed in ${capSeconds} s`);
        }
        const seconds = (finished - started) / 1000;
        const overall = done / seconds;
        const steadyRate = (done - firstCount) / ((finished - firstAt) / 1000);
        rates.push(overall);
        steady.push(steadyRate);
        say(
          `  ${engine} run ${rep}: ${fmt(steadyRate)} events/s after the first batch (${done.toLocaleString('en-US')}` +
            ` of ${n.toLocaleString('en-US')} in ${seconds.toFixed(1)} s${done < n ? ', stopped at the cap' : ''};` +
            ` first batch of ${firstCount} committed ${((firstAt - started) / 1000).toFixed(2)} s after start;` +
            ` ${fmt(overall)} events/s from start; ${bench.where})`,
        );
      } finally {
        await sales.close();
        await bench.close();
      }
    }
    ctx.record({
      section: 'sales-consumer',
      engine,
      metric: 'low-stock events/s into inbox',
      unit: 'events/s',
      values: steady,
      ...(engine === 'postgres' ? { target: { op: '>=' as const, value: 5_000 } } : {}),
      setup: { n, capSeconds, avgValueBytes: avgValue, eventsPerSecFromStart: rates },
    });
    say(
      `  ${engine}: ${spread(steady)} events/s after the first batch; from start ${spread(rates)}`,
    );
  }
}
