/**
 * A real Prometheus (scripts/prometheus.ts, shared by the test run) scraping both services on
 * their metrics ports, as ops/prometheus/prometheus.yml does in production: after one stock
 * adjustment that Sales consumes, the consumer lag of the Sales group on the inventory topic
 * comes back through Prometheus' query API, and both targets are up. The services' ports are
 * free ones chosen at start, handed to Prometheus as file-discovered targets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensurePrometheus } from '../../scripts/prometheus.ts';
import { laptopBody } from '../inventory/fixtures.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { startSystem } from '../support/system.ts';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

test('Prometheus scrapes both services: erp_consumer_lag of the Sales group on the inventory topic, and up is 1 for both', async (t) => {
  const group = uniqueName('sales-service-group');
  const inventoryTopic = uniqueName('inventory-events');
  const system = await startSystem(t, {
    INVENTORY_METRICS_PORT: '0',
    SALES_METRICS_PORT: '0',
    KAFKA_CONSUMER_GROUP: group,
    KAFKA_INVENTORY_TOPIC: inventoryTopic,
    CONSUMER_LAG_INTERVAL_MS: '500',
  });
  const hostPort = (address: string | undefined) => {
    assert.ok(address !== undefined, 'a metrics port');
    return new URL(address).host;
  };
  // A label of this test's own: the shared Prometheus may scrape other runs' services too.
  const run = uniqueName('run');
  const prometheus = await ensurePrometheus({
    targets: {
      inventory: [hostPort(system.metricsAddress.inventory)],
      sales: [hostPort(system.metricsAddress.sales)],
    },
    labels: { run },
  });
  t.after(() => prometheus.release());
  const query = async (promql: string): Promise<Sample[]> => {
    const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { data: { result: Sample[] } }).data.result;
  };

  const tenant = uniqueName('tenant');
  const headers = await system.headers(tenant);
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: laptopBody,
  });
  assert.equal(created.statusCode, 201, created.body);
  const adjusted = await system.inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${created.json<{ id: string }>().id}/stock-adjustments`,
    headers,
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201, adjusted.body);
  await waitUntil(
    'Sales to consume the adjustment (an open alert)',
    async () => {
      const res = await system.sales.http.inject({ url: '/api/v1/alerts?status=open', headers });
      return res.json<{ items: unknown[] }>().items.length > 0;
    },
    60_000,
  );

  // New target files are picked up within seconds (discovery and the scrape manager batch
  // updates every 5 s), then scraped every second.
  let lag: Sample[] = [];
  await waitUntil(
    'Prometheus to have scraped erp_consumer_lag from Sales',
    // Inventory reports its own group's lag too (on sales-events, the order saga): Sales' here.
    async () => (lag = await query(`erp_consumer_lag{run="${run}",job="sales"}`)).length > 0,
    60_000,
  );
  // One series per partition of the topic, whichever member owns it.
  assert.deepEqual(
    lag.map(({ metric }) => Number(metric['partition'])).sort(),
    Array.from({ length: system.config.kafka.topicPartitions }, (_, i) => i),
  );
  for (const { metric, value } of lag) {
    assert.equal(metric['job'], 'sales');
    assert.equal(metric['group'], group);
    assert.match(metric['group'] ?? '', /^sales-service-group/);
    assert.equal(metric['topic'], inventoryTopic);
    assert.match(metric['topic'] ?? '', /inventory-events/);
    assert.match(metric['partition'] ?? '', /^\d+$/);
    assert.ok(Number(value[1]) >= 0, `lag ${value[1]}`);
  }

  // Each job's targets are discovered on their own: the other may come a few seconds later.
  let up: Sample[] = [];
  await waitUntil(
    'Prometheus to have scraped both targets',
    async () => (up = await query(`up{run="${run}"}`)).length === 2,
    60_000,
  );
  assert.deepEqual(up.map(({ metric, value }) => [metric['job'], value[1]]).sort(), [
    ['inventory', '1'],
    ['sales', '1'],
  ]);
});
