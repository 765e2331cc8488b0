/**
 * The console with AUTH_MODE=oidc against the real Keycloak (scripts/keycloak.ts, started once
 * per test run and shared; left running), as is the real system behind it: both services verify
 * Keycloak's tokens and open /metrics (AUTH_OPEN_METRICS=true, which the console's background
 * poll needs). An operator signs in with a Keycloak token: refused without `ops`, from another
 * issuer, expired or garbage; with it, the overview, topics, alerts and orders answer with what
 * the services hold, alerts and orders read with the operator's own token (forwarded from the
 * session cookie), which decides the tenant. Last, the same in a headless Chromium: the sign-in
 * form takes the Keycloak token, and the Orders page shows the token's tenant's orders.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { ensureKeycloak } from '../../scripts/keycloak.ts';
import type { KeycloakInfo } from '../../scripts/keycloak.ts';
import { buildConsole, consoleSettings } from '../../src/console/index.ts';
import type { Console, Overview } from '../../src/console/index.ts';
import { createAuthenticator, createLogger, loadServiceConfig } from '../../src/platform/index.ts';
import { testIssuer } from '../support/auth.ts';
import { keycloakHeaders, keycloakToken, newKeycloakToken } from '../support/keycloak.ts';
import type { RealmClientName } from '../support/keycloak.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';
import { launchBrowser, watchedPage } from '../support/browser.ts';
import { laptopBody } from '../inventory/fixtures.ts';

const TENANT = 'tenant-a'; // the realm's tenant-a-* clients carry it
let keycloak: KeycloakInfo;
let system: TestSystem;
let console_: Console;
let base: string;
const cleanups: Array<() => unknown> = [];

before(async () => {
  keycloak = await ensureKeycloak();
  system = await startSystem(
    { after: (fn) => cleanups.push(fn) },
    { AUTH_ISSUER_URL: keycloak.issuerUrl, AUTH_OPEN_METRICS: 'true' },
  );
  const inventoryUrl = await system.inventory.http.listen({ host: '127.0.0.1', port: 0 });
  const salesUrl = await system.sales.http.listen({ host: '127.0.0.1', port: 0 });
  const { config, settings } = loadServiceConfig(consoleSettings, {
    KAFKA_BOOTSTRAP_SERVERS: system.config.kafka.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: system.config.kafka.inventoryTopic,
    KAFKA_SALES_TOPIC: system.config.kafka.salesTopic,
    KAFKA_CONSUMER_GROUP: system.consumerGroup,
    AUTH_MODE: 'oidc',
    AUTH_ISSUER_URL: keycloak.issuerUrl,
    // No leeway: the short-lived client's token is refused as soon as Keycloak says it expires.
    AUTH_CLOCK_SKEW_SECONDS: '0',
    // Not read in oidc mode (no development issuer): an empty folder proves it.
    DATA_DIR: await mkdtemp(join(tmpdir(), 'erp-console-oidc-')),
    CONSOLE_INVENTORY_URL: inventoryUrl,
    CONSOLE_SALES_URL: salesUrl,
    CONSOLE_POLL_MS: '500',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  console_ = await buildConsole({
    config,
    settings,
    authenticator: await createAuthenticator(config.auth, config.dataDir),
    logger: createLogger('console', config.logLevel),
  });
  await console_.start();
  base = await console_.http.listen({ host: '127.0.0.1', port: 0 });
  cleanups.unshift(() => console_.stop());
});
after(async () => {
  for (const fn of cleanups) await fn();
});

/** The console's JSON answers, as far as these tests read them. */
interface Answer {
  error: { code: string; required_scope?: string };
  items: Array<{ id?: string; product_id?: string }>;
  authenticated: boolean;
  authMode: string;
  tenants: string[];
}

/** The console's answer to `path`, with `headers` (a cookie, a bearer header). */
async function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Answer; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers });
  const text = await res.text();
  return {
    status: res.status,
    body: JSON.parse(text) as Answer,
    headers: res.headers,
  };
}

