/**
 * A real local Keycloak (the identity provider of the OIDC tests and of a by-hand walk-through),
 * from Maven Central, no Docker.
 *
 *   node scripts/keycloak.ts start|stop|status
 *
 * The distribution is unpacked once into .cache/keycloak/<version> (the version is in
 * keycloak/pom.xml). Every start is fresh (`start-dev --db=dev-mem`): it imports the realm of
 * scripts/lib/keycloak-realm.ts with new client secrets, written to .data/keycloak/clients.json
 * (mode 0600) beside the pid file and the log. Keycloak needs Java 21+: KEYCLOAK_JAVA_HOME, else
 * JAVA_HOME when it is 21+, else the newest JDK under /usr/lib/jvm. Tests call `ensureKeycloak()`.
 *
 * Environment: KEYCLOAK_PORT (default 8180), KEYCLOAK_DATA_DIR (default <repo>/.data/keycloak).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../src/platform/errors.ts';
import { logger, runMain } from './lib/cli.ts';
import { answers, daemonStatus, ensureDaemon, launch, portFrom, stopDaemon } from './lib/daemon.ts';
import type { Daemon } from './lib/daemon.ts';
import { realmClients, realmJson, realmVersion, REALM } from './lib/keycloak-realm.ts';
import type { RealmClient } from './lib/keycloak-realm.ts';
import { javaHomeAtLeast } from './lib/java.ts';
import { fetchOnce, pomProperty, unpackInPlace } from './lib/maven.ts';

const ROOT = resolve(import.meta.dirname, '..');
const POM = join(ROOT, 'keycloak', 'pom.xml');
const HOST = '127.0.0.1';
const say = logger('keycloak');

export interface KeycloakInfo {
  /** AUTH_ISSUER_URL for the services. */
  issuerUrl: string;
  /** Where clients get tokens (client credentials). */
  tokenUrl: string;
  clients: Record<string, RealmClient>;
  /** realmVersion() of the realm it imported: another one is restarted (see ensureKeycloak). */
  realmVersion: string;
}

const port = (): number => portFrom('KEYCLOAK_PORT', 8180, 'ERP_KEYCLOAK_BAD_PORT');
const dataDir = () => resolve(process.env['KEYCLOAK_DATA_DIR'] || join(ROOT, '.data', 'keycloak'));
const clientsFile = () => join(dataDir(), 'clients.json');
const issuerUrl = () => `http://${HOST}:${port()}/realms/${REALM}`;

const keycloak = (): Daemon => ({
  name: 'keycloak',
  title: 'Keycloak',
  dir: dataDir(),
  port: port(),
  portVariable: 'KEYCLOAK_PORT',
  isOurs: (argv) => argv.some((a) => a.includes('keycloak') || a.includes('quarkus')),
  // Its realm answering discovery, not just the port: the realm is imported after the port opens.
  ready: () => answers(`${issuerUrl()}/.well-known/openid-configuration`),
  startTimeoutMs: 300_000,
  codes: {
    startFailed: 'ERP_KEYCLOAK_START_FAILED',
    startTimeout: 'ERP_KEYCLOAK_START_TIMEOUT',
    portInUse: 'ERP_KEYCLOAK_PORT_IN_USE',
  },
});

export const keycloakVersion = (): string =>
  pomProperty(POM, 'keycloak.version', 'ERP_KEYCLOAK_SETUP_FAILED');

const distDir = () =>
  join(ROOT, '.cache', 'keycloak', keycloakVersion(), `keycloak-${keycloakVersion()}`);

/** A JDK of Java 21 or newer: Keycloak 26 refuses Java 17. */
export function java21Home(): string {
  const home = javaHomeAtLeast(21, [process.env['KEYCLOAK_JAVA_HOME'], process.env['JAVA_HOME']]);
  if (home !== undefined) return home;
  throw new AppError(
    'ERP_KEYCLOAK_JAVA',
    `Keycloak needs Java 21 or newer; none found (KEYCLOAK_JAVA_HOME, JAVA_HOME, /usr/lib/jvm). Install one and set KEYCLOAK_JAVA_HOME`,
  );
}

