/**
 * Both services with SCHEMA_REGISTRY_URL against a real Apicurio Registry (scripts/registry.ts,
 * shared): what they publish carries the registry's id of its subject in a `schema_id` header,
 * and a service whose schemas are missing or incompatible refuses to start. Each test has topics,
 * hence subjects, of its own.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ensureRegistry } from '../../scripts/registry.ts';
import { inventoryService } from '../../src/inventory/index.ts';
import type { InventoryDB } from '../../src/inventory/index.ts';
import {
  createSchemaRegistryClient,
  SCHEMA_COMPATIBILITY,
  schemaSubjects,
  startService,
} from '../../src/messaging/index.ts';
import type { SchemaRegistryClient, SchemaSubject } from '../../src/messaging/index.ts';
import { isAppError, loadConfig, loadServiceConfig } from '../../src/platform/index.ts';
import { laptopBody } from '../inventory/fixtures.ts';
import { testIssuer } from '../support/auth.ts';
import { testDatabase } from '../support/database.ts';
import { consumeRecords, testBootstrap, uniqueName } from '../support/kafka.ts';
import { withPayload } from '../support/schemas.ts';
import { startSystem } from '../support/system.ts';

let url: string;
let client: SchemaRegistryClient;

before(async () => {
  url = (await ensureRegistry()).url;
  client = createSchemaRegistryClient({ url });
});

async function uniqueEnv(): Promise<Record<string, string>> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
    KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
    KAFKA_SALES_TOPIC: uniqueName('sales-events'),
    SCHEMA_REGISTRY_URL: url,
  };
}

/** Registers `subjects` as `schemas register` does; their ids by subject. */
async function register(subjects: readonly SchemaSubject[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const s of subjects) {
    await client.setCompatibility(s.subject, SCHEMA_COMPATIBILITY);
    ids.set(s.subject, await client.register(s.subject, s.schema));
  }
  return ids;
}

test('services with SCHEMA_REGISTRY_URL: every event on Kafka has schema_id = its subject’s id', async (t) => {
  const env = await uniqueEnv();
  const subjects = schemaSubjects(loadConfig(env).kafka);
  const ids = await register(subjects);
  const system = await startSystem(t, env);

  const headers = await system.headers('tenant-a');
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: { ...laptopBody, sku: 'SR-001' },
  });
  assert.equal(created.statusCode, 201, created.body);
  const adjusted = await system.inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${created.json<{ id: string }>().id}/stock-adjustments`,
    headers,
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201, adjusted.body);

  // product_created, stock_adjusted, low_stock on Inventory's topic; Sales' alert on its own.
  const inventoryRecords = await consumeRecords(t, system.conn, env['KAFKA_INVENTORY_TOPIC']!, 3);
  const salesRecords = await consumeRecords(t, system.conn, env['KAFKA_SALES_TOPIC']!, 1, {
    timeoutMs: 60_000,
  });
  const seen = new Set<string>();
  for (const record of [...inventoryRecords, ...salesRecords]) {
    const type = record.headers['event_type']!;
    const subject = `${record.topic}-${type}`;
    assert.ok(ids.has(subject), `${subject} is one of the registered subjects`);
    assert.equal(record.headers['schema_id'], String(ids.get(subject)), subject);
    // The value stays the plain JSON envelope: consumers without a registry read it as before.
    assert.equal(JSON.parse(record.value!.toString('utf8')).metadata.event_type, type);
    seen.add(type);
  }
  assert.deepEqual([...seen].sort(), [
    'inventory.low_stock',
    'inventory.product_created',
    'inventory.stock_adjusted',
    'sales.low_stock_alert_raised',
  ]);
});

test('a service refuses to start: ERP_SCHEMA_NOT_REGISTERED, then ERP_SCHEMA_INCOMPATIBLE naming the field', async (t) => {
  const issuer = await testIssuer();
  const env: Record<string, string> = {
    ...(await uniqueEnv()),
    DATA_DIR: issuer.dataDir,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  };
  const { config, settings } = loadServiceConfig(inventoryService.settings, env);
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const start = () =>
    startService(inventoryService, config, settings, {
      database,
      listen: { host: '127.0.0.1', port: 0 },
    });

  await assert.rejects(start(), (err) => {
    assert.ok(isAppError(err), String(err));
    assert.equal(err.code, 'ERP_SCHEMA_NOT_REGISTERED', err.message);
    assert.match(err.message, new RegExp(`${env['KAFKA_INVENTORY_TOPIC']}-inventory\\.`));
    return true;
  });

  // The registry holds a low_stock whose current_stock is a string: the contract's integer
  // cannot follow it. The other subjects hold the contract's own schemas.
  const subjects = schemaSubjects(config.kafka, [config.kafka.inventoryTopic]);
  const registered = subjects.map((s) =>
    s.eventType === 'inventory.low_stock'
      ? {
          ...s,
          schema: withPayload(
            s.schema,
            (p) => (p.properties['current_stock'] = { type: 'string' }),
          ),
        }
      : s,
  );
  await register(registered);
  await assert.rejects(start(), (err) => {
    assert.ok(isAppError(err), String(err));
    assert.equal(err.code, 'ERP_SCHEMA_INCOMPATIBLE', err.message);
    assert.equal(err.context['subject'], `${env['KAFKA_INVENTORY_TOPIC']}-inventory.low_stock`);
    assert.deepEqual(err.context['fields'], ['payload.current_stock']);
    return true;
  });
});