/** POST /session with `token`; the cookie it set, if any. */
async function signIn(token: string): Promise<{ status: number; body: Answer; cookie?: string }> {
  const res = await fetch(`${base}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const setCookie = res.headers.get('set-cookie');
  return {
    status: res.status,
    body: (await res.json()) as Answer,
    ...(setCookie === null ? {} : { cookie: setCookie }),
  };
}

/** A session cookie of `client`, as a browser sends it back. */
async function session(client: RealmClientName): Promise<{ cookie: string }> {
  const signed = await signIn(await keycloakToken(keycloak, client));
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  assert.ok(signed.cookie !== undefined, 'POST /session sets a cookie');
  return { cookie: signed.cookie.split(';')[0]! };
}

const as = (client: RealmClientName) => keycloakHeaders(keycloak, client);

test('the console refuses without a session, without ops, and tokens that are not Keycloak’s or no longer valid', async () => {
  const none = await get('/api/console/overview');
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, 'ERP_AUTH_MISSING_TOKEN');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="erp-events"');
  assert.deepEqual((await get('/session')).body, { authenticated: false, mode: 'oidc' });

  // A Keycloak token of a tenant's application: valid, but not an operator's.
  const app = await signIn(await keycloakToken(keycloak, 'tenantA'));
  assert.equal(app.status, 403);
  assert.equal(app.body.error.code, 'ERP_AUTH_INSUFFICIENT_SCOPE');
  assert.equal(app.body.error.required_scope, 'ops');
  assert.equal(app.cookie, undefined, 'no session for a token without ops');
  const bearer = await get('/api/console/topics', await as('tenantA'));
  assert.equal(bearer.status, 403);
  assert.equal(bearer.body.error.code, 'ERP_AUTH_INSUFFICIENT_SCOPE');

  // An ops token of another issuer (the development one) is not Keycloak's.
  const dev = await signIn(await (await testIssuer()).token(undefined, ['ops']));
  assert.equal(dev.status, 401);
  assert.equal(dev.body.error.code, 'ERP_AUTH_INVALID_TOKEN');
  // Garbage, in the body or in a cookie.
  assert.equal((await signIn('not-a-token')).body.error.code, 'ERP_AUTH_INVALID_TOKEN');
  const forged = await get('/api/console/overview', { cookie: 'erp_console_token=a.b.c' });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.error.code, 'ERP_AUTH_INVALID_TOKEN');

  // A real Keycloak ops token that expires (its client's tokens live 2 s): the session it made
  // ends with it, and it cannot make another.
  const shortLived = await newKeycloakToken(keycloak, 'opsShortLived');
  const signed = await signIn(shortLived);
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  const cookie = signed.cookie!.split(';')[0]!;
  assert.equal((await get('/api/console/config', { cookie })).status, 200);
  const expiresAt = decodeJwt(shortLived).exp! * 1000;
  await sleep(Math.max(0, expiresAt - Date.now()) + 1100);
  const expired = await get('/api/console/config', { cookie });
  assert.equal(expired.status, 401);
  assert.equal(expired.body.error.code, 'ERP_AUTH_TOKEN_EXPIRED');
  assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.equal((await signIn(shortLived)).body.error.code, 'ERP_AUTH_TOKEN_EXPIRED');
});

test('with a Keycloak operator token the console shows the services’ data: overview, topics, alerts and orders of the token’s tenant', async () => {
  const operator = await session('tenantAOperator');
  assert.equal((await get('/session', operator)).body.authenticated, true);
  const config = await get('/api/console/config', operator);
  assert.equal(config.body.authMode, 'oidc');
  assert.deepEqual(config.body.tenants, [TENANT], 'the picker offers the token’s tenant');

  // Data made through the services' APIs with a Keycloak token of tenant A.
  const headers = await as('tenantA');
  const sku = uniqueName('KC-CONSOLE');
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: { ...laptopBody, sku, quantity_on_hand: 100, reorder_level: 10 },
  });
  assert.equal(created.statusCode, 201, created.body);
  const productId: string = created.json().id;
  const adjusted = await system.inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${productId}/stock-adjustments`,
    headers,
    payload: { quantity_change: -95, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201, adjusted.body);

  // Alerts through the console: Sales read with the operator's forwarded token.
  await waitUntil(
    'the console lists the low-stock alert',
    async () => {
      const alerts = await get(`/api/console/alerts?tenant=${TENANT}`, operator);
      assert.equal(alerts.status, 200, JSON.stringify(alerts.body));
      return alerts.body.items.some((a) => a.product_id === productId);
    },
    60_000,
  );
  const ordered = await system.sales.http.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers,
    payload: { customer: 'ACME', lines: [{ product_id: productId, quantity: 1 }] },
  });
  assert.equal(ordered.statusCode, 201, ordered.body);
  const orders = await get(`/api/console/orders?tenant=${TENANT}`, operator);
  assert.equal(orders.status, 200, JSON.stringify(orders.body));
  assert.ok(
    orders.body.items.some((o) => o.id === ordered.json<{ id: string }>().id),
    'the order placed with the tenant’s token',
  );

  // The overview: both services up, their metrics read without a token (AUTH_OPEN_METRICS).
  let overview: Overview | undefined;
  await waitUntil(
    'the overview counts the events published and consumed, and the open alert',
    async () => {
      const res = await get('/api/console/overview', operator);
      assert.equal(res.status, 200);
      overview = res.body as unknown as Overview;
      const by = (name: string) => overview!.services.find((s) => s.name === name);
      return (
        (by('inventory')?.publishedTotal ?? 0) >= 2 &&
        (by('sales')?.consumedTotal ?? 0) >= 2 &&
        // Sales' open-alerts gauges (its query is cached SALES_ALERT_METRICS_CACHE_MS).
        overview.alerts.some((a) => a.open > 0)
      );
    },
    30_000,
  );
  for (const s of overview!.services) {
    assert.equal(s.up, true, s.name);
    assert.equal(s.ready, true, s.name);
    assert.equal(s.metricsError, undefined, s.name);
  }

  const topics = await get('/api/console/topics', operator);
  assert.equal(topics.status, 200);
  assert.ok(
    JSON.stringify(topics.body).includes(system.config.kafka.inventoryTopic),
    'the system’s inventory topic',
  );
});

