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
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../src/platform/errors.ts';
import { logger, runMain } from './lib/cli.ts';
import { realmClients, realmJson, REALM } from './lib/keycloak-realm.ts';
import type { RealmClient } from './lib/keycloak-realm.ts';
import { readLivePid } from './lib/pid-file.ts';
import { portOpen } from './lib/probe.ts';
import { awaitExit, isAlive, isOurProcess, run } from './lib/process.ts';
import { withStartLock } from './lib/start-lock.ts';
import { copyDependencies } from './lib/maven.ts';

const ROOT = resolve(import.meta.dirname, '..');
const POM = join(ROOT, 'keycloak', 'pom.xml');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 30_000;
const say = logger('keycloak');

export interface KeycloakInfo {
  /** AUTH_ISSUER_URL for the services. */
  issuerUrl: string;
  /** Where clients get tokens (client credentials). */
  tokenUrl: string;
  clients: Record<string, RealmClient>;
}

const port = (): number => {
  const raw = process.env['KEYCLOAK_PORT'];
  const n = raw === undefined || raw === '' ? 8180 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new AppError(
      'ERP_KEYCLOAK_BAD_PORT',
      `KEYCLOAK_PORT must be a port number, got "${raw}"`,
    );
  }
  return n;
};
const dataDir = () => resolve(process.env['KEYCLOAK_DATA_DIR'] || join(ROOT, '.data', 'keycloak'));
const files = () => {
  const d = dataDir();
  return {
    dir: d,
    pid: join(d, 'keycloak.pid'),
    log: join(d, 'keycloak.log'),
    clients: join(d, 'clients.json'),
    lock: join(d, 'start.lock'),
  };
};
const issuerUrl = () => `http://${HOST}:${port()}/realms/${REALM}`;

export function keycloakVersion(): string {
  const m = /<keycloak\.version>([^<]+)<\/keycloak\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!m?.[1]) throw new AppError('ERP_KEYCLOAK_SETUP_FAILED', `no <keycloak.version> in ${POM}`);
  return m[1].trim();
}

const distDir = () =>
  join(ROOT, '.cache', 'keycloak', keycloakVersion(), `keycloak-${keycloakVersion()}`);

/** A JDK of Java 21 or newer: Keycloak 26 refuses Java 17. */
export function java21Home(): string {
  const candidates = [
    process.env['KEYCLOAK_JAVA_HOME'],
    process.env['JAVA_HOME'],
    ...(existsSync('/usr/lib/jvm')
      ? readdirSync('/usr/lib/jvm')
          .map((d) => join('/usr/lib/jvm', d))
          .sort()
          .reverse()
      : []),
  ].filter((h): h is string => h !== undefined && h !== '');
  for (const home of candidates) {
    const major = javaMajorAt(home);
    if (major !== null && major >= 21) return home;
  }
  throw new AppError(
    'ERP_KEYCLOAK_JAVA',
    `Keycloak needs Java 21 or newer; none found (KEYCLOAK_JAVA_HOME, JAVA_HOME, /usr/lib/jvm). Install one and set KEYCLOAK_JAVA_HOME`,
  );
}

function javaMajorAt(home: string): number | null {
  const r = spawnSync(join(home, 'bin', 'java'), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /version "(\d+)/.exec(r.stderr + r.stdout);
  return m ? Number(m[1]) : null;
}

/** Unpacks the distribution once; its folder appears by rename, so its presence means complete. */
async function ensureDistribution(): Promise<string> {
  const dist = distDir();
  if (existsSync(dist)) return dist;
  const version = keycloakVersion();
  const parent = resolve(dist, '..');
  const tmp = `${parent}.tmp-${process.pid}`;
  say(`fetching Keycloak ${version} from Maven Central into ${parent} (once, about 160 MB)…`);
  const started = Date.now();
  await rm(tmp, { recursive: true, force: true });
  const copied = await copyDependencies(POM, tmp, ['-DexcludeTransitive=true']);
  const archive = join(tmp, `keycloak-quarkus-dist-${version}.tar.gz`);
  const unpacked = copied.code === 0 ? await run('tar', ['-xzf', archive, '-C', tmp]) : copied;
  if (unpacked.code !== 0) {
    await rm(tmp, { recursive: true, force: true });
    throw new AppError(
      'ERP_KEYCLOAK_SETUP_FAILED',
      `could not fetch or unpack Keycloak ${version}:\n${unpacked.out.slice(-4000)}`,
    );
  }
  await rm(archive);
  await mkdir(resolve(parent, '..'), { recursive: true });
  try {
    await rename(tmp, parent);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(dist)) throw err;
  }
  say(`unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dist;
}

const isKeycloak = (pid: number) =>
  isOurProcess(pid, (argv) => argv.some((a) => a.includes('keycloak') || a.includes('quarkus')));

async function discoveryAnswers(): Promise<boolean> {
  const res = await fetch(`${issuerUrl()}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(2000),
  }).catch(() => undefined);
  return res?.ok === true;
}

