/**
 * One Kafka JVM (a combined KRaft broker + controller) started from the classpath kafkaClasspath()
 * assembles: shared by the single local broker and the 3-node cluster.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaError } from './errors.ts';
import { javaBin } from './java.ts';
import { isAlive, run } from './process.ts';

const KAFKA_DIR = resolve(import.meta.dirname, '..', '..', 'kafka');
const READY_LINE = 'Kafka Server started';
const HEAP = [
  '-Xms512m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:+ExplicitGCInvokesConcurrent',
];

/** The layout of one node's folder: both scripts rely on it (kafka/log4j2.yaml names server.log). */
export function nodeFiles(data: string) {
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
export type NodeFiles = ReturnType<typeof nodeFiles>;

/** JVM arguments up to the main class, for the broker and for Kafka's tools alike. */
export function kafkaJavaArgs(logs: string, cp: string, extra: string[] = []): string[] {
  return [
    `-Dlog4j2.configurationFile=${join(KAFKA_DIR, 'log4j2.yaml')}`,
    `-Dkafka.logs.dir=${logs}`,
    '-Djava.awt.headless=true',
    ...extra,
    '-cp',
    cp,
  ];
}

/** A new KRaft cluster id from StorageTool. */
export async function randomClusterId(cp: string, logs: string): Promise<string> {
  const r = await run(javaBin(), [
    ...kafkaJavaArgs(logs, cp),
    'kafka.tools.StorageTool',
    'random-uuid',
  ]);
  const id = r.out.trim().split('\n').pop()?.trim() ?? '';
  if (r.code !== 0 || !/^[\w-]{22}$/.test(id)) {
    throw kafkaError('FORMAT_FAILED', `StorageTool random-uuid failed:\n${r.out.slice(-4000)}`);
  }
  return id;
}

/**
 * A fresh server.log per start, so the ready line found there belongs to this run. Returns
 * kafka.out, emptied, for spawnKafka.
 */
export async function freshLogs(files: NodeFiles): Promise<FileHandle> {
  if (existsSync(files.serverLog)) await rename(files.serverLog, `${files.serverLog}.previous`);
  return open(files.outFile, 'w');
}

/**
 * Spawns the node detached (it outlives this script) with its output in `out`, which is closed
 * here once the child holds it, and writes the pid file. Returns the pid.
 */
export async function spawnKafka(files: NodeFiles, cp: string, out: FileHandle): Promise<number> {
  const child = spawn(
    javaBin(),
    [...kafkaJavaArgs(files.logs, cp, HEAP), 'kafka.Kafka', files.props],
    {
      cwd: files.data,
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
    },
  );
  await out.close();
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw kafkaError('START_FAILED', `could not spawn ${javaBin()}`);
  await writeFile(files.pid, String(pid));
  return pid;
}

export interface StartWatch {
  /** Passed through freshLogs before the spawn. */
  files: NodeFiles;
  pid: number;
  /** When the start began, and how long from then it may take. */
  started: number;
  timeoutMs: number;
  /** How errors name the process: "Kafka", "node 2". */
  name: string;
  /** Extra error context, before the pid. */
  context: Record<string, unknown>;
  /** Runs after the logs are read and before the timeout error is thrown. */
  onTimeout?: () => Promise<unknown>;
}

/** Waits for the ready line in server.log; a node that exits or takes too long fails with its logs. */
export async function waitForReadyLine(w: StartWatch): Promise<void> {
  const { outFile, serverLog } = w.files;
  const logs = async () =>
    `--- ${outFile}\n${await tail(outFile)}\n--- ${serverLog}\n${await tail(serverLog)}`;
  for (;;) {
    const log = await readFile(serverLog, 'utf8').catch(() => '');
    if (log.includes(READY_LINE)) return;
    if (!isAlive(w.pid)) {
      await rm(w.files.pid, { force: true });
      throw kafkaError('START_FAILED', `${w.name} exited during startup:\n${await logs()}`, {
        ...w.context,
        pid: w.pid,
      });
    }
    if (Date.now() > w.started + w.timeoutMs) {
      const text = await logs();
      if (w.onTimeout) await w.onTimeout();
      throw kafkaError(
        'START_TIMEOUT',
        `${w.name} did not log "${READY_LINE}" within ${w.timeoutMs / 1000} s:\n${text}`,
        { ...w.context, pid: w.pid },
      );
    }
    await sleep(200);
  }
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
