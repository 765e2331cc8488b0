/**
 * A real local Apache Kafka (one combined KRaft node) assembled from Maven Central, no Docker.
 *
 *   node scripts/kafka.ts start|stop|status
 *
 * The classpath is built once into .cache/kafka/<version>/libs from kafka/pom.xml; data, logs and
 * the pid file live in .data/kafka (both git-ignored). Tests call `ensureKafka()`.
 *
 * Environment:
 * - KAFKA_LOCAL_PORT: PLAINTEXT port on 127.0.0.1. Default 9092; the controller takes PORT + 1.
 * - KAFKA_LOCAL_DATA_DIR: data, logs and pid file. Default <repo>/.data/kafka.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger, runMain } from './lib/cli.ts';
import { kafkaError } from './lib/errors.ts';
import { javaBin, javaMajor } from './lib/java.ts';
import {
  freshLogs,
  kafkaJavaArgs,
  nodeFiles,
  randomClusterId,
  spawnKafka,
  waitForReadyLine,
} from './lib/kafka-node.ts';
import { readLivePid } from './lib/pid-file.ts';
import { awaitExit, isOurProcess, run } from './lib/process.ts';
import { withStartLock } from './lib/start-lock.ts';

const ROOT = resolve(import.meta.dirname, '..');
const KAFKA_DIR = join(ROOT, 'kafka');
const POM = join(KAFKA_DIR, 'pom.xml');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const MIN_JAVA = 17;

export interface KafkaStatus {
  /** True when a broker answers on the bootstrap address (ours or someone else's). */
  running: boolean;
  /** Pid of the broker this script started, null when none is alive. */
  pid: number | null;
  /** True when the port is taken by a process this script did not start. */
  foreign: boolean;
  bootstrap: string;
}

function port(): number {
  const raw = process.env['KAFKA_LOCAL_PORT'];
  if (raw === undefined || raw === '') return 9092;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65534) {
    throw kafkaError('BAD_PORT', `KAFKA_LOCAL_PORT must be a port number, got "${raw}"`);
  }
  return n;
}

const dataDir = () => resolve(process.env['KAFKA_LOCAL_DATA_DIR'] || join(ROOT, '.data', 'kafka'));
const paths = () => {
  const data = dataDir();
  return { ...nodeFiles(data), lock: join(data, 'start.lock') };
};
const bootstrap = () => `${HOST}:${port()}`;
const say = logger('kafka');

/** The version pinned in kafka/pom.xml: the pom is the single place to change it. */
export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!m?.[1]) throw kafkaError('POM_INVALID', `no <kafka.version> in ${POM}`);
  return m[1].trim();
}

const libsDir = () => join(ROOT, '.cache', 'kafka', kafkaVersion(), 'libs');

function checkJava(): void {
  const major = javaMajor();
  if (major === null) {
    throw kafkaError(
      'JAVA_MISSING',
      `Java ${MIN_JAVA}+ is required to run Kafka, but "${javaBin()}" could not be run`,
    );
  }
  if (!(major >= MIN_JAVA)) {
    throw kafkaError(
      'JAVA_TOO_OLD',
      `Java ${MIN_JAVA}+ is required to run Kafka, found Java ${major || 'unknown'}`,
      { major },
    );
  }
}

function checkMaven(): void {
  const r = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw kafkaError(
      'MVN_MISSING',
      'Maven (mvn) is required once to assemble Kafka from Maven Central, but "mvn" could not be run',
    );
  }
}

/**
 * The classpath glob for Kafka's Java tools (e.g. `java -cp <this> org.apache.kafka.tools.ProducerPerformance`).
 * Assembles the classpath first when it is missing.
 */
export async function kafkaClasspath(): Promise<string> {
  const libs = libsDir();
  // The directory only appears by rename after mvn succeeded, so its presence means complete.
  if (!existsSync(libs)) {
    checkMaven();
    const version = kafkaVersion();
    say(`assembling Kafka ${version} from Maven Central into ${libs} (once)…`);
    const started = Date.now();
    const tmp = `${libs}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    const r = await run('mvn', [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ]);
    if (r.code !== 0) {
      await rm(tmp, { recursive: true, force: true });
      throw kafkaError(
        'ASSEMBLY_FAILED',
        `mvn could not assemble Kafka ${version}:\n${r.out.slice(-4000)}`,
        { version },
      );
    }
    try {
      await rename(tmp, libs);
    } catch (err) {
      // Another process finished first: its copy is as good as ours.
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(libs)) throw err;
    }
    say(`assembled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return join(libs, '*');
}

async function writeServerProperties(): Promise<void> {
  const p = paths();
  const template = await readFile(join(KAFKA_DIR, 'server.properties.template'), 'utf8');
  const text = template
    .replaceAll('{{PORT}}', String(port()))
    .replaceAll('{{CONTROLLER_PORT}}', String(port() + 1))
    .replaceAll('{{LOG_DIRS}}', p.logDirs);
  await writeFile(p.props, text);
}

async function formatStorageOnce(cp: string): Promise<void> {
  const p = paths();
  if (existsSync(join(p.logDirs, 'meta.properties'))) return;
  say(`formatting storage in ${p.logDirs}…`);
  const clusterId = await randomClusterId(cp, p.logs);
  const fmt = await run(javaBin(), [
    ...kafkaJavaArgs(p.logs, cp),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    p.props,
    '--standalone',
  ]);
  if (fmt.code !== 0) {
    throw kafkaError('FORMAT_FAILED', `StorageTool format failed:\n${fmt.out.slice(-4000)}`, {
      clusterId,
    });
  }
}

/** Pids get reused: only a live `java … kafka.Kafka` counts as our broker. */
const isOurBroker = (pid: number) =>
  isOurProcess(pid, (argv) => /(^|\/)java$/.test(argv[0] ?? '') && argv.includes('kafka.Kafka'));

/** Our broker's pid, removing a stale pid file on the way. */
const livePid = () => readLivePid(paths().pid, isOurBroker, { removeUnparsable: false });

function portOpen(p: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: HOST, port: p });
    const finish = (open: boolean) => {
      socket.destroy();
      done(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * A listening socket is not a ready broker (acceptors bind before they accept), so ask for
 * ApiVersions v0: any reply with our correlation id means requests are being served.
 */
function answersApiVersions(p: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const clientId = Buffer.from('erp-events-probe');
    const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    req.writeInt32BE(req.length - 4, 0);
    req.writeInt16BE(18, 4); // ApiVersions
    req.writeInt16BE(0, 6);
    req.writeInt32BE(0x5eed, 8);
    req.writeInt16BE(clientId.length, 12);
    clientId.copy(req, 14);
    const socket = connect({ host: HOST, port: p });
    let got = Buffer.alloc(0);
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write(req));
    socket.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length >= 8) finish(got.readInt32BE(4) === 0x5eed);
    });
  });
}

