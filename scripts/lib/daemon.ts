/**
 * A local server that a script starts in the background and tests share (Keycloak, Zipkin,
 * Prometheus): its pid file, log and start lock live in its data folder; it is started once,
 * reused while it answers, and stopped by SIGTERM (SIGKILL when that does not do).
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../src/platform/errors.ts';
import { logger } from './cli.ts';
import { readLivePid } from './pid-file.ts';
import { portOpen } from './probe.ts';
import { awaitExit, isAlive, isOurProcess } from './process.ts';
import { withStartLock } from './start-lock.ts';

const HOST = '127.0.0.1';

export interface Daemon {
  /** 'zipkin': names the pid file and log (<dir>/zipkin.pid, zipkin.log) and prefixes log lines. */
  name: string;
  /** 'Zipkin', in messages. */
  title: string;
  /** Its data folder: pid file, log, start lock. */
  dir: string;
  port: number;
  /** The variable that moves it to another port, named when its port is taken. */
  portVariable: string;
  /** Pids get reused: whether a live pid's command line is this server's. */
  isOurs: (argv: string[]) => boolean;
  /** Whether it serves: its health or API answers. */
  ready: () => Promise<boolean>;
  startTimeoutMs: number;
  /** SIGKILL after this long; default 30 s. */
  stopTimeoutMs?: number;
  /** Its error codes, as literals so that test/docs/errors.test.ts finds them. */
  codes: { startFailed: string; startTimeout: string; portInUse: string };
}

export const daemonFiles = (d: Daemon) => ({
  pid: join(d.dir, `${d.name}.pid`),
  log: join(d.dir, `${d.name}.log`),
  lock: join(d.dir, 'start.lock'),
});

/** Its pid while it runs, whether or not it answers yet. */
export const runningPid = (d: Daemon): Promise<number | null> =>
  readLivePid(daemonFiles(d).pid, (pid) => isOurProcess(pid, d.isOurs), {
    removeUnparsable: true,
  });

/**
 * Under the start lock (test files run in parallel and each may ask): `reuse()` when ours runs,
 * answers and `fits` (default: always); otherwise a stale one is stopped, the port must be free (a
 * server this checkout did not start would answer with state we do not know), and `start()`
 * launches it.
 */
export async function ensureDaemon<T>(
  d: Daemon,
  how: {
    reuse: () => Promise<T>;
    start: () => Promise<T>;
    /** Whether the running one is what this checkout needs (e.g. the data it was started with). */
    fits?: () => Promise<boolean>;
  },
): Promise<T> {
  await mkdir(d.dir, { recursive: true });
  return withStartLock(
    {
      file: daemonFiles(d).lock,
      startTimeoutMs: d.startTimeoutMs,
      timeoutError: (owner, file) =>
        new AppError(
          d.codes.startTimeout,
          `another process (${owner}) has been starting ${d.title} for too long (${file})`,
        ),
    },
    async () => {
      const pid = await runningPid(d);
      if (pid !== null && (await d.ready())) {
        if ((await how.fits?.()) ?? true) return how.reuse();
        logger(d.name)(`pid ${pid} runs with what an older checkout needed; restarting it`);
      }
      if (pid !== null) await stopPid(d, pid);
      if (await portOpen(d.port)) {
        throw new AppError(
          d.codes.portInUse,
          `${HOST}:${d.port} is taken by a process this checkout did not start (another checkout's ${d.title}?); stop it, or set ${d.portVariable}`,
        );
      }
      return how.start();
    },
  );
}

/**
 * Spawns `cmd` detached, its output to the log, and waits until it answers; a server that exits
 * first fails with the end of its log, one that does not answer in time is stopped. Resolves to
 * the seconds it took.
 */
export async function launch(
  d: Daemon,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const f = daemonFiles(d);
  const log = await open(f.log, 'w');
  const started = Date.now();
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env });
  child.unref();
  await log.close();
  const pid = child.pid;
  if (pid === undefined) throw new AppError(d.codes.startFailed, `${cmd} did not start`);
  await writeFile(f.pid, String(pid));
  while (!(await d.ready())) {
    if (!isAlive(pid)) {
      const tail = (await readFile(f.log, 'utf8').catch(() => '')).slice(-3000);
      throw new AppError(d.codes.startFailed, `${d.title} exited while starting:\n${tail}`);
    }
    if (Date.now() - started > d.startTimeoutMs) {
      await stopPid(d, pid);
      throw new AppError(
        d.codes.startTimeout,
        `${d.title} did not answer within ${d.startTimeoutMs / 1000} s; see ${f.log}`,
      );
    }
    await sleep(250);
  }
  return (Date.now() - started) / 1000;
}

async function stopPid(d: Daemon, pid: number): Promise<void> {
  const timeoutMs = d.stopTimeoutMs ?? 30_000;
  process.kill(pid, 'SIGTERM');
  await awaitExit(pid, Date.now() + timeoutMs, () =>
    logger(d.name)(`pid ${pid} did not stop in ${timeoutMs / 1000} s; killing it`),
  );
  await rm(daemonFiles(d).pid, { force: true });
}

export async function stopDaemon(d: Daemon): Promise<void> {
  const say = logger(d.name);
  const pid = await runningPid(d);
  if (pid === null) return say('not running');
  say(`stopping pid ${pid}…`);
  await stopPid(d, pid);
  say('stopped');
}

/** `running (pid …), <where>` or `stopped`: what `<script> status` prints. */
export async function daemonStatus(d: Daemon, where: string): Promise<string> {
  const pid = await runningPid(d);
  return pid !== null && (await d.ready()) ? `running (pid ${pid}), ${where}` : 'stopped';
}

/** Whether `url` answers 2xx within 2 s: the readiness probe of an HTTP server. */
export async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return res?.ok === true;
}

/** A port from `variable`, else `fallback`; anything else fails with `code`. */
export function portFrom(variable: string, fallback: number, code: string): number {
  const raw = process.env[variable];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new AppError(code, `${variable} must be a port number, got "${raw}"`);
  }
  return n;
}
