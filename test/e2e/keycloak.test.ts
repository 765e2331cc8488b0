/**
 * Both services behind a real identity provider: Keycloak (scripts/keycloak.ts, started once per
 * test run and shared), tokens by client credentials for two tenants, a read-only client and an
 * operator. The services find Keycloak's keys by OIDC discovery from AUTH_ISSUER_URL alone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureKeycloak } from '../../scripts/keycloak.ts';
import type { KeycloakInfo } from '../../scripts/keycloak.ts';
import { testIssuer } from '../support/auth.ts';
import { keycloakHeaders } from '../support/keycloak.ts';
import type { RealmClientName } from '../support/keycloak.ts';
import { waitUntil } from '../support/kafka.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';
import { laptopBody } from '../inventory/fixtures.ts';

let keycloak: KeycloakInfo;
let system: TestSystem;
const cleanups: Array<() => unknown> = [];

before(async () => {
  keycloak = await ensureKeycloak();
  system = await startSystem(
    { after: (fn) => cleanups.push(fn) },
    { AUTH_ISSUER_URL: keycloak.issuerUrl },
  );
});
after(async () => {
  for (const fn of cleanups) await fn();
});

/** `Authorization` of a realm client, by client credentials at Keycloak's token endpoint. */
const as = (client: RealmClientName) => keycloakHeaders(keycloak, client);

const product = { ...laptopBody, sku: 'KC-001' };

test('Keycloak tokens drive both services: tenant A low stock becomes tenant A alert, and only theirs', async () => {
  const inventory = system.inventory.http;
  const sales = system.sales.http;
  const created = await inventory.inject({
    method: 'POST',
    url: '/api/v1/products',
    // A header naming another tenant changes nothing: the tenant is the token's.
    headers: { ...(await as('tenantA')), 'x-tenant-id': 'tenant-b' },
    payload: product,
  });
  assert.equal(created.statusCode, 201, created.body);
  const id: string = created.json().id;
  const adjusted = await inventory.inject({
    method: 'POST',
    url: `/api/v1/products/${id}/stock-adjustments`,
    headers: await as('tenantA'),
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201, adjusted.body);

  const alertsOf = async (client: 'tenantA' | 'tenantB') => {
    const res = await sales.inject({ url: '/api/v1/alerts', headers: await as(client) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ items: Array<{ product_id: string }> }>().items;
  };
  await waitUntil('tenant A alert', async () => (await alertsOf('tenantA')).length > 0, 60_000);
  assert.equal((await alertsOf('tenantA'))[0]?.product_id, id);
  assert.deepEqual(await alertsOf('tenantB'), [], 'tenant B sees no alert of A');

  // Tenant B cannot read or change A's product: 404, as for a product that does not exist.
  const read = await inventory.inject({
    url: `/api/v1/products/${id}`,
    headers: await as('tenantB'),
  });
  assert.equal(read.statusCode, 404);
  const write = await inventory.inject({
    method: 'POST',
    url: `/api/v1/products/${id}/stock-adjustments`,
    headers: await as('tenantB'),
    payload: { quantity_change: -1, reason: 'sale' },
  });
  assert.equal(write.statusCode, 404);
  const mine = await inventory.inject({
    url: `/api/v1/products/${id}`,
    headers: await as('tenantA'),
  });
  assert.equal(mine.json().quantity_on_hand, 8, 'B changed nothing');
});

test('scopes and tokens as Keycloak issues them: read-only, operator, none, and another issuer', async () => {
  const inventory = system.inventory.http;
  const reader = await as('tenantAReader');
  assert.equal(
    (await inventory.inject({ url: '/api/v1/products', headers: reader })).statusCode,
    200,
  );
  const refused = await inventory.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: reader,
    payload: { ...product, sku: 'KC-002' },
  });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json().error.code, 'ERP_AUTH_INSUFFICIENT_SCOPE');
  assert.equal(refused.json().error.required_scope, 'inventory:write');

  for (const app of [inventory, system.sales.http]) {
    const metrics = await app.inject({ url: '/metrics', headers: await as('ops') });
    assert.equal(metrics.statusCode, 200);
    assert.equal((await app.inject({ url: '/metrics', headers: reader })).statusCode, 403);
  }
  const opsOnApi = await inventory.inject({ url: '/api/v1/products', headers: await as('ops') });
  assert.equal(opsOnApi.statusCode, 403);

  const none = await inventory.inject({ url: '/api/v1/products' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="erp-events"');
  // A token of the development issuer is not Keycloak's.
  const dev = await inventory.inject({
    url: '/api/v1/products',
    headers: await (await testIssuer()).headers('tenant-a'),
  });
  assert.equal(dev.statusCode, 401);
  assert.equal(dev.json().error.code, 'ERP_AUTH_INVALID_TOKEN');
});
