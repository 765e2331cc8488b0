/**
 * A real local schema registry (Apicurio Registry, Confluent-compatible API), from Maven Central,
 * no Docker: what `npm run cli -- schemas ...`, the registry tests and a by-hand look use.
 *
 *   node scripts/registry.ts start|stop|status
 *
 * The application archive is unpacked once into .cache/apicurio/<version> (the version is in
 * apicurio/pom.xml) and run with `java -jar quarkus-run.jar`. It needs Java 21+:
 * REGISTRY_JAVA_HOME, else JAVA_HOME when it is 21+, else the newest JDK under /usr/lib/jvm.
 * Storage is in memory (H2 in-memory, Apicurio's default): every start is empty, so register
 * before checking. Its pid file and log are in .data/registry. Tests call `ensureRegistry()`:
 * the first starts it, the others reuse it; `.ci/run` stops it at the end.
 *
 * Environment: SCHEMA_REGISTRY_PORT (default 8280), SCHEMA_REGISTRY_MANAGEMENT_PORT (default
 * 9280: health; Quarkus would open 9000 on every interface otherwise), REGISTRY_DATA_DIR
 * (default <repo>/.data/registry).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../src/platform/errors.ts';
import { logger, runMain } from './lib/cli.ts';
import { answers, daemonStatus, ensureDaemon, launch, portFrom, stopDaemon } from './lib/daemon.ts';
import type { Daemon } from './lib/daemon.ts';
import { javaHomeAtLeast } from './lib/java.ts';
import { fetchOnce, pomProperty, unpackInPlace } from './lib/maven.ts';

const ROOT = resolve(import.meta.dirname, '..');
const POM = join(ROOT, 'apicurio', 'pom.xml');
const HOST = '127.0.0.1';
const say = logger('registry');

export interface RegistryInfo {
  /** SCHEMA_REGISTRY_URL: the Confluent-compatible API, e.g. http://127.0.0.1:8280/apis/ccompat/v7. */
  url: string;
}

const port = (): number => portFrom('SCHEMA_REGISTRY_PORT', 8280, 'ERP_REGISTRY_BAD_PORT');
const managementPort = (): number =>
  portFrom('SCHEMA_REGISTRY_MANAGEMENT_PORT', 9280, 'ERP_REGISTRY_BAD_PORT');
const url = () => `http://${HOST}:${port()}/apis/ccompat/v7`;
const info = (): RegistryInfo => ({ url: url() });

const registry = (): Daemon => ({
  name: 'registry',
  title: 'Apicurio Registry',
  dir: resolve(process.env['REGISTRY_DATA_DIR'] || join(ROOT, '.data', 'registry')),
  port: port(),
  portVariable: 'SCHEMA_REGISTRY_PORT',
  // Its jar's path (.cache/apicurio/...), not quarkus-run.jar alone: Keycloak runs one too.
  isOurs: (argv) => argv.some((a) => a.includes('apicurio') && a.endsWith('quarkus-run.jar')),
  // The API itself, not the health check: the ccompat routes are what callers need.
  ready: () => answers(`${url()}/subjects`),
  startTimeoutMs: 120_000,
  codes: {
    startFailed: 'ERP_REGISTRY_START_FAILED',
    startTimeout: 'ERP_REGISTRY_START_TIMEOUT',
    portInUse: 'ERP_REGISTRY_PORT_IN_USE',
  },
});

export const registryVersion = (): string =>
  pomProperty(POM, 'apicurio.version', 'ERP_REGISTRY_SETUP_FAILED');

/** The archive has no top folder: the version's folder is the application. */
async function ensureApplication(): Promise<string> {
  const version = registryVersion();
  const dir = join(ROOT, '.cache', 'apicurio', version);
  if (existsSync(join(dir, 'quarkus-run.jar'))) return dir;
  say(`fetching Apicurio Registry ${version} from Maven Central into ${dir} (once, about 160 MB)…`);
  const started = Date.now();
  const fetched = await fetchOnce(POM, dir, ['-DexcludeTransitive=true'], (tmp) =>
    unpackInPlace(join(tmp, `apicurio-registry-app-${version}-all.tar.gz`)),
  );
  if (fetched.code !== 0) {
    throw new AppError(
      'ERP_REGISTRY_SETUP_FAILED',
      `could not fetch or unpack io.apicurio:apicurio-registry-app:${version}:tar.gz:all:\n${fetched.out.slice(-4000)}`,
    );
  }
  say(`unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Starts the registry unless ours is running; resolves once its API answers. */
export function ensureRegistry(): Promise<RegistryInfo> {
  return ensureDaemon(registry(), { reuse: () => Promise.resolve(info()), start });
}

async function start(): Promise<RegistryInfo> {
  const app = await ensureApplication();
  const javaHome = javaHomeAtLeast(21, [
    process.env['REGISTRY_JAVA_HOME'],
    process.env['JAVA_HOME'],
  ]);
  if (javaHome === undefined) {
    throw new AppError(
      'ERP_REGISTRY_JAVA',
      'Apicurio Registry 3 needs Java 21 or newer; none found (REGISTRY_JAVA_HOME, JAVA_HOME, /usr/lib/jvm). Install one and set REGISTRY_JAVA_HOME',
    );
  }
  say(
    `starting Apicurio Registry ${registryVersion()} on ${HOST}:${port()} (Java at ${javaHome})…`,
  );
  const seconds = await launch(
    registry(),
    join(javaHome, 'bin', 'java'),
    // A test registry of a few dozen small schemas: a small heap leaves the machine to the tests.
    ['-Xms64m', '-Xmx384m', '-XX:+UseSerialGC', '-jar', join(app, 'quarkus-run.jar')],
    {
      ...process.env,
      JAVA_HOME: javaHome,
      QUARKUS_HTTP_HOST: HOST,
      QUARKUS_HTTP_PORT: String(port()),
      QUARKUS_MANAGEMENT_HOST: HOST,
      QUARKUS_MANAGEMENT_PORT: String(managementPort()),
      // Said, not assumed: the default today, and every start must be empty.
      APICURIO_STORAGE_KIND: 'sql',
      APICURIO_STORAGE_SQL_KIND: 'h2',
    },
  );
  say(`ready in ${seconds.toFixed(1)} s: SCHEMA_REGISTRY_URL=${url()}`);
  return info();
}

export const stopRegistry = (): Promise<void> => stopDaemon(registry());

if (import.meta.main) {
  runMain('registry', async () => {
    const command = process.argv[2];
    if (command === 'start') {
      await ensureRegistry();
      say(`SCHEMA_REGISTRY_URL=${url()}`);
    } else if (command === 'stop') {
      await stopRegistry();
    } else if (command === 'status') {
      say(await daemonStatus(registry(), `SCHEMA_REGISTRY_URL=${url()}`));
    } else {
      console.error('usage: node scripts/registry.ts start|stop|status');
      process.exitCode = 2;
    }
  });
}
