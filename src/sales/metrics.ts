/**
 * Sales' own metrics: how long a stock change takes to become an alert, and the business
 * backlog, alerts nobody has acknowledged yet.
 *
 * The open-alert gauges are computed when Prometheus scrapes (prom-client's `collect()`), from
 * one query whose result serves every scrape within `cacheMs`. Rather than a worker querying
 * every few seconds: the values are as fresh as the scrape (the oldest alert's age is computed
 * at scrape time from its opening time, so it grows between queries too), nothing queries while
 * nobody scrapes, and the cache bounds the load of several Prometheus servers or a busy
 * dashboard to one query per `cacheMs`. A scrape never fails or hangs on the database: it waits
 * at most `queryTimeoutMs` and otherwise gets the last values, which are dropped once stale.
 * The query sees all tenants (the service's own connection, not a tenant's), so every Sales
 * instance reports the same values: aggregate with `max without (instance)`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { PRIORITIES } from '../contract/index.ts';
import type { Priority } from '../contract/index.ts';
import type { Database, Logger } from '../platform/index.ts';
import { openAlertsByTenantGroup } from './alerts-repository.ts';
import type { OpenAlertsGroup } from './alerts-repository.ts';
import type { SalesDB } from './db.ts';

/** The `tenant` label of every tenant not listed in SALES_METRICS_TENANTS, all summed. */
export const OTHER_TENANTS = 'other';

/** What the low-stock handler reports. */
export interface AlertMetrics {
  /**
   * An alert was opened or escalated to `priority`, `seconds` after the stock change behind it
   * committed in Inventory. Called only once the alert committed.
   */
  alertRaised(priority: Priority, seconds: number): void;
}

export interface SalesMetricsOptions {
  registry: Registry;
  database: Database<SalesDB>;
  logger: Logger;
  /** Tenants with series of their own (SALES_METRICS_TENANTS); the others are `tenant="other"`. */
  tenants: readonly string[];
  /** One query serves the scrapes within this long (SALES_ALERT_METRICS_CACHE_MS). Default: 5000. */
  cacheMs?: number;
  /** How long a scrape waits for the query before it gets the last values. Default: 2000. */
  queryTimeoutMs?: number;
  /** Values older than this are dropped rather than shown. Default: max(60 000, 12 × cacheMs). */
  staleAfterMs?: number;
}

/** Latency buckets, 50 ms to 6 h: seconds when all runs, hours when a consumer was down. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600];

/** Registers Sales' metrics on `registry`; the alert latency is reported through the result. */
export function createSalesMetrics(options: SalesMetricsOptions): AlertMetrics {
  const { registry } = options;
  const latency = new Histogram<'priority'>({
    name: 'erp_sales_alert_latency_seconds',
    help: "Time from a stock change's commit in Inventory (its event's timestamp) to the low-stock alert it opened or escalated in Sales",
    labelNames: ['priority'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const snapshot = openAlertSnapshots(options);
  const labelsOf = (tenant: string, priority: Priority) => ({ tenant, priority });
  const buckets = [...new Set(options.tenants), OTHER_TENANTS];
  new Gauge<'tenant' | 'priority'>({
    name: 'erp_sales_open_alerts',
    help: 'Open (unacknowledged) low-stock alerts: per listed tenant (SALES_METRICS_TENANTS), the others as tenant="other"',
    labelNames: ['tenant', 'priority'],
    registers: [registry],
    async collect() {
      const rows = await snapshot();
      this.reset();
      if (rows === undefined) return;
      for (const tenant of buckets) {
        for (const priority of PRIORITIES) {
          this.set(labelsOf(tenant, priority), rows.get(key(tenant, priority))?.count ?? 0);
        }
      }
    },
  });
  new Gauge<'tenant' | 'priority'>({
    name: 'erp_sales_oldest_open_alert_age_seconds',
    help: 'Age of the oldest open (unacknowledged) low-stock alert, 0 when none: per listed tenant, the others as tenant="other"',
    labelNames: ['tenant', 'priority'],
    registers: [registry],
    async collect() {
      const rows = await snapshot();
      this.reset();
      if (rows === undefined) return;
      const now = Date.now();
      for (const tenant of buckets) {
        for (const priority of PRIORITIES) {
          const oldest = rows.get(key(tenant, priority))?.oldestOpenedAt;
          const age = oldest === undefined ? 0 : Math.max(0, now - oldest.getTime()) / 1000;
          this.set(labelsOf(tenant, priority), age);
        }
      }
    },
  });
  return {
    alertRaised(priority, seconds) {
      latency.observe({ priority }, seconds);
    },
  };
}

type Snapshot = Map<string, OpenAlertsGroup>;

/**
 * The open alerts by tenant group and priority, queried at most once per `cacheMs`; undefined
 * when nothing recent enough is known (no query succeeded yet, or only a stale one).
 */
function openAlertSnapshots(options: SalesMetricsOptions): () => Promise<Snapshot | undefined> {
  const { database, logger, tenants } = options;
  const cacheMs = options.cacheMs ?? 5_000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 2_000;
  const staleAfterMs = options.staleAfterMs ?? Math.max(60_000, 12 * cacheMs);
  let last: { at: number; rows: Snapshot } | undefined;
  let inFlight: Promise<void> | undefined;
  let lastWarnAt = -Infinity;

  const query = async (): Promise<void> => {
    try {
      const rows = await openAlertsByTenantGroup(database.db, tenants, OTHER_TENANTS);
      last = { at: Date.now(), rows: new Map(rows.map((r) => [key(r.tenant, r.priority), r])) };
    } catch (err) {
      // A scrape every few seconds during a database outage: one line a minute is enough.
      if (Date.now() - lastWarnAt < 60_000) return;
      lastWarnAt = Date.now();
      logger.warn({ err }, 'counting open alerts for the metrics failed; the last values are kept');
    }
  };

  return async () => {
    if (last === undefined || Date.now() - last.at >= cacheMs) {
      inFlight ??= query().finally(() => (inFlight = undefined));
      await Promise.race([inFlight, sleep(queryTimeoutMs, undefined, { ref: false })]);
    }
    if (last === undefined || Date.now() - last.at > staleAfterMs) return undefined;
    return last.rows;
  };
}

function key(tenant: string, priority: Priority): string {
  return `${tenant}\u0000${priority}`;
}
