/**
 * The system against the secure local broker (SASL_SSL, SCRAM-SHA-512, StandardAuthorizer with
 * the ACLs of scripts/lib/kafka-secure.ts), each service started as production starts it
 * (startService) with its own principal's KAFKA_* variables. The broker is a second JVM beside
 * the plaintext one, started once for all test processes. Topic and group names are the real
 * ones (the ACLs name them); every test uses its own tenant.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeCa } from '../../../scripts/lib/kafka-secure.ts';
import type { Principal } from '../../../scripts/lib/kafka-secure.ts';
import { runCli } from '../../../src/cli/main.ts';
import { inventoryService } from '../../../src/inventory/index.ts';
import type { InventoryDB, InventoryParts } from '../../../src/inventory/index.ts';
import { createProducer, kafkaConnectionFrom, startService } from '../../../src/messaging/index.ts';
import type { StartedService } from '../../../src/messaging/index.ts';
import { loadServiceConfig } from '../../../src/platform/index.ts';
import { salesService } from '../../../src/sales/index.ts';
import type { SalesDB, SalesParts } from '../../../src/sales/index.ts';
import { testDatabase } from '../../support/database.ts';
import { secureTestKafka, uniqueName, waitUntil } from '../../support/kafka.ts';
import type { SecureKafka } from '../../../scripts/kafka.ts';
import { laptopBody } from '../../inventory/fixtures.ts';

let broker: SecureKafka;
let inventory: StartedService<InventoryParts>;
let sales: StartedService<SalesParts>;
const cleanups: Array<() => unknown> = [];
const hooks = { after: (fn: () => unknown) => void cleanups.push(fn) };

/** The environment of a service run as `principal` (HTTP tenancy by header, as in the other e2e tests). */
const envOf = (principal: Principal, extra: Record<string, string> = {}) => ({
  ...broker.env[principal],
  OUTBOX_POLL_INTERVAL_MS: '250',
  // A Sales left over from an interrupted run leaves the group within 10 s, not the default 45.
  KAFKA_SESSION_TIMEOUT_MS: '10000',
  AUTH_MODE: 'none',
  LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  ...extra,
});

const listen = { host: '127.0.0.1', port: 0 };

before(async () => {
  broker = await secureTestKafka();
  const inv = loadServiceConfig(inventoryService.settings, envOf('inventory'));
  const sal = loadServiceConfig(salesService().settings, envOf('sales'));
  const inventoryDb = await testDatabase<InventoryDB>(hooks, null);
  const salesDb = await testDatabase<SalesDB>(hooks, null);
  // Neither principal may create topics: starting proves that existing topics need no CREATE.
  inventory = await startService(inventoryService, inv.config, inv.settings, {
    database: inventoryDb,
    listen,
  });
  sales = await startService(salesService(), sal.config, sal.settings, {
    database: salesDb,
    listen,
  });
  // Unshift: services stop before their databases close.
  cleanups.unshift(
    () => inventory.stop(),
    () => sales.stop(),
  );
});

after(async () => {
  for (const fn of cleanups) await fn();
});

