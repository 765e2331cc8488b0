/**
 * The fault suite's harness: the 3-node cluster, the services as real child processes
 * (`node src/<service>/main.ts`) each with a PostgreSQL schema of its own, unique topics and group
 * per scenario, and the products the load generator adjusts.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../support/ports.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { clusterBootstrap, ensureCluster } from '../../scripts/cluster.ts';
import { loadDevIssuer, SCOPES } from '../../src/platform/index.ts';
import type { Product } from './load.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Logs of the service processes and the scenario results. */
export const FAULTS_DIR = join(ROOT, '.data', 'faults');
export const PG_URL =
  process.env['FAULTS_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

export const say = (line: string) => console.log(`[faults] ${line}`);

/** Starts the cluster unless it runs, and waits until no partition is under-replicated. */
export async function clusterUp(): Promise<string[]> {
  await ensureCluster();
  return clusterBootstrap();
}

/** A fresh schema; the URL puts it first on the search_path (pg passes `options` through). */
export async function createSchema(prefix: string): Promise<{ schema: string; url: string }> {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const sep = PG_URL.includes('?') ? '&' : '?';
  return {
    schema,
    url: `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

export type ServiceKind = 'inventory' | 'sales';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms since the epoch. */
  at: number;
}

/**
 * One service as a child process. Restartable; metrics of every incarnation are kept, because a
 * kill -9 takes the process's counters with it.
 */
export class ServiceProcess {
  readonly kind: ServiceKind;
  readonly name: string;
  readonly port: number;
  readonly env: Record<string, string>;
  readonly logFile: string;
  child: ChildProcess | undefined;
  /**
   * Exits nobody asked for. Like an orchestrator, the harness restarts such a process after a
   * second (while `supervised`), so that the final check still shows whether anything was lost.
   */
  readonly unplannedExits: Exit[] = [];
  supervised = true;
  lastExit: Exit | undefined;
  private expectingExit = false;
  private exited: Promise<Exit> = Promise.resolve({ code: 0, signal: null, at: 0 });
  /** Counters of finished incarnations plus the last scrape of the current one. */
  private countersBefore = new Map<string, number>();
  private countersNow = new Map<string, number>();

  constructor(
    kind: ServiceKind,
    name: string,
    port: number,
    env: Record<string, string>,
    logDir: string,
  ) {
    this.kind = kind;
    this.name = name;
    this.port = port;
    this.env = env;
    this.logFile = join(logDir, `${name}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  /** Spawns the process and waits until /readyz answers 200. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    for (const [k, v] of this.countersNow)
      this.countersBefore.set(k, (this.countersBefore.get(k) ?? 0) + v);
    this.countersNow = new Map();
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [join(ROOT, 'src', this.kind, 'main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.expectingExit = false;
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        const exit = { code, signal, at: Date.now() };
        this.lastExit = exit;
        if (!this.expectingExit) {
          this.unplannedExits.push(exit);
          say(`UNPLANNED EXIT of ${this.name} (pid ${child.pid}): code ${code} signal ${signal}`);
          if (this.supervised) {
            setTimeout(() => {
              if (!this.supervised || this.running) return;
              say(`restarting ${this.name} as a supervisor would`);
              this.start().catch((err: unknown) =>
                say(`restart of ${this.name} failed: ${String(err).split('\n')[0]}`),
              );
            }, 1000);
          }
        }
        done(exit);
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.running) {
        throw new Error(
          `${this.name} exited during start; see ${this.logFile}:\n${this.logTail()}`,
        );
      }
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name} not ready after ${READY_TIMEOUT_MS} ms:\n${this.logTail()}`);
      }
      await sleep(200);
    }
  }

  /** Sends `signal` and, unless `wait` is false, resolves with the exit. */
  async signal(signal: NodeJS.Signals, wait = true): Promise<Exit | undefined> {
    if (!this.running) return this.lastExit;
    this.expectingExit = true;
    this.child!.kill(signal);
    return wait ? this.exited : undefined;
  }

  /** kill -9. */
  kill(): Promise<Exit | undefined> {
    return this.signal('SIGKILL');
  }

  waitExit(): Promise<Exit> {
    return this.exited;
  }

  /** Graceful stop (SIGTERM), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.scrape().catch(() => undefined);
    this.expectingExit = true;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * `Bearer <token>` of the development issuer the process runs with (its DATA_DIR): for a
   * tenant, or without one for /metrics (scope `ops`). Minted once per tenant.
   */
  async authorization(tenant?: string): Promise<string> {
    const key = tenant ?? '';
    let token = this.tokens.get(key);
    if (token === undefined) {
      const issuer = await loadDevIssuer(this.env['DATA_DIR']!);
      const claims =
        tenant === undefined ? { scope: 'ops' } : { tenant_id: tenant, scope: SCOPES.join(' ') };
      token = `Bearer ${await issuer.sign({ ...claims, sub: 'faults' }, 'erp-events', 4 * 3600)}`;
      this.tokens.set(key, token);
    }
    return token;
  }
  private readonly tokens = new Map<string, string>();

  /** Reads /metrics into the counters of this incarnation. */
  async scrape(): Promise<void> {
    if (!this.running) return;
    const res = await fetch(`${this.url}/metrics`, {
      headers: { authorization: await this.authorization() },
      signal: AbortSignal.timeout(2000),
    });
    this.countersNow = parseCounters(await res.text());
  }

  /** Sum over every incarnation of the counter series whose line starts with `prefix`. */
  counter(matches: (series: string) => boolean): number {
    let sum = 0;
    for (const map of [this.countersBefore, this.countersNow]) {
      for (const [series, value] of map) if (matches(series)) sum += value;
    }
    return sum;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function parseCounters(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    map.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return map;
}

/** Inbox duplicates counted by a consuming process, Sales or Inventory (all incarnations). */
export const duplicatesOf = (sales: ServiceProcess): number =>
  sales.counter(
    (s) => s.startsWith('erp_consumer_events_total{') && s.includes('outcome="duplicate"'),
  );

export interface Scenario {
  name: string;
  logDir: string;
  bootstrap: string[];
  inventoryTopic: string;
  salesTopic: string;
  group: string;
  inventoryDb: { schema: string; url: string; pool: pg.Pool };
  salesDb: { schema: string; url: string; pool: pg.Pool };
  services: ServiceProcess[];
  /** Env shared by the service processes of the scenario. */
  env: Record<string, string>;
  inventory(name?: string): Promise<ServiceProcess>;
  sales(name?: string): Promise<ServiceProcess>;
  /** Stops every process, closes the pools; drops the schemas when `dropSchemas`. */
  cleanup(dropSchemas: boolean): Promise<void>;
}

/** Everything a scenario needs except the processes, which it starts with inventory()/sales(). */
export async function createScenario(
  name: string,
  extraEnv: Record<string, string> = {},
): Promise<Scenario> {
  const bootstrap = await clusterUp();
  const id = `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const logDir = join(FAULTS_DIR, id);
  mkdirSync(logDir, { recursive: true });
  const inv = await createSchema(`faults_inv_${name.replace(/\W/g, '_')}`);
  const sal = await createSchema(`faults_sales_${name.replace(/\W/g, '_')}`);
  const pool = (url: string) => {
    const p = new pg.Pool({ connectionString: url, max: 3 });
    p.on('error', () => {});
    return p;
  };
  const env: Record<string, string> = {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(','),
    KAFKA_TOPIC_REPLICATION_FACTOR: '3',
    // A killed Sales instance gives up its partitions after 10 s instead of the default 45 s.
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    KAFKA_INVENTORY_TOPIC: `faults-${id}-inventory`,
    KAFKA_SALES_TOPIC: `faults-${id}-sales`,
    KAFKA_CONSUMER_GROUP: `faults-${id}-sales-group`,
    INVENTORY_CONSUMER_GROUP: `faults-${id}-inventory-group`,
    INVENTORY_DATABASE_URL: inv.url,
    SALES_DATABASE_URL: sal.url,
    DATA_DIR: join(logDir, 'data'),
    OUTBOX_POLL_INTERVAL_MS: '250',
    SHUTDOWN_TIMEOUT_MS: '15000',
    LOG_LEVEL: process.env['FAULTS_LOG_LEVEL'] ?? 'info',
    HOST: '127.0.0.1',
    ...extraEnv,
  };
  const services: ServiceProcess[] = [];
  const scenario: Scenario = {
    name,
    logDir,
    bootstrap,
    inventoryTopic: env['KAFKA_INVENTORY_TOPIC']!,
    salesTopic: env['KAFKA_SALES_TOPIC']!,
    group: env['KAFKA_CONSUMER_GROUP']!,
    inventoryDb: { ...inv, pool: pool(inv.url) },
    salesDb: { ...sal, pool: pool(sal.url) },
    services,
    env,
    async inventory(procName = 'inventory') {
      const port = await freePort();
      const s = new ServiceProcess(
        'inventory',
        procName,
        port,
        { ...env, INVENTORY_PORT: String(port) },
        logDir,
      );
      services.push(s);
      await s.start();
      return s;
    },
    async sales(procName = 'sales') {
      const port = await freePort();
      const s = new ServiceProcess(
        'sales',
        procName,
        port,
        { ...env, SALES_PORT: String(port) },
        logDir,
      );
      services.push(s);
      await s.start();
      return s;
    },
    async cleanup(dropSchemas) {
      for (const p of services) p.supervised = false;
      await Promise.allSettled(services.map((s) => s.stop()));
      await Promise.allSettled([scenario.inventoryDb.pool.end(), scenario.salesDb.pool.end()]);
      if (dropSchemas) await Promise.allSettled([dropSchema(inv.schema), dropSchema(sal.schema)]);
    },
  };
  say(`scenario ${name}: logs in ${logDir}`);
  return scenario;
}

/** Fields of a product's creation body that a scenario may choose. */
export interface ProductStock {
  quantity_on_hand: number;
  reorder_level: number;
}

/**
 * `tenants` x `perTenant` products. By default with a stock that never runs out and a reorder
 * level above it, so that every adjustment emits inventory.low_stock next to
 * inventory.stock_adjusted; `stock(tenant index, product index)` sets other figures.
 */
export async function createProducts(
  inventory: ServiceProcess,
  tenants = 5,
  perTenant = 10,
  stock: (t: number, i: number) => ProductStock = () => ({
    quantity_on_hand: 1_000_000,
    reorder_level: 900_000_000,
  }),
): Promise<Product[]> {
  const products: Product[] = [];
  for (let t = 0; t < tenants; t++) {
    const tenant = `tenant-${t + 1}`;
    const authorization = await inventory.authorization(tenant);
    for (let i = 0; i < perTenant; i++) {
      const res = await fetch(`${inventory.url}/api/v1/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({
          sku: `SKU-${t + 1}-${i + 1}`,
          name: `Product ${i + 1} of ${tenant}`,
          category: 'faults',
          unit_price: 10 + i,
          reorder_quantity: 100,
          location: 'Warehouse F',
          ...stock(t, i),
        }),
      });
      if (res.status !== 201)
        throw new Error(`creating a product: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { id: string };
      products.push({ tenant, id: body.id, authorization });
    }
  }
  return products;
}

/**
 * Scrapes the running processes of `kinds` (default: Sales, the consumer of the adjustment
 * scenarios) every second, so a kill -9 loses at most a second of their counters.
 */
export function scrapeEvery(
  services: ServiceProcess[],
  ms = 1000,
  kinds: readonly ServiceKind[] = ['sales'],
): () => void {
  const timer = setInterval(() => {
    for (const s of services) if (kinds.includes(s.kind)) void s.scrape().catch(() => undefined);
  }, ms);
  return () => clearInterval(timer);
}
