/**
 * The business backlog as Prometheus sees it: open (unacknowledged) alerts and the age of the
 * oldest, per listed tenant and priority, every other tenant summed into tenant="other", every
 * priority exported; one query per cache period; a failing query never fails the scrape.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Priority } from '../../src/contract/index.ts';
import { loadServiceConfig } from '../../src/platform/index.ts';
import type { Database, Logger } from '../../src/platform/index.ts';
import type { AlertStatus, SalesDB } from '../../src/sales/db.ts';
import { createSalesMetrics } from '../../src/sales/metrics.ts';
import { salesSettings } from '../../src/sales/settings.ts';
import { testDatabase } from '../support/database.ts';
import { silentLogger } from './fixtures.ts';

const MINUTE = 60_000;

async function addAlert(
  database: Database<SalesDB>,
  tenant: string,
  priority: Priority,
  status: AlertStatus,
  openedMinutesAgo: number,
): Promise<void> {
  const openedAt = new Date(Date.now() - openedMinutesAgo * MINUTE);
  await database.db
    .insertInto('alerts')
    .values({
      id: randomUUID(),
      tenant_id: tenant,
      product_id: randomUUID(),
      product_sku: 'SKU',
      product_name: 'Widget',
      status,
      priority,
      current_stock: 1,
      reorder_level: 10,
      pending_order_quantity: 0,
      days_of_stock_remaining: null,
      source_event_id: randomUUID(),
      opened_at: openedAt,
      updated_at: openedAt,
      acknowledged_at: status === 'acknowledged' ? new Date() : null,
    })
    .execute();
}

/** `tenant/priority` → value of the gauge `name`. */
async function gauge(registry: Registry, name: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const { labels, value } of (await registry.getSingleMetric(name)!.get()).values) {
    result[`${labels['tenant']}/${labels['priority']}`] = value;
  }
  return result;
}

const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
const zeros = (...tenants: string[]) =>
  Object.fromEntries(tenants.flatMap((t) => PRIORITIES.map((p) => [`${t}/${p}`, 0])));

test('open alerts per listed tenant and priority, the others as "other", acknowledged ones left out', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await addAlert(database, 'acme', 'high', 'open', 30);
  await addAlert(database, 'acme', 'high', 'open', 5);
  await addAlert(database, 'acme', 'critical', 'acknowledged', 120);
  // Not listed: summed into "other", whatever their number.
  await addAlert(database, 'globex', 'high', 'open', 90);
  await addAlert(database, 'initech', 'high', 'open', 10);
  await addAlert(database, 'initech', 'low', 'open', 2);
  await addAlert(database, 'initech', 'medium', 'acknowledged', 600);
  const registry = new Registry();
  createSalesMetrics({ registry, database, logger: silentLogger, tenants: ['acme', 'umbrella'] });

  assert.deepEqual(await gauge(registry, 'erp_sales_open_alerts'), {
    ...zeros('acme', 'umbrella', 'other'),
    'acme/high': 2,
    'other/high': 2,
    'other/low': 1,
  });
  const ages = await gauge(registry, 'erp_sales_oldest_open_alert_age_seconds');
  const near = (actual: number | undefined, minutes: number) =>
    actual !== undefined && Math.abs(actual - minutes * 60) < 30;
  assert.ok(near(ages['acme/high'], 30), `acme/high ${ages['acme/high']}`);
  assert.ok(near(ages['other/high'], 90), `other/high ${ages['other/high']}`);
  assert.ok(near(ages['other/low'], 2), `other/low ${ages['other/low']}`);
  // An acknowledged alert is not a backlog: no age for it, and 0 where nothing is open.
  assert.equal(ages['acme/critical'], 0);
  assert.equal(ages['other/medium'], 0);
  assert.equal(ages['umbrella/high'], 0);
  assert.equal(Object.keys(ages).length, 12);
});

test('without SALES_METRICS_TENANTS every tenant is "other", and each priority has a series', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  const registry = new Registry();
  createSalesMetrics({ registry, database, logger: silentLogger, tenants: [] });
  assert.deepEqual(await gauge(registry, 'erp_sales_open_alerts'), zeros('other'));
  await addAlert(database, 'acme', 'medium', 'open', 1);
  const fresh = new Registry();
  createSalesMetrics({ registry: fresh, database, logger: silentLogger, tenants: [] });
  assert.deepEqual(await gauge(fresh, 'erp_sales_open_alerts'), {
    ...zeros('other'),
    'other/medium': 1,
  });
});

test('one query per cache period; the age still grows between queries', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await addAlert(database, 'acme', 'low', 'open', 1);
  const registry = new Registry();
  createSalesMetrics({
    registry,
    database,
    logger: silentLogger,
    tenants: ['acme'],
    cacheMs: 60_000,
  });
  const first = await gauge(registry, 'erp_sales_oldest_open_alert_age_seconds');
  assert.equal((await gauge(registry, 'erp_sales_open_alerts'))['acme/low'], 1);
  await addAlert(database, 'acme', 'high', 'open', 1);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assert.equal(
    (await gauge(registry, 'erp_sales_open_alerts'))['acme/high'],
    0,
    'served from the cache',
  );
  const second = await gauge(registry, 'erp_sales_oldest_open_alert_age_seconds');
  assert.ok(second['acme/low']! >= first['acme/low']! + 1, 'the age is computed at scrape time');
});

test('a failing query keeps the last values, then drops them when stale; the scrape never fails', async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  await addAlert(database, 'acme', 'high', 'open', 1);
  const lines: { level: number }[] = [];
  const logger: Logger = pino(
    { level: 'warn' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  const registry = new Registry();
  createSalesMetrics({
    registry,
    database,
    logger,
    tenants: [],
    cacheMs: 1,
    staleAfterMs: 500,
  });
  assert.equal((await gauge(registry, 'erp_sales_open_alerts'))['other/high'], 1);
  // A real failure of the query: its table is gone.
  await sql`ALTER TABLE alerts RENAME TO alerts_gone`.execute(database.db);
  assert.equal((await gauge(registry, 'erp_sales_open_alerts'))['other/high'], 1, 'kept');
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.deepEqual(await gauge(registry, 'erp_sales_open_alerts'), {}, 'dropped when stale');
  assert.match(await registry.metrics(), /# TYPE erp_sales_open_alerts gauge/);
  assert.equal(lines.length, 1, 'one warning a minute, however many scrapes failed');
});

test('SALES_METRICS_TENANTS: a list of tenant ids, bounded, "other" reserved (ERP_CFG_INVALID)', () => {
  const parse = (value: string | undefined) =>
    loadServiceConfig(salesSettings, value === undefined ? {} : { SALES_METRICS_TENANTS: value })
      .settings.metricsTenants;
  assert.deepEqual(parse(undefined), []);
  assert.deepEqual(parse(' acme, globex,,acme '), ['acme', 'globex']);
  const invalid = { code: 'ERP_CFG_INVALID' };
  assert.throws(() => parse('acme,other'), invalid);
  assert.throws(() => parse('acme,not a tenant'), invalid);
  const many = Array.from({ length: 51 }, (_, i) => `t${i}`).join(',');
  assert.throws(() => parse(many), invalid);
  assert.throws(
    () => loadServiceConfig(salesSettings, { SALES_ALERT_METRICS_CACHE_MS: '0' }),
    invalid,
  );
});
