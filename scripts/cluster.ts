/**
 * A real 3-node Apache Kafka cluster (KRaft, every node broker + controller) on 127.0.0.1 for the
 * fault suite, assembled from Maven Central like scripts/kafka.ts, no Docker.
 *
 *   node scripts/cluster.ts start|stop|status|kill <id>|restart <id>
 *
 * Node n (1-3) listens on n9092 (PLAINTEXT) and n9093 (CONTROLLER), keeps data, logs and its pid
 * file in .data/cluster/<n>, and is one of the static voters 1@:19093, 2@:29093, 3@:39093. The
 * three data folders are formatted once with one cluster id (.data/cluster/cluster.id).
 * `kill <id>` is kill -9; `restart <id>` starts the node again and returns once no partition of
 * any topic is under-replicated, i.e. the node is back in every ISR.
 *
 * `--secure` (or KAFKA_CLUSTER_SECURE=1) does all of this for a second, locked-down cluster: SASL_SSL
 * with SCRAM-SHA-512 and ACLs as in scripts/kafka.ts --secure (scripts/lib/kafka-secure.ts), on
 * n9192/n9193, in .data/cluster-secure, with `credentials/<user>.env` listing all three brokers.
 *
 * Environment:
 * - KAFKA_CLUSTER_DATA_DIR: parent of the node folders. Default <repo>/.data/cluster (the secure
 *   cluster: the same path with -secure appended).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { kafkaClasspath, kafkaVersion } from './kafka.ts';
import { logger, runMain } from './lib/cli.ts';
import { kafkaError } from './lib/errors.ts';
import { javaBin, javaMajor } from './lib/java.ts';
import {
  ensureCertificates,
  newPasswords,
  provision,
  readPasswords,
  scramArgs,
  secureFiles,
  writeAdminToolConfig,
  writeEnvFiles,
} from './lib/kafka-secure.ts';
import type { Passwords } from './lib/kafka-secure.ts';
import {
  freshLogs,
  kafkaJavaArgs,
  nodeFiles,
  randomClusterId,
  spawnKafka,
  waitForReadyLine,
} from './lib/kafka-node.ts';
import { parsePid, readLivePid } from './lib/pid-file.ts';
import { awaitExit, isAlive, isOurProcess, procState, run } from './lib/process.ts';
import { withStartLock } from './lib/start-lock.ts';

const ROOT = resolve(import.meta.dirname, '..');
const KAFKA_DIR = join(ROOT, 'kafka');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const IN_SYNC_TIMEOUT_MS = 120_000;

/** The node ids of the cluster. */
export const NODE_IDS = [1, 2, 3] as const;
export type NodeId = (typeof NODE_IDS)[number];

export interface NodeStatus {
  id: NodeId;
  /** Pid of the node this script started, null when it is not running. */
  pid: number | null;
  /** Stopped with SIGSTOP (see pauseNode). */
  paused: boolean;
  bootstrap: string;
}

const say = logger('cluster');

/** The secure cluster instead of the plaintext one (`--secure` sets it for the CLI). */
const isSecure = () => process.env['KAFKA_CLUSTER_SECURE'] === '1';
const portBase = () => (isSecure() ? 9192 : 9092);

/** Client port of node `id`: 19092, 29092, 39092 (secure: 19192, 29192, 39192). */
export const brokerPort = (id: NodeId): number => id * 10_000 + portBase();
const controllerPort = (id: NodeId): number => id * 10_000 + portBase() + 1;

/** The bootstrap list clients use: all three brokers. */
export function clusterBootstrap(): string[] {
  return NODE_IDS.map((id) => `${HOST}:${brokerPort(id)}`);
}

export function isNodeId(value: unknown): value is NodeId {
  return NODE_IDS.includes(Number(value) as NodeId);
}

const rootDir = () =>
  resolve(process.env['KAFKA_CLUSTER_DATA_DIR'] || join(ROOT, '.data', 'cluster')) +
  (isSecure() ? '-secure' : '');

const secureSetup = () => {
  const f = secureFiles(rootDir());
  return { f, toolConfig: join(rootDir(), 'admin-client.properties') };
};

/**
 * The secure cluster's certificates and passwords: made before the first format (SCRAM users are
 * written into every node's bootstrap metadata), read afterwards.
 */
async function securePasswords(): Promise<Passwords> {
  const { f, toolConfig } = secureSetup();
  await ensureCertificates(f);
  const formatted = NODE_IDS.some((id) =>
    existsSync(join(nodePaths(id).logDirs, 'meta.properties')),
  );
  const passwords =
    formatted || existsSync(f.passwords) ? await readPasswords(f) : await newPasswords(f);
  await writeAdminToolConfig(f, toolConfig, passwords);
  return passwords;
}

