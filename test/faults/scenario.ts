/**
 * The shape every fault scenario shares: Inventory and Sales as processes, products, a steady
 * load, the fault injected on a schedule while the load runs, then convergence, the final check
 * from both databases, the figures printed and saved for the table.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProducts, createScenario, duplicatesOf, say, scrapeEvery } from './harness.ts';
import type { Scenario, ServiceProcess } from './harness.ts';
import { startLoad } from './load.ts';
import type { Load } from './load.ts';
import { printFigures, saveFigures, verify, waitForConvergence } from './verify.ts';
import type { Figures } from './verify.ts';

export interface FaultContext {
  scenario: Scenario;
  inventory: ServiceProcess;
  sales: ServiceProcess[];
  load: Load;
  /** Resolves `seconds` after the load started. */
  at: (seconds: number) => Promise<void>;
  /** Prints a line prefixed with the time since the load started. */
  log: (line: string) => void;
}

export interface FaultOutcome {
  /** When the system was whole again: the restart that healed it, or the fault when none is needed. */
  healedAt: number | null;
  notes?: string;
}

export interface ScenarioOptions {
  name: string;
  /** Sales processes in the group. Default: 1. */
  salesInstances?: number;
  /** Seconds of load. Default: 30. */
  loadSeconds?: number;
  /** Adjustments per second. Default: 50. */
  rate?: number;
  /** Longest wait for Sales to catch up after the load. Default: 180000. */
  convergeTimeoutMs?: number;
  fault(ctx: FaultContext): Promise<FaultOutcome>;
}

/** Registers its cleanup with `t.after`; returns the figures once the checks passed. */
export async function runScenario(
  t: { after(fn: () => unknown): void; diagnostic(message: string): void },
  options: ScenarioOptions,
): Promise<Figures> {
  const s = await createScenario(options.name);
  let passed = false;
  t.after(() => s.cleanup(passed));
  const inventory = await s.inventory();
  const sales: ServiceProcess[] = [];
  for (let i = 0; i < (options.salesInstances ?? 1); i++)
    sales.push(await s.sales(i === 0 ? 'sales' : `sales-${i + 1}`));
  const products = await createProducts(inventory);
  const stopScraping = scrapeEvery(s.services);
  t.after(stopScraping);

  const loadSeconds = options.loadSeconds ?? 30;
  const load = startLoad({ url: inventory.url, products, ratePerSecond: options.rate ?? 50 });
  const started = Date.now();
  const log = (line: string) =>
    say(`${options.name} +${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
  log(
    `load started: ${options.rate ?? 50}/s over ${products.length} products for ${loadSeconds} s`,
  );
  const ctx: FaultContext = {
    scenario: s,
    inventory,
    sales,
    load,
    at: async (seconds) => {
      const wait = started + seconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    },
    log,
  };
  // The load keeps its schedule whatever the fault does (a restart may take longer than planned).
  const faulted = options.fault(ctx);
  faulted.catch(() => undefined);
  await ctx.at(loadSeconds);
  const adjustments = await load.stop();
  log(`load stopped: ${JSON.stringify(load.counts())}`);
  const outcome = await faulted;
  for (const p of s.services) {
    if (!p.running) log(`note: ${p.name} is not running at the end of the load`);
  }
  const took = await waitForConvergence(s, options.convergeTimeoutMs);
  log(`converged (or gave up) ${took.toFixed(1)} s after the load`);
  stopScraping();
  await Promise.all(s.services.map((p) => p.scrape().catch(() => undefined)));
  const figures = await verify(s, {
    adjustments,
    duplicates: sales.reduce((sum, p) => sum + duplicatesOf(p), 0),
    healedAt: outcome.healedAt,
    unplannedExits: s.services.reduce((sum, p) => sum + p.unplannedExits.length, 0),
    ...(outcome.notes === undefined ? {} : { notes: outcome.notes }),
  });
  printFigures(figures);
  saveFigures(figures);
  t.diagnostic(JSON.stringify(figures));
  assertSound(figures);
  passed = true;
  return figures;
}

/** The promise: nothing acknowledged lost, every committed event processed once, no crash. */
export function assertSound(f: Figures): void {
  assert.ok(f.acked > 0, 'the load produced acknowledged adjustments');
  assert.equal(f.ackedLost, 0, 'acknowledged adjustments missing from Inventory');
  assert.equal(f.rejectedCommitted, 0, 'refused adjustments committed anyway');
  assert.equal(f.published, f.lowStock, 'low_stock events left unpublished');
  assert.equal(f.processed, f.lowStock, 'low_stock events not in Sales inbox');
  assert.equal(f.missing, 0, 'low_stock events without their effect');
  assert.equal(f.doubled, 0, 'low_stock events with their effect twice');
  assert.equal(f.demandDelta, 0, 'stock_adjusted outflows recorded a different number of times');
  assert.equal(f.unplannedExits, 0, 'a service process exited on its own');
}
