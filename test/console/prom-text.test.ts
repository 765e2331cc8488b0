import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import { maxOf, parsePrometheusText, sumOf } from '../../src/console/prom-text.ts';

// What prom-client itself writes, not a hand-made sample: the console reads the services' output.
test('reads the samples prom-client writes: names, labels (escaped ones too) and values', async () => {
  const registry = new Registry();
  const published = new Counter({
    name: 'erp_outbox_published_total',
    help: 'x',
    labelNames: ['table'],
    registers: [registry],
  });
  published.inc({ table: 'events' }, 5);
  published.inc({ table: 'outbox' }, 2);
  const age = new Gauge({
    name: 'erp_sales_oldest_open_alert_age_seconds',
    help: 'y',
    labelNames: ['tenant', 'priority'],
    registers: [registry],
  });
  age.set({ tenant: 'a "quoted"\\tenant', priority: 'high' }, 12.5);
  age.set({ tenant: 'other', priority: 'high' }, 3);
  const samples = parsePrometheusText(await registry.metrics());
  assert.equal(sumOf(samples, 'erp_outbox_published_total'), 7);
  assert.equal(sumOf(samples, 'erp_outbox_published_total', { table: 'outbox' }), 2);
  assert.equal(maxOf(samples, 'erp_sales_oldest_open_alert_age_seconds'), 12.5);
  assert.ok(samples.some((s) => s.labels['tenant'] === 'a "quoted"\\tenant'));
  assert.equal(sumOf(samples, 'absent'), 0);
  assert.equal(maxOf(samples, 'absent'), 0);
});

test('ignores comments, blank and malformed lines; reads +Inf', () => {
  const samples = parsePrometheusText(
    '# HELP x y\n\nnot a sample line {\nx_bucket{le="+Inf"} 4\nx_sum 1.5 1700000000000\n',
  );
  assert.deepEqual(
    samples.map((s) => [s.name, s.value]),
    [
      ['x_bucket', 4],
      ['x_sum', 1.5],
    ],
  );
});