/** The admin's SASL_SSL options for the library, when the cluster is the secure one. */
async function adminSecurity() {
  if (!isSecure()) return {};
  const { f } = secureSetup();
  const passwords = await readPasswords(f);
  return {
    sasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'admin', password: passwords.admin },
    tls: { ca: await readFile(f.caFile, 'utf8') },
  };
}

const nodePaths = (id: NodeId) => nodeFiles(join(rootDir(), String(id)));

/**
 * Only whether Java runs: a Java older than 17 gets past this and fails at the first Kafka tool
 * or node start (scripts/kafka.ts checks the version up front).
 */
function checkJava(): void {
  if (javaMajor() === null) {
    throw kafkaError('JAVA_MISSING', `Java 17+ is required, but "${javaBin()}" could not be run`);
  }
}

/** Pids get reused: only a live `java … kafka.Kafka <this node's properties>` counts. */
const isOurNode = (id: NodeId, pid: number) =>
  isOurProcess(pid, (argv) => argv.includes('kafka.Kafka') && argv.includes(nodePaths(id).props));

/** The node's pid, removing a stale pid file (or one that names no pid) on the way. */
const livePid = (id: NodeId) =>
  readLivePid(nodePaths(id).pid, (pid) => isOurNode(id, pid), { removeUnparsable: true });

async function writeProperties(id: NodeId, passwords: Passwords | null): Promise<void> {
  const p = nodePaths(id);
  let template = await readFile(join(KAFKA_DIR, 'cluster.properties.template'), 'utf8');
  if (passwords !== null) {
    const { f } = secureSetup();
    template =
      `${template}\n${await readFile(join(KAFKA_DIR, 'cluster-secure.properties.template'), 'utf8')}`
        .replaceAll('{{ADMIN_USER}}', 'admin')
        .replaceAll('{{ADMIN_PASSWORD}}', passwords.admin)
        .replaceAll('{{KEYSTORE}}', f.keystore)
        .replaceAll('{{CA_FILE}}', f.caFile);
  }
  const text = template
    .replaceAll('{{NODE_ID}}', String(id))
    .replaceAll('{{PORT}}', String(brokerPort(id)))
    .replaceAll('{{CONTROLLER_PORT}}', String(controllerPort(id)))
    .replaceAll('{{LOG_DIRS}}', p.logDirs);
  await mkdir(p.logs, { recursive: true });
  // 0600: the secure cluster's file holds the admin password.
  await writeFile(p.props, text, { mode: 0o600 });
}

/** One cluster id for all three nodes, generated once. */
async function clusterId(cp: string): Promise<string> {
  const file = join(rootDir(), 'cluster.id');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const id = await randomClusterId(cp, nodePaths(1).logs);
  await writeFile(file, id);
  return id;
}

async function formatOnce(id: NodeId, cp: string, cid: string, extra: string[]): Promise<void> {
  const p = nodePaths(id);
  if (existsSync(join(p.logDirs, 'meta.properties'))) return;
  say(`formatting node ${id} in ${p.logDirs} (cluster id ${cid})…`);
  // No --standalone: the voters are the static controller.quorum.voters of the properties.
  const r = await run(javaBin(), [
    ...kafkaJavaArgs(p.logs, cp),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    cid,
    '-c',
    p.props,
    ...extra,
  ]);
  if (r.code !== 0) {
    throw kafkaError('FORMAT_FAILED', `StorageTool format of node ${id} failed:\n${r.out}`, {
      node: id,
    });
  }
}

async function spawnNode(id: NodeId, cp: string): Promise<number> {
  const p = nodePaths(id);
  return spawnKafka(p, cp, await freshLogs(p));
}

function waitReady(id: NodeId, pid: number, started: number): Promise<void> {
  return waitForReadyLine({
    files: nodePaths(id),
    pid,
    started,
    timeoutMs: START_TIMEOUT_MS,
    name: `node ${id}`,
    context: { node: id },
  });
}

/**
 * Starts the given nodes (those not running) at once and waits for each to be ready. They must
 * start together when the quorum is down: a node is ready only once a majority of voters is up.
 * Returns the nodes it started.
 */
