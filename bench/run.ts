/**
 * npm run bench [-- --quick] [-- --only=relay|e2e|sales-consumer|replay|saga] [-- --tracing=zipkin]
 * [-- --console]
 *
 * `--tracing=zipkin` measures the relay and e2e (PostgreSQL) twice, alternating, with tracing off
 * and on (spans exported to a real Zipkin), and prints the ratio. `--console` does the same for
 * e2e with the operator's console polling the services.
 *
 * Prints the machine, each section's setup and runs, and a summary (median, min–max, target);
 * writes the summary to .data/bench/last.json. Speed goals are checked here, never in tests.
 * Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * KAFKA_BOOTSTRAP_SERVERS (default: the local broker, started if needed).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, release, totalmem, type } from 'node:os';
import { ensureKafka, kafkaVersion } from '../scripts/kafka.ts';
import { runE2e } from './e2e.ts';
import { runRelay } from './relay.ts';
import { runReplayBench } from './replay.ts';
import { runSaga } from './saga.ts';
import { runSalesConsumer } from './sales-consumer.ts';
import { parseTracing } from './tracing.ts';
import {
  deleteTopics,
  engineVersion,
  fmt,
  packageVersion,
  postgresProblem,
  say,
  silentLogger,
  summarize,
  type BenchContext,
  type Engine,
  type Result,
} from './support.ts';

const SECTIONS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  relay: runRelay,
  e2e: runE2e,
  'sales-consumer': runSalesConsumer,
  replay: runReplayBench,
  saga: runSaga,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const withConsole = args.includes('--console');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const repsArg = args.find((a) => a.startsWith('--reps='))?.slice('--reps='.length);
const engineArg = args.find((a) => a.startsWith('--engine='))?.slice('--engine='.length);
const tracingArg = args.find((a) => a.startsWith('--tracing='))?.slice('--tracing='.length);
const tracing = parseTracing(tracingArg);
const unknown = args.filter(
  (a) =>
    a !== '--quick' &&
    a !== '--console' &&
    !a.startsWith('--only=') &&
    !a.startsWith('--reps=') &&
    !a.startsWith('--engine=') &&
    !a.startsWith('--tracing='),
);
if (
  unknown.length > 0 ||
  tracing === undefined ||
  (only !== undefined && !(only in SECTIONS)) ||
  (engineArg !== undefined && engineArg !== 'pglite' && engineArg !== 'postgres')
) {
  console.error(
    `usage: node bench/run.ts [--quick] [--reps=N] [--engine=pglite|postgres] [--tracing=off|zipkin] [--console] [--only=${Object.keys(SECTIONS).join('|')}]`,
  );
  process.exit(2);
}
const reps = repsArg === undefined ? 3 : Number(repsArg);
if (!Number.isInteger(reps) || reps < 1) {
  console.error('--reps must be a positive integer');
  process.exit(2);
}

// A safety net that does not itself keep the process alive: if something was left open, say what.
const reportLeaks = (): void => {
  setTimeout(() => {
    console.error('bench: still running 15 s after the end; open resources:');
    console.error(process.getActiveResourcesInfo().join(', '));
    process.exit(1);
  }, 15_000).unref();
};

async function main(): Promise<void> {
  const started = Date.now();
  const postgresUrl =
    process.env['BENCH_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
  const fromEnv = process.env['KAFKA_BOOTSTRAP_SERVERS']?.trim();
  const bootstrap = fromEnv ? fromEnv : (await ensureKafka()).bootstrap;

  const problem = await postgresProblem(postgresUrl);
  const engines = (['pglite', 'postgres'] as const).filter(
    (e) => (engineArg === undefined || engineArg === e) && (e === 'pglite' || problem === null),
  ) as Engine[];
  const versions: Record<string, string> = {};
  for (const engine of engines) versions[engine] = await engineVersion(engine, postgresUrl);

  const cpu = cpus();
  const machine = {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? '?',
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
    os: `${type()} ${release()}`,
    node: process.version,
    kafka: `Apache Kafka ${kafkaVersion()} (single KRaft node, ${bootstrap})`,
    kafkaClient: `@platformatic/kafka ${packageVersion('@platformatic/kafka')}`,
    databases: versions,
  };
  say(`erp-events benchmarks${quick ? ' (--quick: smaller N, shorter runs)' : ''}`);
  say(
    `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB RAM (${machine.freeMemoryGiB} free), ${machine.os}`,
  );
  say(`node ${machine.node}; ${machine.kafka}; client ${machine.kafkaClient}`);
  for (const [engine, version] of Object.entries(versions)) say(`db ${engine}: ${version}`);
  if (problem !== null) {
    say(`PostgreSQL at ${postgresUrl} is unreachable (${problem}): PostgreSQL runs skipped.`);
  } else {
    say(`PostgreSQL at ${postgresUrl}, a fresh schema per run, dropped afterwards`);
  }
  say(
    `each measurement ${reps}x; medians with min/max. Load generator, services, Kafka and PostgreSQL share these ${machine.cores} cores.`,
  );

  const results: Result[] = [];
  const ctx: BenchContext = {
    quick,
    reps,
    engines,
    postgresUrl,
    conn: { clientId: 'bench', bootstrapServers: bootstrap.split(',').map((s) => s.trim()) },
    logger: silentLogger,
    tracing: tracing!,
    console: withConsole,
    topics: [],
    record(result) {
      const full = summarize(result);
      results.push(full);
      return full;
    },
  };

  const failures: string[] = [];
  for (const [name, run] of Object.entries(SECTIONS)) {
    if (only !== undefined && only !== name) continue;
    const t0 = Date.now();
    try {
      await run(ctx);
    } catch (err) {
      failures.push(name);
      console.error(`section ${name} failed:`, err);
    }
    say(`(${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await deleteTopics(ctx.conn, ctx.topics);

  printSummary(results);
  const file = new URL('../.data/bench/last.json', import.meta.url);
  await mkdir(new URL('.', file), { recursive: true });
  await writeFile(
    file,
    `${JSON.stringify({ startedAt: new Date(started).toISOString(), quick, reps, machine, results, failures }, null, 2)}\n`,
  );
  say(`\nwritten: .data/bench/last.json; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failures.length > 0) {
    say(`FAILED sections: ${failures.join(', ')}`);
    process.exitCode = 1;
  }
}

function printSummary(results: Result[]): void {
  const rows = results.map((r) => [
    r.section,
    r.engine,
    r.metric,
    `${fmt(r.median)} ${r.unit}`,
    `${fmt(r.min)}–${fmt(r.max)}`,
    r.target === undefined ? '—' : `${r.target.op} ${fmt(r.target.value)}`,
    r.met === null ? '—' : r.met ? 'yes' : 'NO',
  ]);
  const header = ['section', 'engine', 'metric', 'median', 'min–max', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  say('\n== summary ==');
  say(line(header));
  say(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) say(line(r));
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(reportLeaks);