/** Unpacks the distribution once; its folder appears by rename, so its presence means complete. */
async function ensureDistribution(): Promise<string> {
  const dist = distDir();
  if (existsSync(dist)) return dist;
  const version = keycloakVersion();
  const parent = resolve(dist, '..');
  say(`fetching Keycloak ${version} from Maven Central into ${parent} (once, about 160 MB)…`);
  const started = Date.now();
  const fetched = await fetchOnce(POM, parent, ['-DexcludeTransitive=true'], (tmp) =>
    unpackInPlace(join(tmp, `keycloak-quarkus-dist-${version}.tar.gz`)),
  );
  if (fetched.code !== 0) {
    throw new AppError(
      'ERP_KEYCLOAK_SETUP_FAILED',
      `could not fetch or unpack Keycloak ${version}:\n${fetched.out.slice(-4000)}`,
    );
  }
  say(`unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dist;
}

async function readInfo(): Promise<KeycloakInfo> {
  return JSON.parse(await readFile(clientsFile(), 'utf8')) as KeycloakInfo;
}

/**
 * Starts Keycloak unless ours is running with today's realm; resolves once its realm answers
 * discovery. One started with another realm (before a client was added) is restarted: the realm
 * is imported only at start.
 */
export function ensureKeycloak(): Promise<KeycloakInfo> {
  return ensureDaemon(keycloak(), {
    reuse: readInfo,
    start,
    fits: async () => (await readInfo().catch(() => undefined))?.realmVersion === realmVersion(),
  });
}

async function start(): Promise<KeycloakInfo> {
  const dist = await ensureDistribution();
  const javaHome = java21Home();
  const clients = realmClients();
  const importDir = join(dist, 'data', 'import');
  await mkdir(importDir, { recursive: true });
  await writeFile(join(importDir, `${REALM}-realm.json`), JSON.stringify(realmJson(clients)), {
    mode: 0o600,
  });
  const info: KeycloakInfo = {
    issuerUrl: issuerUrl(),
    tokenUrl: `${issuerUrl()}/protocol/openid-connect/token`,
    clients,
    realmVersion: realmVersion(),
  };
  await writeFile(clientsFile(), JSON.stringify(info, null, 2), { mode: 0o600 });
  await chmod(clientsFile(), 0o600);
  say(`starting Keycloak ${keycloakVersion()} on ${HOST}:${port()} (Java at ${javaHome})…`);
  const seconds = await launch(
    keycloak(),
    join(dist, 'bin', 'kc.sh'),
    [
      'start-dev',
      `--http-host=${HOST}`,
      `--http-port=${port()}`,
      '--db=dev-mem',
      '--import-realm',
      '--health-enabled=false',
    ],
    {
      ...process.env,
      JAVA_HOME: javaHome,
      KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
      KC_BOOTSTRAP_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
      // A test identity provider: a small heap is plenty, and leaves the machine to the tests.
      JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx768m',
    },
  );
  say(`ready in ${seconds.toFixed(1)} s: issuer ${info.issuerUrl}, clients in ${clientsFile()}`);
  return info;
}

export const stopKeycloak = (): Promise<void> => stopDaemon(keycloak());

if (import.meta.main) {
  runMain('keycloak', async () => {
    const command = process.argv[2];
    if (command === 'start') {
      const info = await ensureKeycloak();
      say(`AUTH_ISSUER_URL=${info.issuerUrl}`);
      say(`client secrets: ${clientsFile()}`);
    } else if (command === 'stop') {
      await stopKeycloak();
    } else if (command === 'status') {
      say(await daemonStatus(keycloak(), `issuer ${issuerUrl()}`));
    } else {
      console.error('usage: node scripts/keycloak.ts start|stop|status');
      process.exitCode = 2;
    }
  });
}
