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
 * Environment:
 * - KAFKA_CLUSTER_DATA_DIR: parent of the node folders. Default <repo>/.data/cluster.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { AppError } from '../src/platform/errors.ts';
import { kafkaClasspath, kafkaVersion } from './kafka.ts';

const ROOT = resolve(import.meta.dirname, '..');
const KAFKA_DIR = join(ROOT, 'kafka');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const IN_SYNC_TIMEOUT_MS = 120_000;
const READY_LINE = 'Kafka Server started';

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

const clusterError = (code: string, message: string, context: Record<string, unknown> = {}) =>
  new AppError(`ERP_KAFKA_${code}`, message, { context });

const say = (line: string) => console.log(`[cluster] ${line}`);

/** PLAINTEXT port of node `id`: 19092, 29092, 39092. */
export const brokerPort = (id: NodeId): number => id * 10_000 + 9092;
const controllerPort = (id: NodeId): number => id * 10_000 + 9093;

/** The bootstrap list clients use: all three brokers. */
export function clusterBootstrap(): string[] {
  return NODE_IDS.map((id) => `${HOST}:${brokerPort(id)}`);
}

export function isNodeId(value: unknown): value is NodeId {
  return NODE_IDS.includes(Number(value) as NodeId);
}

const rootDir = () =>
  resolve(process.env['KAFKA_CLUSTER_DATA_DIR'] || join(ROOT, '.data', 'cluster'));

function nodePaths(id: NodeId) {
  const data = join(rootDir(), String(id));
  return {
    data,
    logDirs: join(data, 'kraft'),
    logs: join(data, 'logs'),
    props: join(data, 'server.properties'),
    pid: join(data, 'kafka.pid'),
    serverLog: join(data, 'logs', 'server.log'),
    outFile: join(data, 'logs', 'kafka.out'),
  };
}

function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

function checkJava(): void {
  const r = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw clusterError('JAVA_MISSING', `Java 17+ is required, but "${javaBin()}" could not be run`);
  }
}

function javaArgs(id: NodeId, cp: string, extra: string[] = []): string[] {
  return [
    `-Dlog4j2.configurationFile=${join(KAFKA_DIR, 'log4j2.yaml')}`,
    `-Dkafka.logs.dir=${nodePaths(id).logs}`,
    '-Djava.awt.headless=true',
    ...extra,
    '-cp',
    cp,
  ];
}

/** Runs a command to completion, collecting output for error messages. */
function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, out }));
  });
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Alive and not a zombie (a dead child of a live parent stays in the table as "Z"). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return procState(pid) !== 'Z';
}

/** The state letter in /proc/<pid>/stat (R, S, T for stopped, Z...), null without /proc. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Pids get reused: only a live `java … kafka.Kafka <this node's properties>` counts. */
function isOurNode(id: NodeId, pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('kafka.Kafka') && argv.includes(nodePaths(id).props);
  } catch {
    return true; // no /proc (macOS): kill(0) is all we have
  }
}

/** The node's pid, removing a stale pid file on the way. */
async function livePid(id: NodeId): Promise<number | null> {
  const file = nodePaths(id).pid;
  let pid: number;
  try {
    pid = Number((await readFile(file, 'utf8')).trim());
  } catch {
    return null;
  }
  if (Number.isInteger(pid) && pid > 0 && isOurNode(id, pid)) return pid;
  await rm(file, { force: true });
  return null;
}

async function writeProperties(id: NodeId): Promise<void> {
  const p = nodePaths(id);
  const template = await readFile(join(KAFKA_DIR, 'cluster.properties.template'), 'utf8');
  const text = template
    .replaceAll('{{NODE_ID}}', String(id))
    .replaceAll('{{PORT}}', String(brokerPort(id)))
    .replaceAll('{{CONTROLLER_PORT}}', String(controllerPort(id)))
    .replaceAll('{{LOG_DIRS}}', p.logDirs);
  await mkdir(p.logs, { recursive: true });
  await writeFile(p.props, text);
}

/** One cluster id for all three nodes, generated once. */
async function clusterId(cp: string): Promise<string> {
  const file = join(rootDir(), 'cluster.id');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const r = await run(javaBin(), [...javaArgs(1, cp), 'kafka.tools.StorageTool', 'random-uuid']);
  const id = r.out.trim().split('\n').pop()?.trim() ?? '';
  if (r.code !== 0 || !/^[\w-]{22}$/.test(id)) {
    throw clusterError('FORMAT_FAILED', `StorageTool random-uuid failed:\n${r.out.slice(-4000)}`);
  }
  await writeFile(file, id);
  return id;
}

async function formatOnce(id: NodeId, cp: string, cid: string): Promise<void> {
  const p = nodePaths(id);
  if (existsSync(join(p.logDirs, 'meta.properties'))) return;
  say(`formatting node ${id} in ${p.logDirs} (cluster id ${cid})…`);
  // No --standalone: the voters are the static controller.quorum.voters of the properties.
  const r = await run(javaBin(), [
    ...javaArgs(id, cp),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    cid,
    '-c',
    p.props,
  ]);
  if (r.code !== 0) {
    throw clusterError('FORMAT_FAILED', `StorageTool format of node ${id} failed:\n${r.out}`, {
      node: id,
    });
  }
}

