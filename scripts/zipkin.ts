/**
 * A real local Zipkin (the trace backend of the tracing tests and of a by-hand look at traces),
 * from Maven Central, no Docker.
 *
 *   node scripts/zipkin.ts start|stop|status
 *
 * The executable jar is copied once into .cache/zipkin/<version> (the version is in
 * zipkin/pom.xml) and run with `java -jar` (Java 17 is enough: JAVA_HOME, else `java` on the PATH)
 * with in-memory storage: every start is empty. Its pid file and log are in .data/zipkin. Tests
 * call `ensureZipkin()`: the first starts it, the others (parallel test files, the second
 * `npm test` of CI) reuse it; `.ci/run` stops it at the end.
 *
 * Environment: ZIPKIN_PORT (default 9411), ZIPKIN_DATA_DIR (default <repo>/.data/zipkin).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../src/platform/errors.ts';
import { logger, runMain } from './lib/cli.ts';
import {
  answers,
  daemonStatus,
  ensureDaemon,
  launch,
  portFrom,
  runningPid,
  stopDaemon,
} from './lib/daemon.ts';
import type { Daemon } from './lib/daemon.ts';
import { javaBin, javaMajor } from './lib/java.ts';
import { fetchOnce, pomProperty } from './lib/maven.ts';

const ROOT = resolve(import.meta.dirname, '..');
const POM = join(ROOT, 'zipkin', 'pom.xml');
const HOST = '127.0.0.1';
const say = logger('zipkin');

export interface ZipkinInfo {
  /** e.g. http://127.0.0.1:9411: spans in at /api/v2/spans, out at /api/v2/trace/<id>. */
  url: string;
}

const port = (): number => portFrom('ZIPKIN_PORT', 9411, 'ERP_ZIPKIN_BAD_PORT');
const url = () => `http://${HOST}:${port()}`;
const info = (): ZipkinInfo => ({ url: url() });

const zipkin = (): Daemon => ({
  name: 'zipkin',
  title: 'Zipkin',
  dir: resolve(process.env['ZIPKIN_DATA_DIR'] || join(ROOT, '.data', 'zipkin')),
  port: port(),
  portVariable: 'ZIPKIN_PORT',
  isOurs: (argv) => argv.some((a) => a.includes('zipkin-server')),
  // The storage's health, not just the port: the collector opens with it.
  ready: () => answers(`${url()}/health`),
  startTimeoutMs: 120_000,
  codes: {
    startFailed: 'ERP_ZIPKIN_START_FAILED',
    startTimeout: 'ERP_ZIPKIN_START_TIMEOUT',
    portInUse: 'ERP_ZIPKIN_PORT_IN_USE',
  },
});

export const zipkinVersion = (): string =>
  pomProperty(POM, 'zipkin.version', 'ERP_ZIPKIN_SETUP_FAILED');

/** The exec jar, copied once (about 85 MB). */
async function ensureJar(): Promise<string> {
  const dir = join(ROOT, '.cache', 'zipkin', zipkinVersion());
  const jar = join(dir, `zipkin-server-${zipkinVersion()}-exec.jar`);
  if (existsSync(jar)) return jar;
  say(`fetching Zipkin ${zipkinVersion()} from Maven Central into ${dir} (once, about 85 MB)…`);
  const fetched = await fetchOnce(POM, dir, []);
  if (fetched.code !== 0) {
    throw new AppError(
      'ERP_ZIPKIN_SETUP_FAILED',
      `could not fetch io.zipkin:zipkin-server:${zipkinVersion()}:exec:\n${fetched.out.slice(-4000)}`,
    );
  }
  return jar;
}

/** Starts Zipkin unless ours is running; resolves once it reports healthy. */
export function ensureZipkin(): Promise<ZipkinInfo> {
  return ensureDaemon(zipkin(), { reuse: () => Promise.resolve(info()), start });
}

async function start(): Promise<ZipkinInfo> {
  const major = javaMajor();
  if (major === null || !(major >= 17)) {
    throw new AppError(
      'ERP_ZIPKIN_JAVA',
      `Zipkin 3 needs Java 17 or newer; "${javaBin()}" is ${major === null ? 'not runnable' : `Java ${major || 'unknown'}`}`,
    );
  }
  const jar = await ensureJar();
  say(`starting Zipkin ${zipkinVersion()} on ${url()}…`);
  const seconds = await launch(zipkin(), javaBin(), [
    // A test trace backend holding a few traces in memory: a small heap leaves the machine to the tests.
    '-Xms32m',
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-jar',
    jar,
    // Armeria serves Zipkin 3; its port list replaces server.port so that it binds loopback only.
    `--armeria.ports[0].ip=${HOST}`,
    `--armeria.ports[0].port=${port()}`,
    '--armeria.ports[0].protocols[0]=http',
    '--zipkin.storage.type=mem',
    // Its default keeps 500,000 spans: more than the small heap holds, so a bench run with tracing
    // on left it collecting garbage full time and its collector timing out. The newest 20,000
    // are plenty for a test's trace.
    '--zipkin.storage.mem.max-spans=20000',
  ]);
  say(`ready in ${seconds.toFixed(1)} s: ${url()}`);
  return info();
}

export const stopZipkin = (): Promise<void> => stopDaemon(zipkin());

/** Its pid while it runs (the bench reads its CPU time). */
export const zipkinPid = (): Promise<number | null> => runningPid(zipkin());

if (import.meta.main) {
  runMain('zipkin', async () => {
    const command = process.argv[2];
    if (command === 'start') {
      await ensureZipkin();
      say(`spans to ${url()}/api/v2/spans, UI at ${url()}/zipkin/`);
    } else if (command === 'stop') {
      await stopZipkin();
    } else if (command === 'status') {
      say(await daemonStatus(zipkin(), url()));
    } else {
      console.error('usage: node scripts/zipkin.ts start|stop|status');
      process.exitCode = 2;
    }
  });
}
