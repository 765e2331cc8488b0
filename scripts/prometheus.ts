/**
 * A real local Prometheus scraping both services' metrics ports, with the shipped configuration of
 * ops/prometheus, from Debian's `prometheus` package (2.42, with promtool), no Docker.
 *
 *   node scripts/prometheus.ts start|stop|status|check
 *
 * The package is installed with apt-get the first time (root, as CI and these machines are); the
 * system service its postinst may start is stopped and disabled, so that only ours runs. Every
 * start is fresh, in .data/prometheus: a configuration made from ops/prometheus/prometheus.yml with
 * a short scrape and evaluation interval, its rules, a copy of the shipped targets and an empty
 * TSDB. `check` runs `promtool check config`, `check rules` and `test rules` on ops/prometheus and
 * fails when any of them does. Tests call `ensurePrometheus({ targets })` to have the services they
 * started scraped.
 *
 * Targets are file-based service discovery (`file_sd_configs` on targets/<job>*.json beside the
 * configuration), not a configuration generated per test: a test's metrics ports are known only
 * once its services listen, test files run in parallel against one shared Prometheus, and
 * Prometheus reads new target files within seconds, without a restart or reload.
 *
 * Environment: PROMETHEUS_PORT (default 9090), PROMETHEUS_SCRAPE_INTERVAL (default 1s, also the
 * rule evaluation interval), PROMETHEUS_DATA_DIR (default <repo>/.data/prometheus).
 */
