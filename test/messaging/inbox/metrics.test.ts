/** Labels fed by what producers write stay bounded: unknown event types share one label. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createPrometheusConsumerMetrics } from '../../../src/messaging/inbox/metrics.ts';

test('every unknown event type is counted under event_type="unknown", known types by name', async () => {
  const registry = new Registry();
  const metrics = createPrometheusConsumerMetrics(registry);
  for (let i = 0; i < 500; i++) metrics.skipped(`attacker.type_${i}`, 'unknown_type');
  metrics.skipped('inventory.product_created', 'no_handler');
  metrics.deadLettered('ERP_EVT_INVALID_PAYLOAD', 'made.up');
  metrics.deadLettered('ERP_EVT_MALFORMED_JSON', undefined);
  metrics.processed('inventory.low_stock', 0.01);

  const values = async (name: string): Promise<Record<string, string | number>[]> =>
    (await registry.getSingleMetric(name)!.get()).values.map((v) => ({
      ...(v.labels as Record<string, string>),
      value: v.value,
    }));
  assert.deepEqual(
    (await values('erp_consumer_skipped_total')).sort((a, b) =>
      String(a['event_type']).localeCompare(String(b['event_type'])),
    ),
    [
      { event_type: 'inventory.product_created', reason: 'no_handler', value: 1 },
      { event_type: 'unknown', reason: 'unknown_type', value: 500 },
    ],
  );
  const events = await values('erp_consumer_events_total');
  assert.deepEqual(
    new Set(events.map((e) => e['event_type'])),
    new Set(['unknown', 'inventory.product_created', 'inventory.low_stock']),
  );
  assert.equal(events.find((e) => e['outcome'] === 'dead_lettered')?.value, 2);
});
