/**
 * The app's wiring on the real broker: readiness, a low-stock event through the consumer to an
 * alert, its sales event published by the relay, its notification delivered after commit, and a
 * graceful stop. The full Inventory → Sales path is test/e2e's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEvent, kafkaHeadersFor } from '../../src/contract/index.ts';
import {
  buildService,
  createConsumer,
  createProducer,
  ensureTopics,
} from '../../src/messaging/index.ts';
import type { IncomingRecord } from '../../src/messaging/index.ts';
import { createMetricsRegistry, loadServiceConfig } from '../../src/platform/index.ts';
import { salesService } from '../../src/sales/index.ts';
import type { Notification, NotificationChannel, SalesDB } from '../../src/sales/index.ts';
import { testIssuer } from '../support/auth.ts';
import { testDatabase } from '../support/database.ts';
import { testBootstrap, uniqueName, waitUntil } from '../support/kafka.ts';
import { lowStockEvent, silentLogger } from './fixtures.ts';

test('consumes low stock, publishes the alert event, notifies, and stops gracefully', async (t) => {
  const bootstrap = await testBootstrap();
  const { config, settings } = loadServiceConfig(salesService().settings, {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(','),
    KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
    KAFKA_SALES_TOPIC: uniqueName('sales-events'),
    KAFKA_CONSUMER_GROUP: uniqueName('sales-group'),
    OUTBOX_POLL_INTERVAL_MS: '250',
  });
  const conn = { clientId: 'sales-app-test', bootstrapServers: config.kafka.bootstrapServers };
  await ensureTopics(conn, [
    { name: config.kafka.inventoryTopic, partitions: 2, replicationFactor: 1 },
    { name: `${config.kafka.inventoryTopic}.dlq`, partitions: 1, replicationFactor: 1 },
    { name: config.kafka.salesTopic, partitions: 2, replicationFactor: 1 },
  ]);
  const database = await testDatabase<SalesDB>(t, 'sales');
  const producer = createProducer(conn);
  t.after(() => producer.close());
  const consumer = createConsumer(conn, {
    groupId: config.kafka.consumerGroup,
    topics: [config.kafka.inventoryTopic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  const delivered: Notification[] = [];
  const pager: NotificationChannel = {
    name: 'pager',
    send: (n) => {
      delivered.push(n);
      return Promise.resolve();
    },
  };
  const issuer = await testIssuer();
  const metrics = createMetricsRegistry('sales-test', false);
  const app = buildService(salesService({ channels: [pager] }), {
    config,
    settings,
    database,
    producer,
    consumer,
    logger: silentLogger,
    metrics,
    authenticator: issuer.authenticator,
  });
  t.after(() => app.stop());

  assert.equal((await app.http.inject({ url: '/readyz' })).statusCode, 503);
  await app.start();
  assert.equal((await app.http.inject({ url: '/readyz' })).statusCode, 200);

  const tenant = uniqueName('tenant');
  const event = lowStockEvent(tenant, { product_id: 'P-1', current_stock: 0 }, 'corr-app');
  await producer.send([
    {
      topic: config.kafka.inventoryTopic,
      key: 'P-1',
      value: encodeEvent(event),
      headers: kafkaHeadersFor(event),
    },
  ]);

  await waitUntil('the notification', () => delivered.length === 1, 15_000);
  assert.equal(delivered[0]?.tenantId, tenant);
  assert.equal(delivered[0]?.priority, 'critical');

  const records: IncomingRecord[] = [];
  const reader = createConsumer(conn, {
    groupId: uniqueName('reader'),
    topics: [config.kafka.salesTopic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  const reading = reader.run((batch) => {
    records.push(...batch.records);
    return Promise.resolve();
  });
  t.after(() => reader.close());
  await waitUntil('the sales event', () => records.length === 1, 15_000);
  await reader.close();
  await reading.catch(() => {});
  const published = JSON.parse(records[0]!.value!.toString());
  assert.equal(records[0]!.key?.toString(), 'P-1');
  assert.equal(published.metadata.event_type, 'sales.low_stock_alert_raised');
  assert.equal(published.metadata.correlation_id, 'corr-app');
  assert.equal(published.payload.priority, 'critical');
  assert.equal(published.payload.source_event_id, event.metadata.event_id);

  const alerts = await app.http.inject({
    url: '/api/v1/alerts',
    headers: await issuer.headers(tenant),
  });
  assert.equal(alerts.json().items.length, 1);

  // The wait behind the alert: the event's age in Kafka, Inventory's commit to Sales' alert, and
  // the alert still open (the test's tenant is not listed: tenant="other").
  const text = await metrics.metrics();
  assert.match(
    text,
    /erp_consumer_event_age_seconds_count\{[^}]*event_type="inventory.low_stock"[^}]*\} 1\n/,
  );
  assert.match(text, /erp_sales_alert_latency_seconds_count\{[^}]*priority="critical"[^}]*\} 1\n/);
  assert.match(
    text,
    /erp_sales_open_alerts\{tenant="other",priority="critical",service="sales-test"\} 1\n/,
  );

  // While it stops (the consumer leaving, the relay's last pass), requests get 503; then it closes.
  const stopping = app.stop();
  const drained = await app.http.inject({
    url: '/api/v1/alerts',
    headers: await issuer.headers(tenant),
  });
  assert.equal(drained.statusCode, 503);
  assert.equal(drained.json().error.code, 'ERP_HTTP_DRAINING');
  await stopping;
  assert.equal(app.http.server.listening, false);
});
