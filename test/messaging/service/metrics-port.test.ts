/**
 * A metrics port (INVENTORY_METRICS_PORT, SALES_METRICS_PORT) serves GET /metrics without a token,
 * for a Prometheus on a private interface, and nothing else; the service's own port still asks
 * for the `ops` scope.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventoryService } from '../../../src/inventory/index.ts';
import type { InventoryDB } from '../../../src/inventory/index.ts';
import { startService } from '../../../src/messaging/index.ts';
import { loadServiceConfig } from '../../../src/platform/index.ts';
import { testIssuer } from '../../support/auth.ts';
import { testDatabase } from '../../support/database.ts';
import { testBootstrap, uniqueName } from '../../support/kafka.ts';

test('INVENTORY_METRICS_PORT: /metrics without a token there, nothing else; the API port still needs ops', async (t) => {
  const issuer = await testIssuer();
  const { config, settings } = loadServiceConfig(inventoryService.settings, {
    KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
    KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
    INVENTORY_METRICS_PORT: '0',
    DATA_DIR: issuer.dataDir,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const service = await startService(inventoryService, config, settings, {
    database,
    listen: { host: '127.0.0.1', port: 0 },
  });
  t.after(() => service.stop());
  assert.ok(service.metricsAddress !== undefined, 'a metrics address');
  assert.notEqual(service.metricsAddress, service.address);

  const open = await fetch(`${service.metricsAddress}/metrics`);
  assert.equal(open.status, 200);
  assert.match(await open.text(), /erp_outbox_/);
  for (const path of ['/api/v1/products', '/healthz', '/metrics/../api/v1/products']) {
    const other = await fetch(`${service.metricsAddress}${path}`);
    assert.equal(other.status, 404, path);
    assert.equal(
      ((await other.json()) as { error: { code: string } }).error.code,
      'ERP_HTTP_NOT_FOUND',
    );
  }
  assert.equal((await fetch(`${service.address}/metrics`)).status, 401);

  await service.stop();
  await assert.rejects(fetch(`${service.metricsAddress}/metrics`), 'closed with the service');
});