test('alerts and orders need a token that may read the tenant asked for', async () => {
  // An operator with ops alone (no tenant, no sales:read): the overview, not a tenant's orders.
  const opsOnly = await session('ops');
  assert.equal((await get('/api/console/overview', opsOnly)).status, 200);
  const noRead = await get(`/api/console/orders?tenant=${TENANT}`, opsOnly);
  assert.equal(noRead.status, 403, JSON.stringify(noRead.body));
  assert.equal(noRead.body.error.code, 'ERP_AUTH_INSUFFICIENT_SCOPE');
  assert.equal(noRead.body.error.required_scope, 'sales:read');

  // Tenant A's operator asking for tenant B: refused, never A's data shown as B's.
  const operator = await session('tenantAOperator');
  for (const path of [
    '/api/console/orders?tenant=tenant-b',
    '/api/console/alerts?tenant=tenant-b',
  ]) {
    const other = await get(path, operator);
    assert.equal(other.status, 403, `${path}: ${JSON.stringify(other.body)}`);
    assert.equal(other.body.error.code, 'ERP_CONSOLE_OTHER_TENANT');
  }
});

test('in a browser: sign in with the Keycloak token, see the overview and the token’s tenant’s orders', async () => {
  const browser = await launchBrowser();
  try {
    const watched = await watchedPage(browser);
    const { page } = watched;
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Token').fill(await keycloakToken(keycloak, 'tenantAOperator'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await waitUntil(
      'the overview shows Inventory’s published events',
      async () =>
        Number(await page.locator('[data-metric="inventory-published"]').innerText()) >= 1,
    );
    // The picker offers the token's tenant, and its orders load through the forwarded cookie.
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByRole('heading', { name: 'Orders' }).waitFor();
    assert.equal(await page.getByLabel('Tenant').inputValue(), TENANT);
    await page.getByText(new RegExp(`^[1-9]\\d* order\\(s\\) of ${TENANT}$`)).waitFor();
    assert.deepEqual(watched.problems(), []);
  } finally {
    await browser.close();
  }
});
