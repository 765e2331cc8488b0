/**
 * A real local Apache Kafka (one combined KRaft node) assembled from Maven Central, no Docker.
 *
 *   node scripts/kafka.ts start [--secure] | stop | status
 *
 * The classpath is built once into .cache/kafka/<version>/libs from kafka/pom.xml; data, logs and
 * the pid file live in .data/kafka (both git-ignored). Tests call `ensureKafka()`.
 *
 * `--secure` starts a second, locked-down broker beside it (SASL_SSL with SCRAM-SHA-512, ACLs; see
 * scripts/lib/kafka-secure.ts) in .data/kafka-secure; its certificates, passwords and one
 * `credentials/<principal>.env` per user are made there at first start. Tests call
 * `ensureSecureKafka()`. `stop` and `status` cover both; `stop --secure` only the secure one.
 *
 * Environment:
 * - KAFKA_LOCAL_PORT: PLAINTEXT port on 127.0.0.1. Default 9092; the controller takes PORT + 1.
 * - KAFKA_LOCAL_DATA_DIR: data, logs and pid file. Default <repo>/.data/kafka.
 * - KAFKA_SECURE_PORT: the secure broker's SASL_SSL port. Default 9192; its controller PORT + 1.
 * - KAFKA_SECURE_DATA_DIR: the secure broker's folder. Default <repo>/.data/kafka-secure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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
import {
  clientEnv,
  ensureCertificates,
  newPasswords,
  PRINCIPALS,
  provision,
  readPasswords,
  scramArgs,
  secureFiles,
  writeEnvFiles,
} from './lib/kafka-secure.ts';
import type { Principal } from './lib/kafka-secure.ts';
import { readLivePid } from './lib/pid-file.ts';
import { portOpen, waitUntilServing } from './lib/probe.ts';
import type { ProbeTransport } from './lib/probe.ts';
import { awaitExit, isOurProcess, run } from './lib/process.ts';
import { withStartLock } from './lib/start-lock.ts';
import { copyDependencies } from './lib/maven.ts';

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

function portFrom(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65534) {
    throw kafkaError('BAD_PORT', `${variable} must be a port number, got "${raw}"`);
  }
  return n;
}

const say = logger('kafka');

/** One local broker: the plaintext one, or the secure one beside it. */
interface Broker {
  /** How messages and errors name it. */
  name: string;
  port: number;
  files: ReturnType<typeof nodeFiles> & { lock: string };
  /** Writes server.properties; runs before every start. */
  writeProperties(): Promise<void>;
  /** Extra StorageTool format arguments; called only when the storage is formatted. */
  formatArgs(): Promise<string[]>;
  /** How the readiness probe reaches the client listener. */
  transport(): Promise<ProbeTransport>;
  /** Runs on every ensure once the broker serves (idempotent). */
  afterReady?(): Promise<void>;
}

function brokerFiles(data: string) {
  return { ...nodeFiles(data), lock: join(data, 'start.lock') };
}

async function fillTemplate(
  template: string,
  files: Broker['files'],
  values: Record<string, string>,
  mode?: number,
): Promise<void> {
  let text = await readFile(join(KAFKA_DIR, template), 'utf8');
  for (const [k, v] of Object.entries({ ...values, LOG_DIRS: files.logDirs })) {
    text = text.replaceAll(`{{${k}}}`, v);
  }
  await writeFile(files.props, text, mode === undefined ? {} : { mode });
}

function plainBroker(): Broker {
  const port = portFrom('KAFKA_LOCAL_PORT', 9092);
  const files = brokerFiles(
    resolve(process.env['KAFKA_LOCAL_DATA_DIR'] || join(ROOT, '.data', 'kafka')),
  );
  return {
    name: 'Kafka',
    port,
    files,
    writeProperties: () =>
      fillTemplate('server.properties.template', files, {
        PORT: String(port),
        CONTROLLER_PORT: String(port + 1),
      }),
    formatArgs: () => Promise.resolve([]),
    transport: () => Promise.resolve({}),
  };
}

