/**
 * Labels fed by what producers write stay bounded: unknown event types share one label. Event
 * age: from the record's timestamp to the commit of its effects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { EVENT_TYPES } from '../../../src/contract/index.ts';
import { createPrometheusConsumerMetrics } from '../../../src/messaging/inbox/metrics.ts';
import { ageSeconds } from '../../../src/messaging/inbox/transaction.ts';
import { waitUntil } from '../../support/kafka.ts';
import { applyEach, harness, idOf, productCreated, recordOf } from './fixtures.ts';

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

/** A histogram's samples: each names its series (`_bucket`, `_sum`, `_count`). */
async function histogramValues(registry: Registry, name: string) {
  return (await registry.getSingleMetric(name)!.get()).values as {
    metricName?: string;
    labels: Record<string, string | number | undefined>;
    value: number;
  }[];
}

test('event age: observed per processed event from its record timestamp, never negative, skipped without one', async () => {
  assert.equal(ageSeconds(1_000, 61_000), 60);
  assert.equal(
    ageSeconds(5_000, 4_000),
    0,
    "a producer's clock ahead of ours is not a negative age",
  );
  assert.equal(ageSeconds(-1, 4_000), undefined, 'Kafka marks a record without timestamp with -1');

  const registry = new Registry();
  const metrics = createPrometheusConsumerMetrics(registry);
  metrics.processed('inventory.low_stock', 0.01, 90);
  metrics.processed('inventory.low_stock', 0.01, 4_000);
  metrics.processed('inventory.low_stock', 0.01, undefined);
  metrics.duplicate('inventory.low_stock');
  const values = await histogramValues(registry, 'erp_consumer_event_age_seconds');
  const sample = (name: string, le?: number) =>
    values.find(
      (v) =>
        v.metricName === name &&
        v.labels['event_type'] === 'inventory.low_stock' &&
        (le === undefined || v.labels['le'] === le),
    )?.value;
  assert.equal(sample('erp_consumer_event_age_seconds_count'), 2);
  assert.equal(sample('erp_consumer_event_age_seconds_sum'), 4_090);
  // Buckets reach hours: 90 s and 4 000 s land in different ones.
  assert.equal(sample('erp_consumer_event_age_seconds_bucket', 120), 1);
  assert.equal(sample('erp_consumer_event_age_seconds_bucket', 3600), 1);
  assert.equal(sample('erp_consumer_event_age_seconds_bucket', 7200), 2);
});

test('event age through the inbox consumer: a record that waited in Kafka shows its wait', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.productCreated, applyEach);
  const event = productCreated('P-age');
  await h.send([recordOf(h.topic, event)]);
  // The record waits in Kafka while no consumer runs.
  await sleep(1_500);
  const registry = new Registry();
  const inbox = await h.start({ metrics: createPrometheusConsumerMetrics(registry) });
  await waitUntil('the effect', async () => (await h.effects()).get(idOf(event)) === 1);
  await inbox.stop();
  const values = await histogramValues(registry, 'erp_consumer_event_age_seconds');
  const of = (name: string) =>
    values.find(
      (v) => v.metricName === name && v.labels['event_type'] === 'inventory.product_created',
    )?.value;
  assert.equal(of('erp_consumer_event_age_seconds_count'), 1);
  const age = of('erp_consumer_event_age_seconds_sum')!;
  assert.ok(age >= 1.4 && age < 60, `age ${age} s`);
});
