/**
 * A third service, made with the kit in a handful of lines (the one docs/new-service.md walks
 * through): it counts inventory.product_created events per tenant in its own table. Against the
 * real broker and database: the kit creates its topics, migrates its inbox and its table, runs
 * its consumer with the inbox (a redelivered event counts once), dead-letters what it cannot
 * read, and serves health, readiness and metrics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import {
  createEvent,
  encodeEvent,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../../src/contract/index.ts';
import type { AnyEvent } from '../../../src/contract/index.ts';
import {
  createProducer,
  defineService,
  EventRouter,
  readTopic,
  startService,
} from '../../../src/messaging/index.ts';
import type { InboxTable } from '../../../src/messaging/index.ts';
import { defineSettings, env, loadServiceConfig } from '../../../src/platform/index.ts';
import { testIssuer } from '../../support/auth.ts';
import { testDatabase } from '../../support/database.ts';
import { testBootstrap, uniqueName, waitUntil } from '../../support/kafka.ts';

interface CounterDB {
  inbox: InboxTable;
  created_products: { tenant_id: string; count: number };
}

// The whole service: settings, one table, one handler.
const counterService = defineService<CounterDB, { group: string }, object>({
  name: 'counter-service',
  id: 'counter',
  settings: defineSettings({
    variables: { COUNTER_GROUP: env.text.default('counter-service-group') },
    settings: (v) => ({ group: v.COUNTER_GROUP }),
  }),
  port: () => 0,
  databaseUrl: () => undefined,
  tenantTables: ['created_products'],
  migrations: [
    {
      name: '001_created_products',
      sql: 'CREATE TABLE created_products (tenant_id text PRIMARY KEY, count int NOT NULL)',
    },
  ],
  consumes: (config, s) => ({ groupId: s.group, topics: [config.kafka.inventoryTopic] }),
  build: () => ({
    handlers: new EventRouter<CounterDB>().on('inventory.product_created', async (events, ctx) => {
      for (const { event } of events) {
        await sql`INSERT INTO created_products VALUES (${event.metadata.tenant_id}, 1)
          ON CONFLICT (tenant_id) DO UPDATE SET count = created_products.count + 1`.execute(
          ctx.trx,
        );
      }
    }),
    exposed: {},
  }),
});

function created(tenant: string, productId: string): AnyEvent {
  return createEvent(
    'inventory.product_created',
    {
      product_id: productId,
      product_sku: `SKU-${productId}`,
      product_name: 'Widget',
      category: 'parts',
      unit_price: 2.5,
      quantity_on_hand: 10,
      reorder_level: 2,
      reorder_quantity: 20,
      location: 'A',
    },
    { tenantId: tenant, sourceService: 'inventory-service' },
  );
}

test('a service made with the kit counts product_created events once each, per tenant', async (t) => {
  const topic = uniqueName('inventory-events');
  const group = uniqueName('counter-group');
  const issuer = await testIssuer();
  const { config, settings } = loadServiceConfig(counterService.settings, {
    KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
    KAFKA_INVENTORY_TOPIC: topic,
    COUNTER_GROUP: group,
    CONSUMER_LAG_INTERVAL_MS: '100',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    // The kit's default authentication: the development issuer of this DATA_DIR.
    DATA_DIR: issuer.dataDir,
  });
  const database = await testDatabase<CounterDB>(t, null);
  const service = await startService(counterService, config, settings, {
    database,
    listen: { host: '127.0.0.1', port: 0 },
  });
  t.after(() => service.stop());

  const producer = createProducer({
    clientId: 'counter-test',
    bootstrapServers: config.kafka.bootstrapServers,
  });
  t.after(() => producer.close());
  const once = created('tenant-a', 'P-1');
  const events = [once, once, created('tenant-a', 'P-2'), created('tenant-b', 'P-3')];
  await producer.send([
    ...events.map((e) => ({
      topic,
      key: messageKeyOf(e),
      value: encodeEvent(e),
      headers: kafkaHeadersFor(e),
    })),
    // Not JSON: dead-lettered by the kit's consumer, and the others still counted.
    { topic, key: 'P-9', value: Buffer.from('not json') },
  ]);

  const counts = async () =>
    (
      await database.db
        .selectFrom('created_products')
        .select(['tenant_id', 'count'])
        .orderBy('tenant_id')
        .execute()
    ).map((r) => [r.tenant_id, r.count]);
  await waitUntil('both tenants counted', async () => (await counts()).length === 2, 30_000);
  await waitUntil('tenant-a counted twice', async () => (await counts())[0]?.[1] === 2, 30_000);
  assert.deepEqual(await counts(), [
    ['tenant-a', 2],
    ['tenant-b', 1],
  ]);
  const deadLetterCodes = async (): Promise<string[]> => {
    const codes: string[] = [];
    await readTopic(
      { clientId: 'counter-dlq', bootstrapServers: config.kafka.bootstrapServers },
      `${topic}.dlq`,
      { onRecord: (r) => void codes.push(r.headers['dlq.error.code'] ?? '') },
    );
    return codes;
  };
  await waitUntil('the dead letter', async () => (await deadLetterCodes()).length > 0, 30_000);
  assert.deepEqual(await deadLetterCodes(), ['ERP_EVT_MALFORMED_JSON']);

  const ready = await fetch(`${service.address}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal((await fetch(`${service.address}/metrics`)).status, 401, 'metrics need a token');
  const ops = { authorization: `Bearer ${await issuer.token(undefined, ['ops'])}` };
  const metrics = await (await fetch(`${service.address}/metrics`, { headers: ops })).text();
  assert.match(
    metrics,
    /erp_consumer_events_total\{event_type="inventory.product_created",outcome="duplicate"[^}]*\} 1/,
  );
  // The kit reads the group's lag for every service that consumes: each partition of the consumed
  // topic, caught up (0) once everything is committed, and nothing for the dead-letter topic.
  const lag = async (): Promise<string[]> => {
    const text = await (await fetch(`${service.address}/metrics`, { headers: ops })).text();
    return [...text.matchAll(/^erp_consumer_lag\{([^}]*)\} (\S+)$/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
  };
  const caughtUp = [0, 1, 2].map(
    (p) => `group="${group}",topic="${topic}",partition="${p}",service="counter-service" 0`,
  );
  await waitUntil('lag 0 on every partition', async () => (await lag()).join() === caughtUp.join());
});