function secureBroker(): Broker {
  const port = portFrom('KAFKA_SECURE_PORT', 9192);
  const files = brokerFiles(
    resolve(process.env['KAFKA_SECURE_DATA_DIR'] || join(ROOT, '.data', 'kafka-secure')),
  );
  const sec = secureFiles(files.data);
  const bootstrap = `${HOST}:${port}`;
  return {
    name: 'secure Kafka',
    port,
    files,
    async writeProperties() {
      await ensureCertificates(sec);
      // Before the first format there are no passwords yet: format makes them (formatArgs). A
      // formatted storage without them fails here, before a broker starts that nobody can use.
      const formatted = existsSync(join(files.logDirs, 'meta.properties'));
      const admin = formatted || existsSync(sec.passwords) ? (await readPasswords(sec)).admin : '';
      // 0600: the file holds the admin password (the broker's own inter-broker login).
      await fillTemplate(
        'secure.properties.template',
        files,
        {
          PORT: String(port),
          CONTROLLER_PORT: String(port + 1),
          ADMIN_USER: 'admin',
          ADMIN_PASSWORD: admin,
          KEYSTORE: sec.keystore,
          CA_FILE: sec.caFile,
        },
        0o600,
      );
    },
    async formatArgs() {
      const passwords = await newPasswords(sec);
      await this.writeProperties();
      return scramArgs(passwords);
    },
    transport: async () => ({ tlsCa: await readFile(sec.caFile, 'utf8') }),
    async afterReady() {
      const passwords = await readPasswords(sec);
      await provision(sec, bootstrap, passwords);
      await writeEnvFiles(sec, bootstrap, passwords);
    },
  };
}

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
    const r = await copyDependencies(POM, tmp, ['-DincludeScope=runtime']);
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

async function formatStorageOnce(b: Broker, cp: string): Promise<void> {
  const p = b.files;
  if (existsSync(join(p.logDirs, 'meta.properties'))) return;
  say(`formatting storage in ${p.logDirs}…`);
  const clusterId = await randomClusterId(cp, p.logs);
  const extra = await b.formatArgs();
  const fmt = await run(javaBin(), [
    ...kafkaJavaArgs(p.logs, cp),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    p.props,
    '--standalone',
    ...extra,
  ]);
  if (fmt.code !== 0) {
    throw kafkaError('FORMAT_FAILED', `StorageTool format failed:\n${fmt.out.slice(-4000)}`, {
      clusterId,
    });
  }
}

/** Pids get reused: only a live `java … kafka.Kafka <this broker's properties>` counts. */
const isOurBroker = (b: Broker, pid: number) =>
  isOurProcess(
    pid,
    (argv) =>
      /(^|\/)java$/.test(argv[0] ?? '') &&
      argv.includes('kafka.Kafka') &&
      argv.includes(b.files.props),
  );

/** The broker's pid, removing a stale pid file on the way. */
const livePid = (b: Broker) =>
  readLivePid(b.files.pid, (pid) => isOurBroker(b, pid), { removeUnparsable: false });

const bootstrapOf = (b: Broker) => `${HOST}:${b.port}`;

/** Test files run in parallel and each calls ensureKafka: one of them starts the broker. */
const startLock = (b: Broker) => ({
  file: b.files.lock,
  startTimeoutMs: START_TIMEOUT_MS,
  timeoutError: (owner: number, lock: string) =>
    kafkaError(
      'LOCK_TIMEOUT',
      `another process (pid ${owner}) holds ${lock} and has not finished starting ${b.name}`,
    ),
});

async function statusOf(b: Broker): Promise<KafkaStatus> {
  const pid = await livePid(b);
  const bootstrap = bootstrapOf(b);
  if (pid !== null) return { running: true, pid, foreign: false, bootstrap };
  const foreign = await portOpen(b.port);
  return { running: foreign, pid: null, foreign, bootstrap };
}

/** Where the plaintext broker stands, without starting or stopping anything. */
export const kafkaStatus = () => statusOf(plainBroker());

