/**
 * The design document's path, end to end on the real broker: a stock adjustment in Inventory
 * becomes one open alert in Sales; an outside client sees the document's envelope on
 * `inventory-events`; an event in the document's own JSON, produced by another client, is
 * handled, and delivered twice has one effect.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createConsumer, createProducer } from '../../src/messaging/kafka/index.ts';
import type { IncomingRecord } from '../../src/messaging/kafka/index.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { laptopBody } from '../inventory/fixtures.ts';

interface EventJson {
  metadata: Record<string, string>;
  payload: Record<string, unknown>;
}

let system: TestSystem;
const cleanups: Array<() => unknown> = [];
before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  for (const fn of cleanups) await fn();
});

const tenantHeaders = (tenant: string) => system.headers(tenant);

async function openAlerts(tenant: string) {
  const res = await system.sales.http.inject({
    url: '/api/v1/alerts?status=open',
    headers: await tenantHeaders(tenant),
  });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  return (Array.isArray(body) ? body : body.items) as Array<Record<string, unknown>>;
}

test('adjusting stock from 100 to 8 with reorder level 10 opens one alert in Sales, and Kafka carries the document envelope', async (t) => {
  const tenant = uniqueName('tenant');
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: await tenantHeaders(tenant),
    payload: laptopBody,
  });
  assert.equal(created.statusCode, 201);
  const productId: string = created.json().id;
  const adjusted = await system.inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${productId}/stock-adjustments`,
    headers: await tenantHeaders(tenant),
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201);
  const started = performance.now();
  await waitUntil(
    'an open alert in Sales',
    async () => (await openAlerts(tenant)).length > 0,
    15_000,
  );
  t.diagnostic(`adjustment commit → alert visible: ${(performance.now() - started).toFixed(0)} ms`);
  const alerts = await openAlerts(tenant);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.['product_id'], productId);
  // 92 units left in the product's first day: 8 on hand last about 0.09 days, under 3: HIGH.
  assert.equal(alerts[0]?.['priority'], 'high');
  assert.deepEqual(await openAlerts(uniqueName('other-tenant')), [], 'another tenant sees nothing');

  // An independent client reads the topic: the document's envelope, keyed by product id.
  const records: IncomingRecord[] = [];
  const reader = createConsumer(system.conn, {
    groupId: uniqueName('reader'),
    topics: [system.config.kafka.inventoryTopic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  const running = reader.run((batch) => {
    records.push(...batch.records.filter((r) => r.key?.toString() === productId));
    return Promise.resolve();
  });
  t.after(() => reader.close());
  await waitUntil('three records of the product', () => records.length >= 3, 15_000);
  await reader.close();
  await running.catch(() => {});
  const values = records.map((r) => JSON.parse(r.value!.toString()) as EventJson);
  assert.deepEqual(
    values.map((v) => v.metadata.event_type),
    ['inventory.product_created', 'inventory.stock_adjusted', 'inventory.low_stock'],
  );
  const low = values[2]!;
  assert.deepEqual(Object.keys(low).sort(), ['metadata', 'payload']);
  assert.deepEqual(Object.keys(low.metadata).sort(), [
    'correlation_id',
    'event_id',
    'event_type',
    'event_version',
    'priority',
    'source_service',
    'tenant_id',
    'timestamp',
  ]);
  assert.deepEqual(Object.keys(low.payload).sort(), [
    'category',
    'current_stock',
    'days_of_stock_remaining',
    'location',
    'product_id',
    'product_name',
    'product_sku',
    'reorder_level',
    'reorder_quantity',
    'unit_price',
  ]);
  assert.equal(low.metadata.event_version, '1.0');
  assert.equal(low.metadata.source_service, 'inventory-service');
  assert.equal(low.metadata.tenant_id, tenant);
  assert.equal(low.metadata.priority, 'high');
  assert.match(low.metadata.timestamp ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  assert.equal(low.payload.current_stock, 8);
  assert.equal(low.payload.reorder_level, 10);
  const lowRecord = records[2]!;
  // The bytes keep the document's field order: metadata first, event_id first within it.
  assert.match(lowRecord.value!.toString(), /^\{"metadata":\{"event_id":/);
  assert.equal(lowRecord.headers['event_type'], 'inventory.low_stock');
  assert.equal(lowRecord.headers['event_version'], '1.0');
  assert.equal(lowRecord.headers['tenant_id'], tenant);
  assert.equal(lowRecord.headers['correlation_id'], low.metadata.correlation_id);
});

test("an event in the document's JSON from another Kafka client is handled, and twice has one effect", async (t) => {
  const tenant = uniqueName('tenant');
  const productId = uniqueName('PRD');
  // The document's example, with ids made unique to this run.
  const documentEvent = {
    metadata: {
      event_id: uniqueName('evt'),
      event_type: 'inventory.low_stock',
      event_version: '1.0',
      timestamp: '2024-01-15T10:00:00Z',
      source_service: 'inventory-service',
      tenant_id: tenant,
      correlation_id: 'corr-789',
      priority: 'high',
    },
    payload: {
      product_id: productId,
      product_sku: 'LAP-001',
      product_name: 'Laptop Computer',
      current_stock: 8,
      reorder_level: 10,
      reorder_quantity: 50,
      unit_price: 1200.0,
      category: 'electronics',
      location: 'Warehouse A',
      days_of_stock_remaining: 3.5,
    },
  };
  const producer = createProducer({ ...system.conn, clientId: 'outside-client' });
  t.after(() => producer.close());
  const record = {
    topic: system.config.kafka.inventoryTopic,
    key: productId,
    value: Buffer.from(JSON.stringify(documentEvent)),
  };
  await producer.send([record]);
  await producer.send([record]);
  // A third record on the same key (so the same partition, after both copies): once Sales has
  // applied it, both copies have been through the consumer.
  const sentinel = {
    metadata: {
      ...documentEvent.metadata,
      event_id: uniqueName('evt'),
      event_type: 'inventory.product_created',
      priority: 'low',
    },
    payload: {
      product_id: productId,
      product_sku: 'LAP-001',
      product_name: 'Laptop Computer',
      category: 'electronics',
      unit_price: 1200,
      quantity_on_hand: 8,
      reorder_level: 10,
      reorder_quantity: 50,
      location: 'Warehouse A',
    },
  };
  await producer.send([{ ...record, value: Buffer.from(JSON.stringify(sentinel)) }]);
  await waitUntil(
    'the sentinel',
    async () => {
      const rows = await system.salesDb.db
        .selectFrom('inbox')
        .select('event_id')
        .where('event_id', '=', sentinel.metadata.event_id)
        .execute();
      return rows.length === 1;
    },
    15_000,
  );
  const alerts = await openAlerts(tenant);
  assert.equal(alerts.length, 1);
  // 8 of 10 with 3.5 days left: MEDIUM by the document's rules.
  assert.equal(alerts[0]?.['priority'], 'medium');
  const history = await system.salesDb.db
    .selectFrom('alert_history')
    .select(['change'])
    .where('tenant_id', '=', tenant)
    .execute();
  assert.deepEqual(
    history.map((h) => h.change),
    ['opened'],
  );
});