export async function startNodes(ids: readonly NodeId[] = NODE_IDS): Promise<NodeId[]> {
  checkJava();
  const cp = await kafkaClasspath();
  await mkdir(rootDir(), { recursive: true });
  const cid = await clusterId(cp);
  const toStart: NodeId[] = [];
  for (const id of ids) {
    if ((await livePid(id)) === null) toStart.push(id);
  }
  if (toStart.length === 0) return [];
  const passwords = isSecure() ? await securePasswords() : null;
  for (const id of toStart) await writeProperties(id, passwords);
  const extra = passwords === null ? [] : scramArgs(passwords);
  await Promise.all(toStart.map((id) => formatOnce(id, cp, cid, extra)));
  const started = Date.now();
  say(`starting node(s) ${toStart.join(', ')} (Kafka ${kafkaVersion()})…`);
  const pids = await Promise.all(toStart.map((id) => spawnNode(id, cp)));
  try {
    await Promise.all(toStart.map((id, i) => waitReady(id, pids[i]!, started)));
  } catch (err) {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    throw err;
  }
  say(
    `node(s) ${toStart.join(', ')} ready in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(pids ${pids.join(', ')})`,
  );
  return toStart;
}

/** Serialises starts across processes (ensureCluster is safe to call from several). */
async function withClusterStartLock<T>(fn: () => Promise<T>): Promise<T> {
  await mkdir(rootDir(), { recursive: true });
  const lock = {
    file: join(rootDir(), 'start.lock'),
    startTimeoutMs: START_TIMEOUT_MS,
    timeoutError: (owner: number, file: string) =>
      kafkaError('LOCK_TIMEOUT', `process ${owner} holds ${file} and is still starting`),
  };
  return withStartLock(lock, fn);
}

/**
 * Starts whatever nodes of the cluster are not running and waits until all three serve and no
 * partition is under-replicated. Safe to call from several processes.
 */
export async function ensureCluster(): Promise<{ bootstrap: string[] }> {
  const started = await withClusterStartLock(async () => {
    for (const id of NODE_IDS) if ((await clusterStatusOf(id)).paused) resumeNode(id);
    return startNodes(NODE_IDS);
  });
  await waitInSync(IN_SYNC_TIMEOUT_MS, started.length > 0);
  if (isSecure()) {
    const { f } = secureSetup();
    const passwords = await readPasswords(f);
    const bootstrap = clusterBootstrap().join(',');
    await provision(f, bootstrap, passwords, { replicas: NODE_IDS.length });
    await writeEnvFiles(f, bootstrap, passwords);
  }
  return { bootstrap: clusterBootstrap() };
}

async function clusterStatusOf(id: NodeId): Promise<NodeStatus> {
  const pid = await livePid(id);
  return {
    id,
    pid,
    paused: pid !== null && procState(pid) === 'T',
    bootstrap: `${HOST}:${brokerPort(id)}`,
  };
}

/** Where each node stands, without starting or stopping anything. */
export async function clusterStatus(): Promise<NodeStatus[]> {
  return Promise.all(NODE_IDS.map(clusterStatusOf));
}

/** kill -9 of one node (no controlled shutdown, no flush). Returns its pid, null if not running. */
export async function killNode(id: NodeId): Promise<number | null> {
  const pid = await livePid(id);
  if (pid === null) return null;
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(20);
  await rm(nodePaths(id).pid, { force: true });
  return pid;
}

/** SIGSTOP: the node freezes with its sockets open (a hung machine rather than a dead one). */
export async function pauseNode(id: NodeId): Promise<void> {
  const pid = await livePid(id);
  if (pid === null) throw kafkaError('NOT_RUNNING', `node ${id} is not running`, { node: id });
  process.kill(pid, 'SIGSTOP');
}

/** SIGCONT after pauseNode. */
export function resumeNode(id: NodeId): void {
  const raw = existsSync(nodePaths(id).pid) ? readFileSync(nodePaths(id).pid, 'utf8') : '';
  const pid = parsePid(raw);
  if (pid !== null && isOurNode(id, pid)) process.kill(pid, 'SIGCONT');
}

