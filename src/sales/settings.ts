/** Sales' own environment variables (the shared ones are the platform's). */
import { z } from 'zod';
import { tenantIdSchema } from '../contract/index.ts';
import { defineSettings, env } from '../platform/index.ts';
import { OTHER_TENANTS } from './metrics.ts';

export interface SalesSettings {
  /** SALES_METRICS_PORT: GET /metrics without a token on this port too; default none. */
  metricsPort: number | undefined;
  /** SALES_PORT, default 3002. */
  port: number;
  /** SALES_DATABASE_URL: PostgreSQL; unset means PGlite in DATA_DIR. */
  databaseUrl: string | undefined;
  /** SALES_WEBHOOK_URL: also notify the sales team by POSTing JSON here. */
  webhookUrl: string | undefined;
  /**
   * SALES_METRICS_TENANTS: tenants whose open alerts get series of their own; every other tenant
   * is summed into `tenant="other"`. Default: none (only `other`, which is then every tenant).
   */
  metricsTenants: readonly string[];
  /** SALES_ALERT_METRICS_CACHE_MS: a scrape within this long of the last query reuses it; default 5000. */
  alertMetricsCacheMs: number;
  /**
   * ORDER_SAGA_TIMEOUT_MS: an order still PENDING this long after it was placed is rejected
   * (reason `timeout`) and its reservation, should one come, released; default 30000. Long
   * enough for Inventory to answer through a restart or a broker failover, short enough that a
   * customer is not kept waiting on an outage. Checked every tenth of it (at most every 5 s).
   */
  orderSagaTimeoutMs: number;
  /**
   * SALES_REPLAY_MAX_EVENTS: a replay dry run asked of Sales (POST /api/v1/ops/replays) over a
   * range of more records than this is refused up front (ERP_SALES_REPLAY_TOO_LARGE); default
   * 100000. It runs in Sales' process and shares its CPU: this bounds how long (the bench's
   * replay of 100,000 records aims at under a minute). The CLI's replay has no bound.
   */
  replayMaxEvents: number;
}

/**
 * Each listed tenant adds 8 series (2 gauges × 4 priorities), and Prometheus' memory grows with
 * series: a list is for the few tenants worth an alert of their own, not for all of them.
 */
export const MAX_METRICS_TENANTS = 50;

/** A comma-separated list of tenant ids; blanks and repeats ignored. */
const tenantList = z
  .string()
  .optional()
  .transform((v) => [
    ...new Set(
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ])
  .pipe(
    z
      .array(
        tenantIdSchema.refine((t) => t !== OTHER_TENANTS, {
          message: `"${OTHER_TENANTS}" is the label of the tenants not listed`,
        }),
      )
      .max(MAX_METRICS_TENANTS, `at most ${MAX_METRICS_TENANTS} tenants get series of their own`),
  );

export const salesSettings = defineSettings({
  variables: {
    SALES_METRICS_PORT: env.port.optional(),
    SALES_PORT: env.port.default(3002),
    SALES_DATABASE_URL: env.optionalText,
    SALES_WEBHOOK_URL: env.optionalText,
    SALES_METRICS_TENANTS: tenantList,
    SALES_ALERT_METRICS_CACHE_MS: env.positiveInt.default(5_000),
    ORDER_SAGA_TIMEOUT_MS: env.positiveInt.default(30_000),
    SALES_REPLAY_MAX_EVENTS: env.positiveInt.default(100_000),
  },
  settings: (v): SalesSettings => ({
    port: v.SALES_PORT,
    metricsPort: v.SALES_METRICS_PORT,
    databaseUrl: v.SALES_DATABASE_URL,
    webhookUrl: v.SALES_WEBHOOK_URL,
    metricsTenants: v.SALES_METRICS_TENANTS,
    alertMetricsCacheMs: v.SALES_ALERT_METRICS_CACHE_MS,
    orderSagaTimeoutMs: v.ORDER_SAGA_TIMEOUT_MS,
    replayMaxEvents: v.SALES_REPLAY_MAX_EVENTS,
  }),
});