async function openAlerts(tenant: string): Promise<Array<Record<string, unknown>>> {
  const res = await sales.http.inject({
    url: '/api/v1/alerts?status=open',
    headers: { 'x-tenant-id': tenant },
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json<unknown[] | { items: unknown[] }>();
  return (Array.isArray(body) ? body : body.items) as Array<Record<string, unknown>>;
}

test('the low-stock flow runs end to end with Inventory and Sales as their own principals', async (t) => {
  const tenant = uniqueName('tenant');
  const created = await inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: { 'x-tenant-id': tenant },
    payload: laptopBody,
  });
  assert.equal(created.statusCode, 201, created.body);
  const productId: string = created.json().id;
  const adjusted = await inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${productId}/stock-adjustments`,
    headers: { 'x-tenant-id': tenant },
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201, adjusted.body);
  const started = performance.now();
  await waitUntil(
    'an open alert in Sales',
    async () => (await openAlerts(tenant)).length > 0,
    60_000,
  );
  t.diagnostic(`adjustment → alert over SASL_SSL: ${(performance.now() - started).toFixed(0)} ms`);
  const alerts = await openAlerts(tenant);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.['product_id'], productId);
  assert.equal(alerts[0]?.['priority'], 'high');
});

test('only Inventory may write inventory-events: Sales and ops get ERP_KAFKA_AUTHORIZATION', async (t) => {
  // Sales may write other topics, so its idempotent producer gets an id and the write itself is
  // refused; ops may write nothing, so it is refused the producer id already.
  const refusals = { sales: /TOPIC_AUTHORIZATION_FAILED/, ops: /CLUSTER_AUTHORIZATION_FAILED/ };
  for (const principal of ['sales', 'ops'] as const) {
    const { config } = loadServiceConfig(salesService().settings, envOf(principal));
    const producer = createProducer(kafkaConnectionFrom(config.kafka, `forger-${principal}`));
    t.after(() => producer.close());
    const lowStock = { topic: 'inventory-events', key: 'P-1', value: Buffer.from('{}') };
    await assert.rejects(producer.send([lowStock]), {
      code: 'ERP_KAFKA_AUTHORIZATION',
      retryable: false,
      message: refusals[principal],
    });
  }
});

/** Starts Inventory with `env` and expects it to fail with `code` within 20 s, not hang. */
async function assertStartFails(env: Record<string, string>, code: string): Promise<void> {
  const { config, settings } = loadServiceConfig(inventoryService.settings, env);
  const database = await testDatabase<InventoryDB>(hooks, null);
  const started = Date.now();
  await assert.rejects(
    startService(inventoryService, config, settings, { database, listen }),
    (err: { code?: string; message?: string }) => {
      assert.equal(err.code, code, err.message);
      return true;
    },
  );
  assert.ok(Date.now() - started < 20_000, `failed after ${Date.now() - started} ms`);
}

test('a wrong password fails the start with ERP_KAFKA_AUTHENTICATION within 20 s', async () => {
  await assertStartFails(
    envOf('inventory', { KAFKA_SASL_PASSWORD: 'not-the-password' }),
    'ERP_KAFKA_AUTHENTICATION',
  );
});

test('a principal without an ACL for the topic fails the start with ERP_KAFKA_AUTHORIZATION', async () => {
  // ops may read the dead letters only; Inventory's topic it may not even describe.
  await assertStartFails(envOf('ops'), 'ERP_KAFKA_AUTHORIZATION');
});

test('a client that trusts another CA is refused with ERP_KAFKA_TLS within 20 s', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'erp-other-ca-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await makeCa(join(dir, 'ca.key'), join(dir, 'ca.pem'), 'some other CA', 1);
  await assertStartFails(
    envOf('inventory', { KAFKA_SSL_CA_FILE: join(dir, 'ca.pem') }),
    'ERP_KAFKA_TLS',
  );
});

test('the DLQ CLI reads dead letters as ops with the KAFKA_* variables; redriving needs more', async () => {
  // Only Inventory can put a record on inventory-events; a major version Sales does not know is
  // dead-lettered by Sales (its ACL lets it write inventory-events.dlq).
  const tenant = uniqueName('tenant');
  const { config } = loadServiceConfig(inventoryService.settings, envOf('inventory'));
  const producer = createProducer(kafkaConnectionFrom(config.kafka, 'dlq-test'));
  cleanups.push(() => producer.close());
  const event = {
    metadata: {
      event_id: randomUUID(),
      event_type: 'inventory.product_created',
      event_version: '2.0',
      timestamp: new Date().toISOString(),
      source_service: 'inventory-service',
      tenant_id: tenant,
      correlation_id: randomUUID(),
    },
    payload: {},
  };
  await producer.send([
    { topic: 'inventory-events', key: 'P-9', value: Buffer.from(JSON.stringify(event)) },
  ]);

  const cli = async (args: string[], principal: Principal) => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runCli(
      args,
      { out: (l) => void out.push(l), err: (l) => void err.push(l) },
      broker.env[principal],
    );
    return { status, out, err };
  };
  let listed: Awaited<ReturnType<typeof cli>> | undefined;
  await waitUntil(
    'the dead letter listed by the CLI as ops',
    async () => {
      listed = await cli(['dlq', 'list', '--tenant', tenant, '--json'], 'ops');
      assert.equal(listed.status, 0, listed.err.join('\n'));
      return listed.out.length === 1;
    },
    60_000,
  );
  assert.equal(JSON.parse(listed!.out[0]!).code, 'ERP_EVT_UNSUPPORTED_VERSION');

  const redrive = await cli(['dlq', 'redrive', '--tenant', tenant], 'ops');
  assert.equal(redrive.status, 1);
  assert.match(redrive.err.join('\n'), /^error ERP_KAFKA_AUTHORIZATION: /m);
});

test('each user has its KAFKA_* variables in a 0600 file, git-ignored, with its own random password', async () => {
  const passwords = new Set<string>();
  for (const [principal, file] of Object.entries(broker.envFiles)) {
    assert.equal((await stat(file)).mode & 0o777, 0o600, file);
    const vars = Object.fromEntries(
      (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    assert.deepEqual(vars, broker.env[principal as Principal]);
    assert.equal(vars['KAFKA_SECURITY_PROTOCOL'], 'SASL_SSL');
    assert.equal(vars['KAFKA_SASL_MECHANISM'], 'SCRAM-SHA-512');
    assert.match(vars['KAFKA_SASL_PASSWORD']!, /^[\w-]{32}$/);
    passwords.add(vars['KAFKA_SASL_PASSWORD']!);
    const ignored = spawnSync('git', ['check-ignore', '-q', file], { cwd: dirname(file) });
    assert.equal(ignored.status, 0, `${file} is not git-ignored`);
  }
  assert.equal(passwords.size, Object.keys(broker.envFiles).length);
});