/** Starts node `id` again and waits until it is back in the ISR of every partition. */
export async function restartNode(id: NodeId): Promise<void> {
  await startNodes([id]);
  const started = Date.now();
  await waitInSync();
  say(`node ${id} back in every ISR after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export interface UnderReplicated {
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
}

/** Partitions (internal topics included) whose ISR lacks one of their replicas. */
export async function underReplicatedPartitions(): Promise<UnderReplicated[]> {
  const admin = new Admin({
    clientId: 'erp-events-cluster',
    bootstrapBrokers: clusterBootstrap(),
    connectTimeout: 2000,
    retries: 0,
    ...(await adminSecurity()),
  });
  try {
    const topics = await admin.listTopics({ includeInternals: true });
    const metadata = await admin.metadata({ topics, forceUpdate: true, retries: 0 });
    const result: UnderReplicated[] = [];
    for (const [topic, info] of metadata.topics) {
      // The library leaves internal topics (__consumer_offsets…) out: see underReplicatedByTool.
      if (info === undefined) continue;
      info.partitions.forEach((p, partition) => {
        if (p.replicas.some((r) => !p.isr.includes(r))) {
          result.push({ topic, partition, replicas: p.replicas, isr: p.isr });
        }
      });
    }
    // A fenced or missing broker may still be listed as a replica in sync for a moment; require
    // every node to be registered too.
    for (const id of NODE_IDS) {
      if (!metadata.brokers.has(id))
        result.push({ topic: '(broker)', partition: id, replicas: [id], isr: [] });
    }
    return result;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Under-replicated partitions of every topic, internal ones included, as Kafka's own
 * `kafka-topics --describe --under-replicated-partitions` prints them (one line each).
 */
export async function underReplicatedByTool(): Promise<string[]> {
  const cp = await kafkaClasspath();
  const r = await run(javaBin(), [
    ...kafkaJavaArgs(nodePaths(1).logs, cp),
    'org.apache.kafka.tools.TopicCommand',
    '--bootstrap-server',
    clusterBootstrap().join(','),
    '--describe',
    '--under-replicated-partitions',
    ...(isSecure() ? ['--command-config', secureSetup().toolConfig] : []),
  ]);
  if (r.code !== 0) throw kafkaError('TOOL_FAILED', `TopicCommand failed:\n${r.out.slice(-2000)}`);
  return r.out.split('\n').filter((line) => line.includes('Partition:'));
}

/**
 * Waits until every node is registered and no partition is under-replicated: first by the admin
 * API (cheap, user topics), then, when `thorough`, confirmed by TopicCommand, which also sees the
 * internal topics (a JVM start, a few seconds).
 */
export async function waitInSync(timeoutMs = IN_SYNC_TIMEOUT_MS, thorough = true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const lagging = await underReplicatedPartitions();
      if (lagging.length === 0) {
        if (!thorough) return;
        const lines = await underReplicatedByTool();
        if (lines.length === 0) return;
        last = lines.slice(0, 5);
      } else {
        last = lagging.slice(0, 5);
      }
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) {
      throw kafkaError(
        'NOT_IN_SYNC',
        `partitions still under-replicated after ${timeoutMs / 1000} s: ${JSON.stringify(last)}`,
      );
    }
    await sleep(1000);
  }
}

/** Stops every node (SIGTERM, all at once: a controlled shutdown needs the others' quorum). */
export async function stopCluster(): Promise<void> {
  const pids: Array<[NodeId, number]> = [];
  for (const id of NODE_IDS) {
    resumeNode(id);
    const pid = await livePid(id);
    if (pid !== null) pids.push([id, pid]);
  }
  if (pids.length === 0) {
    say('not running');
    return;
  }
  say(`stopping node(s) ${pids.map(([id]) => id).join(', ')}…`);
  for (const [, pid] of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  await Promise.all(
    pids.map(async ([id, pid]) => {
      await awaitExit(pid, deadline, () =>
        say(`node ${id} still alive after ${STOP_TIMEOUT_MS / 1000} s, sending SIGKILL`),
      );
      await rm(nodePaths(id).pid, { force: true });
    }),
  );
  say('stopped');
}

function parseId(raw: string | undefined): NodeId {
  if (!isNodeId(raw)) {
    throw kafkaError('BAD_NODE', `node id must be one of ${NODE_IDS.join(', ')}, got "${raw}"`);
  }
  return Number(raw) as NodeId;
}

async function main(cmd: string | undefined, arg: string | undefined): Promise<void> {
  switch (cmd) {
    case 'start':
      await ensureCluster();
      say(`ready: ${clusterBootstrap().join(',')}`);
      if (isSecure()) say(`credentials (0600): ${secureSetup().f.credentials}/<user>.env`);
      return;
    case 'stop':
      await stopCluster();
      return;
    case 'status':
      for (const s of await clusterStatus()) {
        const state =
          s.pid === null
            ? 'stopped'
            : s.paused
              ? `paused (pid ${s.pid})`
              : `running (pid ${s.pid})`;
        say(`node ${s.id} ${s.bootstrap} ${state}`);
      }
      return;
    case 'kill': {
      const id = parseId(arg);
      const pid = await killNode(id);
      say(pid === null ? `node ${id} was not running` : `node ${id} killed (pid ${pid})`);
      return;
    }
    case 'restart': {
      const id = parseId(arg);
      await restartNode(id);
      return;
    }
    default:
      console.error(
        'usage: node scripts/cluster.ts start|stop|status|kill <id>|restart <id> [--secure]',
      );
      process.exitCode = 1;
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes('--secure')) process.env['KAFKA_CLUSTER_SECURE'] = '1';
  const [cmd, arg] = args.filter((a) => a !== '--secure');
  runMain('cluster', () => main(cmd, arg));
}