async function readInfo(): Promise<KeycloakInfo> {
  return JSON.parse(await readFile(files().clients, 'utf8')) as KeycloakInfo;
}

/** Starts Keycloak unless ours is running; resolves once its realm answers discovery. */
export async function ensureKeycloak(): Promise<KeycloakInfo> {
  const f = files();
  await mkdir(f.dir, { recursive: true });
  return withStartLock(
    {
      file: f.lock,
      startTimeoutMs: START_TIMEOUT_MS,
      timeoutError: (owner, file) =>
        new AppError(
          'ERP_KEYCLOAK_START_TIMEOUT',
          `another process (${owner}) has been starting Keycloak for too long (${file})`,
        ),
    },
    async () => {
      const pid = await readLivePid(f.pid, isKeycloak, { removeUnparsable: true });
      if (pid !== null && (await discoveryAnswers())) return readInfo();
      if (pid !== null) await stopPid(pid);
      return start();
    },
  );
}

async function start(): Promise<KeycloakInfo> {
  const f = files();
  // Another Keycloak (another checkout's) would answer discovery with clients we know no secret of.
  if (await portOpen(port())) {
    throw new AppError(
      'ERP_KEYCLOAK_PORT_IN_USE',
      `127.0.0.1:${port()} is taken by a process this checkout did not start (another checkout's Keycloak?); stop it, or set KEYCLOAK_PORT`,
    );
  }
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
  };
  await writeFile(f.clients, JSON.stringify(info, null, 2), { mode: 0o600 });
  await chmod(f.clients, 0o600);
  const log = await open(f.log, 'w');
  say(`starting Keycloak ${keycloakVersion()} on ${HOST}:${port()} (Java at ${javaHome})…`);
  const started = Date.now();
  const child = spawn(
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
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: {
        ...process.env,
        JAVA_HOME: javaHome,
        KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
        KC_BOOTSTRAP_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
        // A test identity provider: a small heap is plenty, and leaves the machine to the tests.
        JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx768m',
      },
    },
  );
  child.unref();
  await log.close();
  const pid = child.pid;
  if (pid === undefined) throw new AppError('ERP_KEYCLOAK_START_FAILED', 'kc.sh did not start');
  await writeFile(f.pid, String(pid));
  while (!(await discoveryAnswers())) {
    if (!isAlive(pid)) {
      const tail = (await readFile(f.log, 'utf8').catch(() => '')).slice(-3000);
      throw new AppError('ERP_KEYCLOAK_START_FAILED', `Keycloak exited while starting:\n${tail}`);
    }
    if (Date.now() - started > START_TIMEOUT_MS) {
      await stopPid(pid);
      throw new AppError(
        'ERP_KEYCLOAK_START_TIMEOUT',
        `Keycloak did not answer within ${START_TIMEOUT_MS / 1000} s; see ${f.log}`,
      );
    }
    await sleep(500);
  }
  say(
    `ready in ${((Date.now() - started) / 1000).toFixed(1)} s: issuer ${info.issuerUrl}, clients in ${f.clients}`,
  );
  return info;
}

async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await awaitExit(pid, Date.now() + STOP_TIMEOUT_MS, () =>
    say(`pid ${pid} did not stop in ${STOP_TIMEOUT_MS / 1000} s; killing it`),
  );
  await rm(files().pid, { force: true });
}

export async function stopKeycloak(): Promise<void> {
  const pid = await readLivePid(files().pid, isKeycloak, { removeUnparsable: true });
  if (pid === null) return say('not running');
  say(`stopping pid ${pid}…`);
  await stopPid(pid);
  say('stopped');
}

if (import.meta.main) {
  runMain('keycloak', async () => {
    const command = process.argv[2];
    if (command === 'start') {
      const info = await ensureKeycloak();
      say(`AUTH_ISSUER_URL=${info.issuerUrl}`);
      say(`client secrets: ${files().clients}`);
    } else if (command === 'stop') {
      await stopKeycloak();
    } else if (command === 'status') {
      const pid = await readLivePid(files().pid, isKeycloak, { removeUnparsable: true });
      say(
        pid !== null && (await discoveryAnswers())
          ? `running (pid ${pid}), issuer ${issuerUrl()}`
          : 'stopped',
      );
    } else {
      console.error('usage: node scripts/keycloak.ts start|stop|status');
      process.exitCode = 2;
    }
  });
}