async function startBroker(b: Broker): Promise<void> {
  checkJava();
  const cp = await kafkaClasspath();
  const p = b.files;
  await mkdir(p.logs, { recursive: true });
  await b.writeProperties();
  await formatStorageOnce(b, cp);

  const out = await freshLogs(p);
  say(`starting ${b.name} ${kafkaVersion()} on ${bootstrapOf(b)} (data in ${p.data})…`);
  const started = Date.now();
  const pid = await spawnKafka(p, cp, out);
  await waitForReadyLine({
    files: p,
    pid,
    started,
    timeoutMs: START_TIMEOUT_MS,
    name: b.name,
    context: {},
    onTimeout: () => stopBroker(b),
  });
  say(`started in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
}

async function ensureBroker(b: Broker): Promise<{ bootstrap: string; startedByUs: boolean }> {
  await mkdir(b.files.data, { recursive: true });
  const bootstrap = bootstrapOf(b);
  return withStartLock(startLock(b), async () => {
    const pid = await livePid(b);
    let startedByUs = false;
    if (pid !== null) {
      // Its starter may have died before the broker was ready.
      if (!(await waitUntilServing(b.port, START_TIMEOUT_MS, await b.transport()))) {
        throw kafkaError(
          'START_TIMEOUT',
          `${b.name} (pid ${pid}) is running but does not answer on ${bootstrap}`,
          { pid },
        );
      }
      say(`${b.name} already running (pid ${pid}) on ${bootstrap}`);
    } else if (await portOpen(b.port)) {
      // The secure broker's users and CA live in its data folder: another broker is no use.
      if (b.afterReady !== undefined) {
        throw kafkaError(
          'PORT_IN_USE',
          `${bootstrap} is taken by a process this script did not start; stop it or set KAFKA_SECURE_PORT`,
        );
      }
      say(
        `note: something not started by this script already listens on ${bootstrap}; using it as the broker`,
      );
      return { bootstrap, startedByUs: false };
    } else {
      await startBroker(b);
      startedByUs = true;
    }
    await b.afterReady?.();
    if (startedByUs) say(`${b.name} ready on ${bootstrap}`);
    return { bootstrap, startedByUs };
  });
}

/**
 * Starts the local broker unless one is already up; safe to call from many processes at once.
 * `startedByUs` is true only when this call started it.
 */
export const ensureKafka = () => ensureBroker(plainBroker());

export interface SecureKafka {
  bootstrap: string;
  startedByUs: boolean;
  /** The CA that signed the broker certificate (KAFKA_SSL_CA_FILE). */
  caFile: string;
  /** The KAFKA_* variables of each user, also in `envFiles`. */
  env: Record<Principal, Record<string, string>>;
  envFiles: Record<Principal, string>;
}

/**
 * Starts the secure broker (SASL_SSL, SCRAM-SHA-512, ACLs) unless it is up, creates its topics
 * and ACLs as admin, and returns how each user reaches it. Safe to call from many processes.
 */
export async function ensureSecureKafka(): Promise<SecureKafka> {
  const b = secureBroker();
  const started = await ensureBroker(b);
  const sec = secureFiles(b.files.data);
  const passwords = await readPasswords(sec);
  const pick = <T>(f: (p: Principal) => T) =>
    Object.fromEntries(PRINCIPALS.map((p) => [p, f(p)])) as Record<Principal, T>;
  return {
    ...started,
    caFile: sec.caFile,
    env: pick((p) => clientEnv(sec, started.bootstrap, p, passwords)),
    envFiles: pick((p) => sec.envFile(p)),
  };
}

async function stopBroker(b: Broker): Promise<{ stopped: boolean; pid: number | null }> {
  const pid = await livePid(b);
  if (pid === null) {
    say(`${b.name} not running`);
    return { stopped: false, pid: null };
  }
  say(`stopping ${b.name} (pid ${pid})…`);
  process.kill(pid, 'SIGTERM');
  await awaitExit(pid, Date.now() + STOP_TIMEOUT_MS, () =>
    say(`still alive after ${STOP_TIMEOUT_MS / 1000} s, sending SIGKILL`),
  );
  await rm(b.files.pid, { force: true });
  say(`${b.name} stopped`);
  return { stopped: true, pid };
}

/** Stops the plaintext broker this script started: SIGTERM, then SIGKILL after 30 s. */
export const stopKafka = () => stopBroker(plainBroker());
/** Stops the secure broker this script started. */
export const stopSecureKafka = () => stopBroker(secureBroker());

async function main(cmd: string | undefined, flags: string[]): Promise<void> {
  const secure = flags.includes('--secure');
  switch (cmd) {
    case 'start':
      if (!secure) {
        await ensureKafka();
        return;
      }
      {
        const s = await ensureSecureKafka();
        say(
          `credentials (0600) for ${PRINCIPALS.join(', ')}: ${dirname(s.envFiles.admin)}/<user>.env`,
        );
        say(`e.g. set -a; . ${s.envFiles.inventory}; set +a; npm run start:inventory`);
      }
      return;
    case 'stop':
      // Both by default (CI's last step); `--secure` leaves the plaintext one to its other users.
      if (!secure) await stopBroker(plainBroker());
      await stopBroker(secureBroker());
      return;
    case 'status':
      for (const b of [plainBroker(), secureBroker()]) {
        const s = await statusOf(b);
        if (s.pid !== null) say(`${b.name}: running (pid ${s.pid}) on ${s.bootstrap}`);
        else if (s.foreign)
          say(`${b.name}: running on ${s.bootstrap}, but not started by this script (no pid)`);
        else say(`${b.name}: stopped (${s.bootstrap})`);
      }
      return;
    default:
      console.error('usage: node scripts/kafka.ts start [--secure] | stop [--secure] | status');
      process.exitCode = 1;
  }
}

if (import.meta.main) runMain('kafka', () => main(process.argv[2], process.argv.slice(3)));
