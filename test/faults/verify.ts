/**
 * The final check of a scenario, from both databases: every committed inventory.low_stock event is
 * in Sales' inbox once and has its effect (one alert_history row) once; every acknowledged
 * adjustment is committed; none that Inventory refused is. Plus the figures the table prints.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { FAULTS_DIR, say } from './harness.ts';
import type { Scenario } from './harness.ts';
import type { Adjustment } from './load.ts';

const RESULTS_DIR = join(FAULTS_DIR, 'results');
const HANDLED_TYPES = [
  'inventory.product_created',
  'inventory.stock_adjusted',
  'inventory.low_stock',
  // Inventory's answers in the order saga (only the saga scenario has them).
  'inventory.stock_reserved',
  'inventory.stock_reservation_rejected',
  'inventory.stock_released',
];

export interface Figures {
  scenario: string;
  /** Requests sent / acknowledged (201) / refused (4xx, 503 draining) / no answer. */
  sent: number;
  acked: number;
  rejected: number;
  unknown: number;
  /** Unknown requests that turned out committed. */
  unknownCommitted: number;
  /** Adjustments committed in Inventory (stock_adjusted events). */
  committed: number;
  /** inventory.low_stock events committed / published (published_at set) / in Sales' inbox. */
  lowStock: number;
  published: number;
  processed: number;
  /** Redeliveries the inbox turned into no-ops (Sales' metric, summed over its processes). */
  duplicates: number;
  /** low_stock events without their alert_history row / with more than one. */
  missing: number;
  doubled: number;
  /** Acknowledged but not in Inventory's events; refused but committed anyway. */
  ackedLost: number;
  rejectedCommitted: number;
  /** demand_history rows minus outflow events seen (0 when stock_adjusted had its effect once). */
  demandDelta: number;
  /** From the fault (or the restart that healed it) until every event committed before it was processed. */
  recoverySeconds: number | null;
  /** Longest commit-in-Inventory to processed-in-Sales of any low_stock event. */
  maxLatencySeconds: number;
  unplannedExits: number;
  notes: string;
}

interface EventRow {
  event_id: string;
  event_type: string;
  occurred_at: Date;
  published_at: Date | null;
  correlation_id: string | null;
}

async function inventoryEvents(pool: pg.Pool): Promise<EventRow[]> {
  const r = await pool.query<EventRow>(
    `SELECT event_id, event_type, occurred_at, published_at,
            envelope->'metadata'->>'correlation_id' AS correlation_id
     FROM events`,
  );
  return r.rows;
}

async function inbox(pool: pg.Pool): Promise<Map<string, Date>> {
  const r = await pool.query<{ event_id: string; processed_at: Date }>(
    'SELECT event_id, processed_at FROM inbox',
  );
  return new Map(r.rows.map((row) => [row.event_id, row.processed_at]));
}

/**
 * Waits until Inventory's outbox is empty and Sales' inbox holds every event Inventory committed
 * (or `timeoutMs` passes: the checks then report what is missing). Returns the seconds it took.
 */
export async function waitForConvergence(s: Scenario, timeoutMs = 180_000): Promise<number> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const events = await inventoryEvents(s.inventoryDb.pool);
    const seen = await inbox(s.salesDb.pool);
    const unpublished = events.filter((e) => e.published_at === null).length;
    const handled = events.filter((e) => HANDLED_TYPES.includes(e.event_type));
    const unprocessed = handled.filter((e) => !seen.has(e.event_id)).length;
    if (unpublished === 0 && unprocessed === 0) return (Date.now() - started) / 1000;
    const line = `waiting: ${unpublished} unpublished, ${unprocessed} of ${handled.length} not in the inbox`;
    if (line !== last && (Date.now() - started) % 5000 < 600) say(line);
    last = line;
    if (Date.now() - started > timeoutMs) {
      say(`gave up after ${timeoutMs / 1000} s: ${line}`);
      return (Date.now() - started) / 1000;
    }
    await sleep(500);
  }
}

export interface VerifyInput {
  adjustments: Adjustment[];
  duplicates: number;
  /** ms since the epoch of the moment the system was whole again (see Figures.recoverySeconds). */
  healedAt: number | null;
  unplannedExits: number;
  notes?: string;
}