async function spawnNode(id: NodeId, cp: string): Promise<number> {
  const p = nodePaths(id);
  // Fresh server.log per start, so the ready line we find belongs to this run.
  if (existsSync(p.serverLog)) await rename(p.serverLog, `${p.serverLog}.previous`);
  const out = await open(p.outFile, 'w');
  const heap = [
    '-Xms512m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExplicitGCInvokesConcurrent',
  ];
  const child = spawn(javaBin(), [...javaArgs(id, cp, heap), 'kafka.Kafka', p.props], {
    cwd: p.data,
    detached: true,
    stdio: ['ignore', out.fd, out.fd],
  });
  await out.close();
  child.unref();
  if (child.pid === undefined) throw clusterError('START_FAILED', `could not spawn ${javaBin()}`);
  await writeFile(p.pid, String(child.pid));
  return child.pid;
}

async function waitReady(id: NodeId, pid: number, started: number): Promise<void> {
  const p = nodePaths(id);
  const logs = async () =>
    `--- ${p.outFile}\n${await tail(p.outFile)}\n--- ${p.serverLog}\n${await tail(p.serverLog)}`;
  for (;;) {
    const log = await readFile(p.serverLog, 'utf8').catch(() => '');
    if (log.includes(READY_LINE)) return;
    if (!isAlive(pid)) {
      await rm(p.pid, { force: true });
      throw clusterError('START_FAILED', `node ${id} exited during startup:\n${await logs()}`, {
        node: id,
        pid,
      });
    }
    if (Date.now() > started + START_TIMEOUT_MS) {
      throw clusterError(
        'START_TIMEOUT',
        `node ${id} did not log "${READY_LINE}" within ${START_TIMEOUT_MS / 1000} s:\n${await logs()}`,
        { node: id, pid },
      );
    }
    await sleep(200);
  }
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
  for (const id of toStart) await writeProperties(id);
  await Promise.all(toStart.map((id) => formatOnce(id, cp, cid)));
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

/** Serialises starts across processes; a lock whose owner died is taken over. */
async function withStartLock<T>(fn: () => Promise<T>): Promise<T> {
  await mkdir(rootDir(), { recursive: true });
  const lock = join(rootDir(), 'start.lock');
  const deadline = Date.now() + START_TIMEOUT_MS + 60_000;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (owner > 0 && !isAlive(owner)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw clusterError('LOCK_TIMEOUT', `process ${owner} holds ${lock} and is still starting`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Starts whatever nodes of the cluster are not running and waits until all three serve and no
 * partition is under-replicated. Safe to call from several processes.
 */
export async function ensureCluster(): Promise<{ bootstrap: string[] }> {
  const started = await withStartLock(async () => {
    for (const id of NODE_IDS) if ((await clusterStatusOf(id)).paused) resumeNode(id);
    return startNodes(NODE_IDS);
  });
  await waitInSync(IN_SYNC_TIMEOUT_MS, started.length > 0);
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
  if (pid === null) throw clusterError('NOT_RUNNING', `node ${id} is not running`, { node: id });
  process.kill(pid, 'SIGSTOP');
}

/** SIGCONT after pauseNode. */
export function resumeNode(id: NodeId): void {
  const raw = existsSync(nodePaths(id).pid) ? readFileSync(nodePaths(id).pid, 'utf8') : '';
  const pid = Number(raw.trim());
  if (Number.isInteger(pid) && pid > 0 && isOurNode(id, pid)) process.kill(pid, 'SIGCONT');
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
    ...javaArgs(1, cp),
    'org.apache.kafka.tools.TopicCommand',
    '--bootstrap-server',
    clusterBootstrap().join(','),
    '--describe',
    '--under-replicated-partitions',
  ]);
  if (r.code !== 0)
    throw clusterError('TOOL_FAILED', `TopicCommand failed:\n${r.out.slice(-2000)}`);
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
      throw clusterError(
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
      while (isAlive(pid) && Date.now() < deadline) await sleep(200);
      if (isAlive(pid)) {
        say(`node ${id} still alive after ${STOP_TIMEOUT_MS / 1000} s, sending SIGKILL`);
        process.kill(pid, 'SIGKILL');
        while (isAlive(pid)) await sleep(100);
      }
      await rm(nodePaths(id).pid, { force: true });
    }),
  );
  say('stopped');
}

function parseId(raw: string | undefined): NodeId {
  if (!isNodeId(raw)) {
    throw clusterError('BAD_NODE', `node id must be one of ${NODE_IDS.join(', ')}, got "${raw}"`);
  }
  return Number(raw) as NodeId;
}

async function main(cmd: string | undefined, arg: string | undefined): Promise<void> {
  switch (cmd) {
    case 'start':
      await ensureCluster();
      say(`ready: ${clusterBootstrap().join(',')}`);
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
      console.error('usage: node scripts/cluster.ts start|stop|status|kill <id>|restart <id>');
      process.exitCode = 1;
  }
}

if (import.meta.main) {
  main(process.argv[2], process.argv[3]).catch((err: unknown) => {
    if (err instanceof AppError) console.error(`[cluster] error ${err.code}: ${err.message}`);
    else console.error('[cluster] error:', err);
    process.exitCode = 1;
  });
}
