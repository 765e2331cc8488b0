/**
 * The README's metrics table is the truth about what the services export: both services are built
 * by the service kit as in production, and every `erp_*` metric of their registries must be a row
 * with its type, labels and service, and every row a metric one of them exports.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Registry } from 'prom-client';
import { inventoryService } from '../../src/inventory/index.ts';
import type { InventoryDB } from '../../src/inventory/index.ts';
import { buildService, createProducer, serviceConsumer } from '../../src/messaging/index.ts';
import type { ServiceDefinition } from '../../src/messaging/index.ts';
import {
  createLogger,
  createMetricsRegistry,
  loadServiceConfig,
} from '../../src/platform/index.ts';
import type { Database } from '../../src/platform/index.ts';
import { salesService } from '../../src/sales/index.ts';
import type { SalesDB } from '../../src/sales/index.ts';
import { testIssuer } from '../support/auth.ts';
import { testDatabase } from '../support/database.ts';
import { testBootstrap } from '../support/kafka.ts';

interface Row {
  type: string;
  labels: string[];
  services: string[];
}

/** name → row, of the `erp_*` rows of the README's "## Metrics" section. */
function documented(): Map<string, Row> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Metrics\n');
  assert.ok(start >= 0, 'the README has a "## Metrics" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, Row>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `name` | type | `label`, `label` | service | meaning |
    const name = /^`(erp_[a-z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined) continue;
    assert.ok(!rows.has(name), `${name} is documented twice`);
    const labels = [...(cells[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
    const service = cells[4] ?? '';
    rows.set(name, {
      type: cells[2] ?? '',
      labels: labels.sort(),
      services: service === 'both' ? ['Inventory', 'Sales'] : [service],
    });
  }
  return rows;
}

type Closer = () => Promise<unknown>;
const closers: Closer[] = [];
const registries = new Map<string, Registry>();

/** Builds `definition` as the kit would (not started: building registers every metric). */
async function build<DB, S, E>(
  label: string,
  definition: ServiceDefinition<DB, S, E>,
  database: Database<DB>,
): Promise<void> {
  const { config, settings } = loadServiceConfig(definition.settings, {
    KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
    LOG_LEVEL: 'silent',
  });
  const logger = createLogger(definition.name, 'silent');
  const producer = createProducer({
    clientId: 'metrics-doc',
    bootstrapServers: config.kafka.bootstrapServers,
  });
  closers.push(() => producer.close());
  const consumer = serviceConsumer(definition, settings, config, {
    databaseKind: database.kind,
    logger,
  });
  if (consumer !== undefined) closers.push(() => consumer.close());
  // As startService makes it, default metrics included.
  const metrics = createMetricsRegistry(definition.name);
  buildService(definition, {
    config,
    settings,
    database,
    producer,
    ...(consumer === undefined ? {} : { consumer }),
    logger,
    metrics,
    authenticator: (await testIssuer()).authenticator,
  });
  registries.set(label, metrics);
}

before(async () => {
  const cleanup = { after: (fn: () => unknown) => void closers.push(() => Promise.resolve(fn())) };
  await build('Inventory', inventoryService, await testDatabase<InventoryDB>(cleanup, 'inventory'));
  await build('Sales', salesService(), await testDatabase<SalesDB>(cleanup, 'sales'));
});

after(async () => {
  for (const close of closers.reverse()) await close();
});

/** name → row, of the `erp_*` metrics the built services' registries hold. */
function exported(): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const [service, registry] of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      if (!metric.name.startsWith('erp_')) continue;
      // prom-client keeps the label names on the metric; its types leave them out.
      const labels = [...((metric as unknown as { labelNames: string[] }).labelNames ?? [])].sort();
      const type = String(metric.type);
      const row = rows.get(metric.name);
      if (row === undefined) rows.set(metric.name, { type, labels, services: [service] });
      else {
        assert.deepEqual(
          [row.type, row.labels],
          [type, labels],
          `${metric.name} differs between services`,
        );
        row.services.push(service);
      }
    }
  }
  return rows;
}

test('every erp_ metric the services export is in the README table, with its type, labels and service', () => {
  const docs = documented();
  const real = exported();
  assert.ok(real.size >= 15, `found only ${real.size} metrics: the build is broken`);
  const missing = [...real.keys()].filter((name) => !docs.has(name)).sort();
  assert.deepEqual(missing, [], 'exported but not documented');
  for (const [name, row] of real) {
    assert.deepEqual(docs.get(name), row, `the README row of ${name}`);
  }
});

test('every metric in the README table is exported by a service', () => {
  const real = exported();
  const stale = [...documented().keys()].filter((name) => !real.has(name)).sort();
  assert.deepEqual(stale, [], 'documented but not exported');
});

test("prom-client's default metrics are exported beside ours, as the README says", async () => {
  for (const registry of registries.values()) {
    const names = registry.getMetricsAsArray().map((m) => m.name);
    assert.ok(names.includes('process_cpu_seconds_total'));
    assert.ok(names.some((n) => n.startsWith('nodejs_')));
  }
  // The `service` label the README promises on every series.
  const text = await registries.get('Inventory')!.metrics();
  assert.match(text, /^process_cpu_seconds_total\{service="inventory-service"\} /m);
});