export async function verify(s: Scenario, input: VerifyInput): Promise<Figures> {
  const events = await inventoryEvents(s.inventoryDb.pool);
  const seen = await inbox(s.salesDb.pool);
  const history = await s.salesDb.pool.query<{ event_id: string; n: number }>(
    'SELECT event_id, count(*)::int AS n FROM alert_history WHERE event_id IS NOT NULL GROUP BY event_id',
  );
  const effects = new Map(history.rows.map((r) => [r.event_id, r.n]));
  const demand = await s.salesDb.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM demand_history',
  );
  const outflows = await s.inventoryDb.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events
     WHERE event_type = 'inventory.stock_adjusted' AND (envelope->'payload'->>'quantity_change')::int < 0`,
  );

  const ids = new Set(events.map((e) => e.event_id));
  const correlations = new Set(
    events.filter((e) => e.event_type === 'inventory.stock_adjusted').map((e) => e.correlation_id),
  );
  const low = events.filter((e) => e.event_type === 'inventory.low_stock');
  let missing = 0;
  let doubled = 0;
  let maxLatency = 0;
  for (const e of low) {
    const n = effects.get(e.event_id) ?? 0;
    if (n === 0) missing++;
    if (n > 1) doubled++;
    const at = seen.get(e.event_id);
    if (at !== undefined)
      maxLatency = Math.max(maxLatency, (at.getTime() - e.occurred_at.getTime()) / 1000);
  }
  // Effects of events Inventory never committed would be doubled effects too (of something else).
  for (const id of effects.keys()) if (!ids.has(id)) doubled++;

  let recoverySeconds: number | null = null;
  if (input.healedAt !== null) {
    let drained = input.healedAt;
    for (const e of low) {
      const at = seen.get(e.event_id);
      if (e.occurred_at.getTime() <= input.healedAt && at !== undefined)
        drained = Math.max(drained, at.getTime());
    }
    recoverySeconds = (drained - input.healedAt) / 1000;
  }

  const a = input.adjustments;
  const acked = a.filter((x) => x.outcome === 'acked');
  const rejected = a.filter((x) => x.outcome === 'rejected');
  const unknown = a.filter((x) => x.outcome === 'unknown');
  return {
    scenario: s.name,
    sent: a.length,
    acked: acked.length,
    rejected: rejected.length,
    unknown: unknown.length,
    unknownCommitted: unknown.filter((x) => correlations.has(x.correlationId)).length,
    committed: events.filter((e) => e.event_type === 'inventory.stock_adjusted').length,
    lowStock: low.length,
    published: low.filter((e) => e.published_at !== null).length,
    processed: low.filter((e) => seen.has(e.event_id)).length,
    duplicates: input.duplicates,
    missing,
    doubled,
    ackedLost: acked.filter(
      (x) => x.eventIds.some((id) => !ids.has(id)) || !correlations.has(x.correlationId),
    ).length,
    rejectedCommitted: rejected.filter((x) => correlations.has(x.correlationId)).length,
    demandDelta: demand.rows[0]!.n - outflows.rows[0]!.n,
    recoverySeconds,
    maxLatencySeconds: maxLatency,
    unplannedExits: input.unplannedExits,
    notes: input.notes ?? '',
  };
}

export function printFigures(f: Figures): void {
  say(
    `${f.scenario}: requests ${f.sent} (acked ${f.acked}, refused ${f.rejected}, unknown ${f.unknown} of which committed ${f.unknownCommitted}); ` +
      `adjustments committed ${f.committed}; low_stock committed ${f.lowStock}, published ${f.published}, processed ${f.processed}; ` +
      `duplicates suppressed ${f.duplicates}; effects missing ${f.missing}, doubled ${f.doubled}; acked-but-lost ${f.ackedLost}; ` +
      `refused-but-committed ${f.rejectedCommitted}; demand delta ${f.demandDelta}; ` +
      `recovery ${f.recoverySeconds === null ? '-' : `${f.recoverySeconds.toFixed(1)} s`}; max latency ${f.maxLatencySeconds.toFixed(1)} s; ` +
      `unplanned exits ${f.unplannedExits}${f.notes ? `; ${f.notes}` : ''}`,
  );
}

export function saveFigures(f: Figures): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${f.scenario.replace(/[^\w-]/g, '_')}.json`),
    JSON.stringify(f, null, 2),
  );
}

export function clearResults(): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  for (const file of readdirSync(RESULTS_DIR)) writeFileSync(join(RESULTS_DIR, file), '');
}

/** Every result saved by this run: Figures, and the saga scenarios' figures (`kind: 'saga'`). */
export function savedResults(): unknown[] {
  try {
    return readdirSync(RESULTS_DIR)
      .map((file) => readFileSync(join(RESULTS_DIR, file), 'utf8'))
      .filter((text) => text.trim() !== '')
      .map((text) => JSON.parse(text) as unknown);
  } catch {
    return [];
  }
}

/** The table of every adjustment scenario saved by this run (the saga's has its own). */
export function resultsTable(): string {
  const rows = (savedResults() as (Figures & { kind?: string })[])
    .filter((r) => r.kind === undefined)
    .sort((x, y) => x.scenario.localeCompare(y.scenario));
  if (rows.length === 0) return '(no results)';
  const head = [
    'scenario',
    'acked',
    'unknown',
    'committed',
    'low_stock',
    'published',
    'processed',
    'dups',
    'missing',
    'doubled',
    'acked lost',
    'recover s',
    'max lag s',
    'crashes',
  ];
  const body = rows.map((f) => [
    f.scenario,
    String(f.acked),
    `${f.unknown}/${f.unknownCommitted}c`,
    String(f.committed),
    String(f.lowStock),
    String(f.published),
    String(f.processed),
    String(f.duplicates),
    String(f.missing),
    String(f.doubled),
    String(f.ackedLost),
    f.recoverySeconds === null ? '-' : f.recoverySeconds.toFixed(1),
    f.maxLatencySeconds.toFixed(1),
    String(f.unplannedExits),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}