import { existsSync } from 'node:fs';
import { cp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../src/platform/errors.ts';
import { logger, runMain } from './lib/cli.ts';
import { answers, daemonStatus, ensureDaemon, launch, portFrom, stopDaemon } from './lib/daemon.ts';
import type { Daemon } from './lib/daemon.ts';
import { ensureDebianPackage } from './lib/apt.ts';
import { run } from './lib/process.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** The shipped configuration: prometheus.yml, rules.yml, rules.test.yml, targets/. */
export const OPS_DIR = join(ROOT, 'ops', 'prometheus');
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const HOST = '127.0.0.1';
const say = logger('prometheus');

const port = (): number => portFrom('PROMETHEUS_PORT', 9090, 'ERP_PROMETHEUS_BAD_PORT');
const url = () => `http://${HOST}:${port()}`;
const dataDir = () =>
  resolve(process.env['PROMETHEUS_DATA_DIR'] || join(ROOT, '.data', 'prometheus'));
const configFile = () => join(dataDir(), 'prometheus.yml');
const targetsDir = () => join(dataDir(), 'targets');

function scrapeInterval(): string {
  const raw = process.env['PROMETHEUS_SCRAPE_INTERVAL'] || '1s';
  if (!/^\d+(ms|s|m)$/.test(raw)) {
    throw new AppError(
      'ERP_PROMETHEUS_BAD_INTERVAL',
      `PROMETHEUS_SCRAPE_INTERVAL must be a Prometheus duration such as 1s or 500ms, got "${raw}"`,
    );
  }
  return raw;
}

const prometheus = (): Daemon => ({
  name: 'prometheus',
  title: 'Prometheus',
  dir: dataDir(),
  port: port(),
  portVariable: 'PROMETHEUS_PORT',
  // Ours by its configuration file: the package's system service runs the same binary.
  isOurs: (argv) => argv.includes(`--config.file=${configFile()}`),
  // Ready once the TSDB is open and the configuration (with its rules) loaded.
  ready: () => answers(`${url()}/-/ready`),
  startTimeoutMs: 60_000,
  codes: {
    startFailed: 'ERP_PROMETHEUS_START_FAILED',
    startTimeout: 'ERP_PROMETHEUS_START_TIMEOUT',
    portInUse: 'ERP_PROMETHEUS_PORT_IN_USE',
  },
});

/** Debian's `prometheus` (with promtool), installed the first time (lib/apt.ts). */
export function ensurePrometheusInstalled(): Promise<void> {
  return ensureDebianPackage({
    name: 'prometheus',
    binaries: [PROMETHEUS, PROMTOOL],
    lockDir: dataDir(),
    errorCode: 'ERP_PROMETHEUS_INSTALL_FAILED',
    say,
    afterInstall: stopSystemService,
  });
}

/**
 * The package's postinst enables and may start a system Prometheus on :9090 with its own
 * configuration (unless policy-rc.d forbids it, as in containers): stop it and keep it from
 * starting at boot, so that the port is free for ours and no second Prometheus scrapes anything.
 */
async function stopSystemService(): Promise<void> {
  if (existsSync('/run/systemd/system')) {
    await run('systemctl', ['disable', '--now', 'prometheus.service']);
  } else if (existsSync('/etc/init.d/prometheus')) {
    await run('/etc/init.d/prometheus', ['stop']);
    await run('update-rc.d', ['prometheus', 'disable']);
  }
}

export interface PrometheusOptions {
  /**
   * host:port targets to scrape, by job of ops/prometheus/prometheus.yml (`inventory`, `sales`),
   * e.g. `{ sales: ['127.0.0.1:40123'] }`. They stay until `release()`.
   */
  targets?: Record<string, string[]>;
  /** Labels put on those targets' series, e.g. `{ run: '<unique>' }` to find them in queries. */
  labels?: Record<string, string>;
}

export interface PrometheusInfo {
  /** e.g. http://127.0.0.1:9090: the query API is at /api/v1/query. */
  url: string;
  /** Removes the targets this call added (Prometheus drops them within seconds). */
  release(): Promise<void>;
}

let written = 0;

/** Starts Prometheus unless ours is running, then adds `targets`. */
export async function ensurePrometheus(options: PrometheusOptions = {}): Promise<PrometheusInfo> {
  await ensurePrometheusInstalled();
  await ensureDaemon(prometheus(), { reuse: () => Promise.resolve(), start });
  const files: string[] = [];
  for (const [job, targets] of Object.entries(options.targets ?? {})) {
    // Matched by targets/<job>*.json; written aside and renamed, so that it is never read half-written.
    const file = join(targetsDir(), `${job}-${process.pid}-${++written}.json`);
    const aside = join(targetsDir(), `.${job}-${process.pid}-${written}.tmp`);
    await writeFile(aside, JSON.stringify([{ targets, labels: options.labels ?? {} }]));
    await rename(aside, file);
    files.push(file);
  }
  return {
    url: url(),
    release: async () => {
      for (const file of files) await rm(file, { force: true });
    },
  };
}

/** The shipped configuration with the local interval, its rules and targets, an empty TSDB. */
async function prepareRunDirectory(): Promise<void> {
  const shipped = await readFile(join(OPS_DIR, 'prometheus.yml'), 'utf8');
  let replaced = 0;
  const config = shipped.replace(/^( {2}(?:scrape|evaluation)_interval:) .*$/gm, (_, key) => {
    replaced += 1;
    return `${key} ${scrapeInterval()}`;
  });
  if (replaced !== 2) {
    throw new AppError(
      'ERP_PROMETHEUS_SETUP_FAILED',
      `${join(OPS_DIR, 'prometheus.yml')} must set global scrape_interval and evaluation_interval (found ${replaced} of them)`,
    );
  }
  await rm(join(dataDir(), 'tsdb'), { recursive: true, force: true });
  await rm(targetsDir(), { recursive: true, force: true });
  await cp(join(OPS_DIR, 'targets'), targetsDir(), { recursive: true });
  await cp(join(OPS_DIR, 'rules.yml'), join(dataDir(), 'rules.yml'));
  await writeFile(
    configFile(),
    `# Made by scripts/prometheus.ts from ops/prometheus/prometheus.yml: edit that one.\n${config}`,
  );
}

async function start(): Promise<void> {
  await prepareRunDirectory();
  say(`starting Prometheus on ${url()} (scrape interval ${scrapeInterval()})…`);
  const seconds = await launch(prometheus(), PROMETHEUS, [
    `--config.file=${configFile()}`,
    `--storage.tsdb.path=${join(dataDir(), 'tsdb')}`,
    `--web.listen-address=${HOST}:${port()}`,
    '--storage.tsdb.retention.time=1d',
  ]);
  say(`ready in ${seconds.toFixed(1)} s: ${url()}, targets in ${targetsDir()}`);
}

export const stopPrometheus = (): Promise<void> => stopDaemon(prometheus());

/**
 * promtool on the shipped configuration: the configuration with its rule and target files, the
 * rules alone, then the rules' unit tests (rules.test.yml). Rejects with every output when one
 * fails.
 */
export async function checkPrometheusConfig(): Promise<string> {
  await ensurePrometheusInstalled();
  const steps = [
    ['check', 'config', join(OPS_DIR, 'prometheus.yml')],
    ['check', 'rules', join(OPS_DIR, 'rules.yml')],
    ['test', 'rules', join(OPS_DIR, 'rules.test.yml')],
  ];
  let report = '';
  for (const args of steps) {
    const result = await run(PROMTOOL, args);
    report += `$ promtool ${args.join(' ')}\n${result.out}`;
    if (result.code !== 0) {
      throw new AppError(
        'ERP_PROMETHEUS_CHECK_FAILED',
        `promtool ${args[0]} ${args[1]} failed:\n${report}`,
      );
    }
  }
  return report;
}

/** The files of ops/prometheus/targets, for the status line. */
const shippedTargets = async () =>
  (await readdir(join(OPS_DIR, 'targets')).catch(() => [])).join(', ');

if (import.meta.main) {
  runMain('prometheus', async () => {
    const command = process.argv[2];
    if (command === 'start') {
      await ensurePrometheus();
      say(
        `scraping the targets of ${targetsDir()} (${await shippedTargets()}); add <job>-*.json files there`,
      );
    } else if (command === 'stop') {
      await stopPrometheus();
    } else if (command === 'status') {
      say(await daemonStatus(prometheus(), url()));
    } else if (command === 'check') {
      process.stdout.write(await checkPrometheusConfig());
      say('configuration, rules and rule tests pass');
    } else {
      console.error('usage: node scripts/prometheus.ts start|stop|status|check');
      process.exitCode = 2;
    }
  });
}
