/**
 * The shape of an order-saga fault scenario, like scenario.ts for the adjustment ones: Inventory
 * and Sales as processes, products with a stock that runs short, a steady stream of orders,
 * cancels and fulfilments (saga-load.ts), the faults injected on a schedule while it runs, then a
 * settle period and the final check from both databases and Kafka (saga-verify.ts).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProducts, createScenario, duplicatesOf, say, scrapeEvery } from './harness.ts';
import type { Scenario, ServiceProcess } from './harness.ts';
import { startSagaLoad } from './saga-load.ts';
import type { SagaLoad, SagaProduct } from './saga-load.ts';
import { printSagaFigures, saveSagaFigures, verifySaga, waitForSaga } from './saga-verify.ts';
import type { SagaFigures } from './saga-verify.ts';

export interface SagaFaultContext {
  scenario: Scenario;
  inventory: ServiceProcess;
  sales: ServiceProcess;
  load: SagaLoad;
  /** INVENTORY_CONSUMER_GROUP of the scenario. */
  inventoryGroup: string;
  /** Resolves `seconds` after the load started. */
  at: (seconds: number) => Promise<void>;
  log: (line: string) => void;
}

export interface SagaScenarioOptions {
  name: string;
  /** Seconds of load. Default: 60. */
  loadSeconds?: number;
  /** Orders per second. Default: 12. */
  rate?: number;
  /**
   * ORDER_SAGA_TIMEOUT_MS. Default: 20000: shorter than a process outage (kill, restart, and the
   * group waiting out the dead member's 10 s session), so that some orders time out and a late
   * reservation is released; long enough that most orders placed around a kill still confirm,
   * and are cancelled or fulfilled (at 10 s, a slow restart timed nearly all of them out).
   */
  timeoutMs?: number;
  /** Longest wait for the system to settle after the load. Default: 120000. */
  settleTimeoutMs?: number;
  /** Injects the faults; returns a line per fault done (kill and restart). */
  fault(ctx: SagaFaultContext): Promise<string[]>;
}

const TENANTS = 3;
const PER_TENANT = 4;
/**
 * Units on hand of each tenant's products: the first runs short within seconds (its orders are
 * then rejected unless a cancel frees units), the last never does. The reorder level is 80 % of
 * it, so fulfilments soon emit inventory.low_stock and Sales' alert flow runs too.
 */
const INITIAL = [60, 200, 400, 2_000];

/** Registers its cleanup with `t.after`; returns the figures once every check is at 0. */
export async function runSagaScenario(
  t: { after(fn: () => unknown): void; diagnostic(message: string): void },
  options: SagaScenarioOptions,
): Promise<SagaFigures> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const s = await createScenario(options.name, { ORDER_SAGA_TIMEOUT_MS: String(timeoutMs) });
  let passed = false;
  t.after(() => s.cleanup(passed));
  const inventory = await s.inventory();
  const sales = await s.sales();
  const created = await createProducts(inventory, TENANTS, PER_TENANT, (_t, i) => ({
    quantity_on_hand: INITIAL[i]!,
    reorder_level: Math.floor(INITIAL[i]! * 0.8),
  }));
  const products: SagaProduct[] = created.map((p, k) => ({
    ...p,
    initial: INITIAL[k % PER_TENANT]!,
  }));
  await untilSalesKnows(s, products);
  const stopScraping = scrapeEvery(s.services, 1000, ['sales', 'inventory']);
  t.after(stopScraping);

  const loadSeconds = options.loadSeconds ?? 60;
  const rate = options.rate ?? 12;
  const load = startSagaLoad({ sales, products, ratePerSecond: rate });
  const started = Date.now();
  const log = (line: string) =>
    say(`${options.name} +${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
  log(
    `saga load started: ${rate} orders/s over ${products.length} products of ${TENANTS} tenants for ${loadSeconds} s`,
  );
  const inventoryGroup = s.env['INVENTORY_CONSUMER_GROUP']!;
  const ctx: SagaFaultContext = {
    scenario: s,
    inventory,
    sales,
    load,
    inventoryGroup,
    at: async (seconds) => {
      const wait = started + seconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    },
    log,
  };
  const faulted = options.fault(ctx);
  faulted.catch(() => undefined);
  await ctx.at(loadSeconds);
  const orders = await load.stop();
  log(`load stopped: ${JSON.stringify(load.counts())}`);
  const kills = await faulted;
  for (const p of s.services) {
    if (!p.running) log(`note: ${p.name} is not running at the end of the load`);
  }
  const settledSeconds = await waitForSaga(s, inventoryGroup, options.settleTimeoutMs);
  log(`settled (or gave up) ${settledSeconds.toFixed(1)} s after the load`);
  stopScraping();
  await Promise.all(s.services.map((p) => p.scrape().catch(() => undefined)));
  const figures = await verifySaga(s, {
    orders,
    products,
    timeoutMs,
    duplicates: { sales: duplicatesOf(sales), inventory: duplicatesOf(inventory) },
    unplannedExits: s.services.reduce((sum, p) => sum + p.unplannedExits.length, 0),
    settledSeconds,
    logFiles: s.services.map((p) => p.logFile),
    kills,
  });
  printSagaFigures(figures);
  saveSagaFigures(figures);
  t.diagnostic(JSON.stringify(figures));
  assertSagaSound(figures);
  passed = true;
  return figures;
}

/** Sales accepts orders only for products it learnt of from inventory.product_created. */
async function untilSalesKnows(s: Scenario, products: SagaProduct[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await s.salesDb.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM products WHERE product_id = ANY($1)',
      [products.map((p) => p.id)],
    );
    if (r.rows[0]!.n === products.length) return;
    if (Date.now() > deadline) throw new Error('Sales did not learn of the products in 60 s');
    await sleep(250);
  }
}

/** The saga's promise under faults: every check at 0, and the load really exercised it. */
export function assertSagaSound(f: SagaFigures): void {
  assert.ok(f.placed > 0 && f.confirmed > 0, 'orders were placed and confirmed');
  assert.ok(f.final.FULFILLED > 0 && f.final.CANCELLED > 0, 'orders were fulfilled and cancelled');
  assert.ok(
    (f.rejectedBy['insufficient_stock'] ?? 0) > 0,
    'some orders were rejected for lack of stock',
  );
  for (const [check, n] of Object.entries(f.checks)) assert.equal(n, 0, `saga check ${check}`);
}
