/**
 * The whole system in one test process: both services built by the service kit, with unique
 * topics and consumer group on the real broker, and a database each (PostgreSQL schemas when
 * DATABASE_URL is set, PGlite otherwise). Used by end-to-end tests.
 */
import assert from 'node:assert/strict';
import { inventoryService } from '../../src/inventory/index.ts';
import type { InventoryDB, InventoryParts } from '../../src/inventory/index.ts';
import {
  buildService,
  createProducer,
  ensureTopics,
  listenForMetrics,
  serviceConsumer,
  serviceTopics,
} from '../../src/messaging/index.ts';
import type { KafkaConnectionOptions, Service } from '../../src/messaging/index.ts';
import {
  createAuthenticator,
  createLogger,
  createMetricsRegistry,
  loadServiceConfig,
} from '../../src/platform/index.ts';
import type { Config, Database } from '../../src/platform/index.ts';
import { salesService } from '../../src/sales/index.ts';
import type { SalesDB, SalesParts } from '../../src/sales/index.ts';
import { testIssuer } from './auth.ts';
import { testDatabase } from './database.ts';
import type { Cleanup } from './database.ts';
import { testBootstrap, uniqueName } from './kafka.ts';

export interface TestSystem {
  config: Config;
  conn: KafkaConnectionOptions;
  /** The Sales service's consumer group (unique to this system). */
  consumerGroup: string;
  inventory: Service<InventoryParts>;
  sales: Service<SalesParts>;
  inventoryDb: Database<InventoryDB>;
  salesDb: Database<SalesDB>;
  /**
   * Where each service serves GET /metrics without a token, when the environment gives it a
   * metrics port (INVENTORY_METRICS_PORT, SALES_METRICS_PORT; '0' for any free one), as
   * `startService` does: e.g. `{ inventory: 'http://127.0.0.1:40123', sales: ... }`.
   */
  metricsAddress: { inventory?: string; sales?: string };
  /**
   * Authorization headers both services accept, for `tenant` (all scopes unless given;
   * undefined: a token bound to no tenant, as a platform operator's).
   */
  headers(
    tenant: string | undefined,
    scopes?: readonly string[],
  ): Promise<{ authorization: string }>;
  /**
   * A second Sales instance on the same database, group and producer (not started; stopped
   * with the system), e.g. to restart Sales after stopping `sales`.
   */
  anotherSales(): Service<SalesParts>;
  /** The same for Inventory (its database, consumer group and producer). */
  anotherInventory(): Service<InventoryParts>;
}

export async function startSystem(
  t: Cleanup,
  env: Record<string, string> = {},
): Promise<TestSystem> {
  const bootstrap = await testBootstrap();
  const environment = {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(','),
    KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
    KAFKA_SALES_TOPIC: uniqueName('sales-events'),
    KAFKA_CONSUMER_GROUP: uniqueName('sales-service-group'),
    INVENTORY_CONSUMER_GROUP: uniqueName('inventory-service-group'),
    OUTBOX_POLL_INTERVAL_MS: '250',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  };
  const inv = loadServiceConfig(inventoryService.settings, environment);
  const sal = loadServiceConfig(salesService().settings, environment);
  const { config } = inv;
  const conn: KafkaConnectionOptions = {
    clientId: 'test-system',
    bootstrapServers: config.kafka.bootstrapServers,
  };
  await ensureTopics(conn, [
    ...serviceTopics(inventoryService, inv.settings, config),
    ...serviceTopics(salesService(), sal.settings, config),
  ]);
  // after() hooks run in the order they were added: this one, added before the databases', stops
  // the services before their databases close.
  const stops: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const stop of stops) await stop();
  });
  const inventoryDb = await testDatabase<InventoryDB>(t, 'inventory');
  const salesDb = await testDatabase<SalesDB>(t, 'sales');
  const logger = createLogger('test', config.logLevel);
  // The development issuer unless the environment says otherwise (AUTH_MODE=none, an issuer URL).
  const issuer = await testIssuer();
  const authenticator =
    config.auth.mode === 'dev'
      ? issuer.authenticator
      : await createAuthenticator(config.auth, issuer.dataDir);

  const inventoryMetrics = createMetricsRegistry('inventory-service', false);
  const salesMetrics = createMetricsRegistry('sales-service', false);
  const inventoryProducer = createProducer({ ...conn, clientId: 'test-inventory' });
  const buildInventory = (metrics = inventoryMetrics) =>
    buildService(inventoryService, {
      ...inv,
      database: inventoryDb,
      producer: inventoryProducer,
      consumer: serviceConsumer(inventoryService, inv.settings, config, {
        databaseKind: inventoryDb.kind,
        logger,
        overrides: { maxWaitMs: 100 },
      }),
      logger: logger.child({ service: 'inventory' }),
      authenticator,
      metrics,
    });
  const inventory = buildInventory();
  const salesProducer = createProducer({ ...conn, clientId: 'test-sales' });
  const buildSales = (metrics = salesMetrics) =>
    buildService(salesService(), {
      ...sal,
      database: salesDb,
      producer: salesProducer,
      consumer: serviceConsumer(salesService(), sal.settings, config, {
        databaseKind: salesDb.kind,
        logger,
        overrides: { maxWaitMs: 100 },
      }),
      logger: logger.child({ service: 'sales' }),
      authenticator,
      metrics,
    });
  const sales = buildSales();
  const later: Service<SalesParts>[] = [];
  const laterInventories: Service<InventoryParts>[] = [];
  stops.push(
    () =>
      Promise.allSettled([
        inventory.stop(),
        sales.stop(),
        ...later.map((s) => s.stop()),
        ...laterInventories.map((s) => s.stop()),
      ]),
    () => Promise.allSettled([inventoryProducer.close(), salesProducer.close()]),
  );
  await Promise.all([inventory.start(), sales.start()]);
  const metricsAddress: TestSystem['metricsAddress'] = {};
  for (const [key, port, registry] of [
    ['inventory', inv.settings.metricsPort, inventoryMetrics],
    ['sales', sal.settings.metricsPort, salesMetrics],
  ] as const) {
    if (port === undefined) continue;
    const listener = await listenForMetrics(registry, '127.0.0.1', port);
    stops.push(() => listener.close());
    metricsAddress[key] = listener.address;
  }
  return {
    config,
    conn,
    consumerGroup: sal.config.kafka.consumerGroup,
    inventory,
    sales,
    inventoryDb,
    salesDb,
    metricsAddress,
    headers: (tenant, scopes) => issuer.headers(tenant, scopes),
    anotherSales() {
      const next = buildSales(createMetricsRegistry('sales-service', false));
      later.push(next);
      return next;
    },
    anotherInventory() {
      const next = buildInventory(createMetricsRegistry('inventory-service', false));
      laterInventories.push(next);
      return next;
    },
  };
}

/**
 * Creates a product of `tenant` through Inventory's API and applies each stock change in turn
 * (a sale when negative); the product's id.
 */
export async function productWithChanges(
  system: TestSystem,
  tenant: string,
  body: Record<string, unknown>,
  changes: readonly number[],
): Promise<string> {
  const headers = await system.headers(tenant);
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: body,
  });
  assert.equal(created.statusCode, 201, created.body);
  const id: string = created.json().id;
  for (const change of changes) {
    const adjusted = await system.inventory.http.inject({
      method: 'POST',
      url: `/api/v1/products/${id}/stock-adjustments`,
      headers,
      payload: { quantity_change: change, reason: change < 0 ? 'sale' : 'restock' },
    });
    assert.equal(adjusted.statusCode, 201, adjusted.body);
  }
  return id;
}
