/**
 * `relay`: events/s from Sales' outbox table to Kafka through createOutboxRelay with the real
 * producer (idempotent, acks=all, gzip), next to Kafka's own Java ProducerPerformance.
 */
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { kafkaHeadersFor, messageKeyOf } from '../src/contract/index.ts';
import { appendToOutbox, createOutboxRelay, createProducer } from '../src/messaging/index.ts';
import type { OutboxRow } from '../src/messaging/index.ts';
import type { SalesDB } from '../src/sales/index.ts';
import { kafkaClasspath } from '../scripts/kafka.ts';
import { setTracingOn, startTracing } from '../src/platform/index.ts';
import type { Tracing } from '../src/platform/index.ts';
import { benchProducts, lowStockEvents } from './events.ts';
import { sayTracingRatio, tracingLabel, zipkinEndpoint, type TracingVariant } from './tracing.ts';
import {
  createTopic,
  fmt,
  median,
  openBenchDatabase,
  say,
  spread,
  type BenchContext,
  type Engine,
} from './support.ts';

const ROWS_PER_TRANSACTION = 10_000;
const RELAY_BATCH_SIZE = 500; // the relay's default, restated for the printed setup
const TIMEOUT_MS = 180_000;

export async function runRelay(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 5_000 : 30_000;
  const products = benchProducts(1_000);
  const events = lowStockEvents(products, n);
  const values = events.map((e) => Buffer.from(JSON.stringify(e), 'utf8'));
  const avgValue = Math.round(values.reduce((s, v) => s + v.length, 0) / n);
  const avgHeaders = Math.round(
    events.reduce(
      (s, e) =>
        s +
        Object.entries(kafkaHeadersFor(e)).reduce(
          (h, [k, v]) => h + Buffer.byteLength(k) + Buffer.byteLength(v),
          0,
        ),
      0,
    ) / n,
  );
  const batchJson = Buffer.concat(values.slice(0, RELAY_BATCH_SIZE));
  const letters = Buffer.from(
    Array.from({ length: batchJson.length }, () =>
      String.fromCharCode(65 + Math.floor(Math.random() * 26)),
    ).join(''),
  );
  const ratioJson = batchJson.length / gzipSync(batchJson).length;
  const ratioLetters = letters.length / gzipSync(letters).length;

  say(`\n== relay: outbox → Kafka ==`);
  say(
    `setup: N=${n.toLocaleString('en-US')} inventory.low_stock envelopes (createEvent) over 1,000 products / 10 tenants;` +
      ` value avg ${avgValue} B JSON, key 36 B (product_id), 5 headers avg ${avgHeaders} B;` +
      ` pre-filled into Sales' outbox with appendToOutbox, ${ROWS_PER_TRANSACTION.toLocaleString('en-US')} rows per transaction;` +
      ` relay batchSize ${RELAY_BATCH_SIZE}, producer idempotent acks=all gzip, fresh 3-partition topic per run;` +
      ` timed from relay.start() until every row is marked published (includes producer connect).`,
  );
  say(
    `gzip ratio of a ${RELAY_BATCH_SIZE}-record batch: our JSON ${ratioJson.toFixed(1)}x, random letters (ProducerPerformance payload) ${ratioLetters.toFixed(1)}x`,
  );

  const rows = (topic: string): OutboxRow[] =>
    events.map((e) => ({
      eventId: e.metadata.event_id,
      tenantId: e.metadata.tenant_id,
      eventType: e.metadata.event_type,
      topic,
      key: messageKeyOf(e),
      envelope: e,
      headers: kafkaHeadersFor(e),
      occurredAt: new Date(e.metadata.timestamp),
    }));

  const ours = new Map<Engine, number[]>();
  const tracing = await relayTracing(ctx);
  const label = (variant: TracingVariant) =>
    ctx.tracing.length > 1 ? ` [${tracingLabel(variant)}]` : '';
  for (const engine of ctx.engines) {
    const rates = new Map<TracingVariant, number[]>(ctx.tracing.map((v) => [v, []]));
    const cpuPerThousand = new Map<TracingVariant, number[]>(ctx.tracing.map((v) => [v, []]));
    const fills: number[] = [];
    for (let rep = 1; rep <= ctx.reps; rep++) {
      for (const variant of ctx.tracing) {
        tracing.use(variant);
        const topic = await createTopic(ctx, 'bench-relay', 3);
        const bench = await openBenchDatabase<SalesDB>(engine, 'sales', ctx.postgresUrl);
        const producer = createProducer({
          clientId: 'bench-relay',
          bootstrapServers: ctx.conn.bootstrapServers,
        });
        try {
          const all = rows(topic);
          const fillStart = performance.now();
          for (let i = 0; i < all.length; i += ROWS_PER_TRANSACTION) {
            await bench.database.db
              .transaction()
              .execute((trx) =>
                appendToOutbox(trx, 'outbox', all.slice(i, i + ROWS_PER_TRANSACTION)),
              );
          }
          fills.push(n / ((performance.now() - fillStart) / 1000));

          let published = 0;
          const done = Promise.withResolvers<void>();
          const relay = createOutboxRelay({
            database: bench.database,
            table: 'outbox',
            channel: 'bench_relay',
            producer,
            logger: ctx.logger,
            batchSize: RELAY_BATCH_SIZE,
            metrics: {
              failed() {},
              backlog() {},
              published(count) {
                published += count;
                if (published >= n) done.resolve();
              },
            },
          });
          const timer = setTimeout(
            () => done.reject(new Error(`relay published ${published}/${n} in ${TIMEOUT_MS} ms`)),
            TIMEOUT_MS,
          );
          const started = performance.now();
          const cpuBefore = process.cpuUsage();
          await relay.start();
          try {
            await done.promise;
          } finally {
            clearTimeout(timer);
          }
          const seconds = (performance.now() - started) / 1000;
          const cpu = process.cpuUsage(cpuBefore);
          // This process's CPU (the relay and its producer; PGlite too when in memory) per 1,000 events.
          cpuPerThousand.get(variant)!.push((cpu.user + cpu.system) / 1000 / (n / 1000));
          await relay.stop();
          const left = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`.execute(
            bench.database.db,
          );
          if (left.rows[0]?.n !== 0) throw new Error(`${left.rows[0]?.n} rows left unpublished`);
          rates.get(variant)!.push(n / seconds);
          say(
            `  ${engine}${label(variant)} run ${rep}: ${fmt(n / seconds)} events/s (${seconds.toFixed(2)} s; CPU ${cpuPerThousand.get(variant)!.at(-1)!.toFixed(1)} ms per 1,000 events; fill ${fmt(fills.at(-1)!)} rows/s, ${bench.where})`,
          );
        } finally {
          await producer.close().catch(() => {});
          await bench.close();
        }
      }
    }
    tracing.use('off');
    ours.set(engine, rates.get('off')!);
    for (const [variant, values] of rates) {
      ctx.record({
        section: 'relay',
        engine,
        metric: `outbox→Kafka events/s${label(variant)}`,
        unit: 'events/s',
        values,
        target: { op: '>=', value: 10_000 },
        setup: {
          n,
          avgValueBytes: avgValue,
          batchSize: RELAY_BATCH_SIZE,
          fillRowsPerSec: fills,
          tracing: variant,
        },
      });
      say(`  ${engine}${label(variant)}: ${spread(values)} events/s`);
    }
    for (const [variant, values] of cpuPerThousand) {
      ctx.record({
        section: 'relay',
        engine,
        metric: `relay process CPU per 1,000 events${label(variant)}`,
        unit: 'ms',
        values,
        setup: { n, tracing: variant },
      });
    }
    sayTracingRatio(`  ${engine} relay events/s`, rates);
    sayTracingRatio(`  ${engine} relay CPU ms per 1,000 events`, cpuPerThousand, false);
  }
  await tracing.shutdown();

  // Kafka's own producer, same broker, same N, same value size, no key and no headers.
  const java: number[] = [];
  const cp = await kafkaClasspath();
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const topic = await createTopic(ctx, 'bench-java', 3);
    const rate = await producerPerformance(
      cp,
      ctx.conn.bootstrapServers.join(','),
      topic,
      n,
      avgValue,
    );
    java.push(rate);
    say(`  java run ${rep}: ${fmt(rate)} records/s`);
  }
  ctx.record({
    section: 'relay',
    engine: 'java',
    metric: 'ProducerPerformance records/s',
    unit: 'records/s',
    values: java,
    setup: {
      n,
      recordSize: avgValue,
      props: 'acks=all compression.type=gzip (idempotence on by default)',
      payload: 'random letters',
    },
  });
  say(`  java ProducerPerformance: ${spread(java)} records/s`);
  for (const [engine, rates] of ours) {
    say(`  ratio ours/java (${engine}): ${(median(rates) / median(java)).toFixed(2)}`);
  }
  say(
    '  note: ProducerPerformance sends random uppercase letters with no key and no headers; they compress' +
      ` ${ratioLetters.toFixed(1)}x against ${ratioJson.toFixed(1)}x for our JSON, so gzip works on` +
      ' more bytes per record there; its timer starts at its first send (after JVM start).',
  );
}

/** Runs org.apache.kafka.tools.ProducerPerformance and returns its summary records/sec. */
function producerPerformance(
  cp: string,
  bootstrap: string,
  topic: string,
  n: number,
  recordSize: number,
): Promise<number> {
  const args = [
    '-cp',
    cp,
    'org.apache.kafka.tools.ProducerPerformance',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--num-records',
    String(n),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--command-property',
    'acks=all',
    'compression.type=gzip',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.env['JAVA_HOME'] ? `${process.env['JAVA_HOME']}/bin/java` : 'java',
      args,
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      // The summary is the line with percentiles; progress lines have none.
      const line = out.split('\n').findLast((l) => / records sent, .* 50th/.test(l));
      const m = line === undefined ? null : /records sent, ([\d.]+) records\/sec/.exec(line);
      if (code !== 0 || m === null) {
        reject(new Error(`ProducerPerformance failed (exit ${code}):\n${out.slice(-2000)}`));
        return;
      }
      resolve(Number(m[1]));
    });
  });
}

/**
 * The relay runs in this process: with `--tracing=zipkin` the SDK is started once, exporting to
 * Zipkin, and switched on only for the runs of that variant (off, the helpers return at once, as
 * in a process that never started it). The rows carry no `traceparent` here, so each send span
 * starts a trace: the same spans and export work as with one.
 */
async function relayTracing(
  ctx: BenchContext,
): Promise<{ use(variant: TracingVariant): void; shutdown(): Promise<void> }> {
  let sdk: Tracing | undefined;
  if (ctx.tracing.includes('zipkin')) {
    process.env['OTEL_EXPORTER_ZIPKIN_ENDPOINT'] = await zipkinEndpoint();
    sdk = await startTracing({ exporters: ['zipkin'] }, 'bench-relay');
  }
  setTracingOn(false);
  return {
    use: (variant) => setTracingOn(variant === 'zipkin'),
    async shutdown() {
      await sdk?.shutdown();
    },
  };
}