async function waitUntilServing(p: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answersApiVersions(p)) return true;
    await sleep(250);
  }
  return false;
}

/** Test files run in parallel and each calls ensureKafka: one of them starts the broker. */
const startLock = () => ({
  file: paths().lock,
  startTimeoutMs: START_TIMEOUT_MS,
  timeoutError: (owner: number, lock: string) =>
    kafkaError(
      'LOCK_TIMEOUT',
      `another process (pid ${owner}) holds ${lock} and has not finished starting Kafka`,
    ),
});

/** Where this broker stands, without starting or stopping anything. */
export async function kafkaStatus(): Promise<KafkaStatus> {
  const pid = await livePid();
  if (pid !== null) return { running: true, pid, foreign: false, bootstrap: bootstrap() };
  const foreign = await portOpen(port());
  return { running: foreign, pid: null, foreign, bootstrap: bootstrap() };
}

async function startBroker(): Promise<void> {
  checkJava();
  const cp = await kafkaClasspath();
  const p = paths();
  await mkdir(p.logs, { recursive: true });
  await writeServerProperties();
  await formatStorageOnce(cp);

  const out = await freshLogs(p);
  say(`starting Kafka ${kafkaVersion()} on ${bootstrap()} (data in ${p.data})…`);
  const started = Date.now();
  const pid = await spawnKafka(p, cp, out);
  await waitForReadyLine({
    files: p,
    pid,
    started,
    timeoutMs: START_TIMEOUT_MS,
    name: 'Kafka',
    context: {},
    onTimeout: stopKafka,
  });
  say(`started in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
}

/**
 * Starts the local broker unless one is already up; safe to call from many processes at once.
 * `startedByUs` is true only when this call started it.
 */
export async function ensureKafka(): Promise<{ bootstrap: string; startedByUs: boolean }> {
  const p = paths();
  await mkdir(p.data, { recursive: true });
  return withStartLock(startLock(), async () => {
    const pid = await livePid();
    if (pid !== null) {
      // Its starter may have died before the broker was ready.
      if (!(await waitUntilServing(port(), START_TIMEOUT_MS))) {
        throw kafkaError(
          'START_TIMEOUT',
          `Kafka (pid ${pid}) is running but does not answer on ${bootstrap()}`,
          { pid },
        );
      }
      say(`already running (pid ${pid}) on ${bootstrap()}`);
      return { bootstrap: bootstrap(), startedByUs: false };
    }
    if (await portOpen(port())) {
      say(
        `note: something not started by this script already listens on ${bootstrap()}; using it as the broker`,
      );
      return { bootstrap: bootstrap(), startedByUs: false };
    }
    await startBroker();
    say(`Kafka ready on ${bootstrap()}`);
    return { bootstrap: bootstrap(), startedByUs: true };
  });
}

/** Stops the broker this script started: SIGTERM, then SIGKILL after 30 s. */
export async function stopKafka(): Promise<{ stopped: boolean; pid: number | null }> {
  const pid = await livePid();
  if (pid === null) {
    say('not running');
    return { stopped: false, pid: null };
  }
  say(`stopping pid ${pid}…`);
  process.kill(pid, 'SIGTERM');
  await awaitExit(pid, Date.now() + STOP_TIMEOUT_MS, () =>
    say(`still alive after ${STOP_TIMEOUT_MS / 1000} s, sending SIGKILL`),
  );
  await rm(paths().pid, { force: true });
  say('stopped');
  return { stopped: true, pid };
}

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'start':
      await ensureKafka();
      return;
    case 'stop':
      await stopKafka();
      return;
    case 'status': {
      const s = await kafkaStatus();
      if (s.pid !== null) say(`running (pid ${s.pid}) on ${s.bootstrap}`);
      else if (s.foreign) say(`running on ${s.bootstrap}, but not started by this script (no pid)`);
      else say(`stopped (${s.bootstrap})`);
      return;
    }
    default:
      console.error('usage: node scripts/kafka.ts start|stop|status');
      process.exitCode = 1;
  }
}

if (import.meta.main) runMain('kafka', () => main(process.argv[2]));
