import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  createAuthenticator,
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  headerTenancy,
  loadDevIssuer,
  tenantOf,
} from '../../../src/platform/index.ts';
import type { AccessOptions, Authenticator } from '../../../src/platform/index.ts';

const SCOPES = { read: 'things:read', write: 'things:write' };

async function setup(t: { after(fn: () => unknown): void }, access: Partial<AccessOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'erp-access-'));
  const issuer = await loadDevIssuer(dir);
  const authenticator: Authenticator =
    access.authenticator ??
    (await createAuthenticator(
      {
        mode: 'dev',
        audience: 'erp-events',
        tenantClaim: 'tenant_id',
        clockSkewSeconds: 30,
        openMetrics: false,
      },
      dir,
    ));
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { scopes: SCOPES, ...access, authenticator },
  });
  let handled = 0;
  server.app.get('/api/things', (request) => ({ tenant: tenantOf(request) }));
  server.app.post('/api/things', (request) => {
    handled++;
    return { tenant: tenantOf(request), body: request.body };
  });
  server.app.get('/api/whoami', { config: { access: 'authenticated' } }, (request) => ({
    subject: request.principal?.subject,
  }));
  t.after(() => server.app.close());
  const token = (claims: Record<string, unknown>) =>
    issuer.sign({ sub: 'caller', ...claims }, 'erp-events', 300);
  const auth = async (claims: Record<string, unknown>) => ({
    authorization: `Bearer ${await token(claims)}`,
  });
  return { app: server.app, issuer, auth, handled: () => handled };
}

test('an API route without a token is 401 with a Bearer challenge, and its body is never read', async (t) => {
  const { app, handled } = await setup(t);
  const res = await app.inject({ method: 'POST', url: '/api/things', payload: { a: 1 } });
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().error.code, 'ERP_AUTH_MISSING_TOKEN');
  assert.equal(res.headers['www-authenticate'], 'Bearer realm="erp-events"');
  assert.equal(handled(), 0);
  // An X-Tenant-ID header is no credential.
  const spoofed = await app.inject({ url: '/api/things', headers: { 'x-tenant-id': 'acme' } });
  assert.equal(spoofed.statusCode, 401);

  const bad = await app.inject({ url: '/api/things', headers: { authorization: 'Bearer x.y.z' } });
  assert.equal(bad.statusCode, 401);
  assert.equal(bad.json().error.code, 'ERP_AUTH_INVALID_TOKEN');
  assert.match(
    String(bad.headers['www-authenticate']),
    /^Bearer realm="erp-events", error="invalid_token", error_description="[^"]+"$/,
  );
});

test("the tenant is the token's; reads need the read scope, changes the write scope (403 with the scope named)", async (t) => {
  const { app, auth, handled } = await setup(t);
  const reader = await auth({ tenant_id: 'acme', scope: 'things:read' });
  const read = await app.inject({
    url: '/api/things',
    headers: { ...reader, 'x-tenant-id': 'globex' },
  });
  assert.equal(read.statusCode, 200);
  assert.deepEqual(read.json(), { tenant: 'acme' });

  const write = await app.inject({
    method: 'POST',
    url: '/api/things',
    headers: reader,
    payload: {},
  });
  assert.equal(write.statusCode, 403);
  assert.equal(write.json().error.code, 'ERP_AUTH_INSUFFICIENT_SCOPE');
  assert.equal(write.json().error.required_scope, 'things:write');
  assert.equal(
    write.headers['www-authenticate'],
    'Bearer realm="erp-events", error="insufficient_scope", scope="things:write"',
  );
  assert.equal(handled(), 0);

  const writer = await auth({ tenant_id: 'acme', scope: 'things:write' });
  const ok = await app.inject({
    method: 'POST',
    url: '/api/things',
    headers: writer,
    payload: { n: 1 },
  });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { tenant: 'acme', body: { n: 1 } });
  // A write scope alone does not read.
  assert.equal((await app.inject({ url: '/api/things', headers: writer })).statusCode, 403);
});

test('a token of no tenant reaches no tenant data (403 ERP_AUTH_NO_TENANT), but routes that need none', async (t) => {
  const { app, auth } = await setup(t);
  const operator = await auth({ scope: 'things:read ops' });
  const res = await app.inject({ url: '/api/things', headers: operator });
  assert.equal(res.statusCode, 403);
  assert.equal(res.json().error.code, 'ERP_AUTH_NO_TENANT');
  const who = await app.inject({ url: '/api/whoami', headers: operator });
  assert.deepEqual(who.json(), { subject: 'caller' });
});

test('health and readiness are open; /metrics needs ops unless opened; unknown routes need a token', async (t) => {
  const { app, auth } = await setup(t);
  for (const url of ['/healthz', '/readyz'])
    assert.equal((await app.inject({ url })).statusCode, 200);
  assert.equal((await app.inject({ url: '/metrics' })).statusCode, 401);
  const tenantOnly = await auth({ tenant_id: 'acme', scope: 'things:read things:write' });
  const refused = await app.inject({ url: '/metrics', headers: tenantOnly });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json().error.required_scope, 'ops');
  const scraped = await app.inject({ url: '/metrics', headers: await auth({ scope: 'ops' }) });
  assert.equal(scraped.statusCode, 200);
  assert.match(String(scraped.headers['content-type']), /^text\/plain/);

  assert.equal((await app.inject({ url: '/api/nothing-here' })).statusCode, 401);
  const missing = await app.inject({ url: '/api/nothing-here', headers: tenantOnly });
  assert.equal(missing.statusCode, 404);

  const open = await setup(t, { openMetrics: true });
  assert.equal((await open.app.inject({ url: '/metrics' })).statusCode, 200);
});

test('the development issuer serves its public key: a token verifies with what /.well-known/jwks.json says', async (t) => {
  const { app, issuer } = await setup(t);
  const res = await app.inject({ url: '/.well-known/jwks.json' });
  assert.equal(res.statusCode, 200);
  const jwks = res.json();
  assert.equal(JSON.stringify(jwks).includes('"d"'), false, 'no private key');
  const token = await issuer.sign({ tenant_id: 'acme' }, 'erp-events', 60);
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks));
  assert.equal(payload['tenant_id'], 'acme');
});

test('AUTH_MODE=none: the tenant of X-Tenant-ID, every scope, no JWKS; without the header a tenant route is 400', async (t) => {
  const { app } = await setup(t, { authenticator: headerTenancy() });
  const res = await app.inject({
    method: 'POST',
    url: '/api/things',
    headers: { 'x-tenant-id': 'acme' },
    payload: {},
  });
  assert.deepEqual(res.json(), { tenant: 'acme', body: {} });
  const none = await app.inject({ url: '/api/things' });
  assert.equal(none.statusCode, 400);
  assert.equal(none.json().error.code, 'ERP_HTTP_MISSING_TENANT');
  assert.equal((await app.inject({ url: '/metrics' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/.well-known/jwks.json' })).statusCode, 404);
});

test('rate limit per tenant, after authentication: 429 with Retry-After for one tenant, the others unaffected', async (t) => {
  const { app, auth } = await setup(t, { rateLimit: { max: 3, windowMs: 60_000 } });
  const a = await auth({ tenant_id: 'acme', scope: 'things:read' });
  const b = await auth({ tenant_id: 'globex', scope: 'things:read' });
  // Callers without a valid token are refused first and use nobody's quota.
  for (let i = 0; i < 5; i++) {
    const anonymous = await app.inject({ url: '/api/things', headers: { 'x-tenant-id': 'acme' } });
    assert.equal(anonymous.statusCode, 401);
  }
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++)
    statuses.push((await app.inject({ url: '/api/things', headers: a })).statusCode);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const limited = await app.inject({ url: '/api/things', headers: a });
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().error.code, 'ERP_HTTP_RATE_LIMITED');
  assert.equal(limited.json().error.retryable, true);
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`);
  assert.equal(
    (await app.inject({ url: '/api/things', headers: b })).statusCode,
    200,
    'B unaffected',
  );
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'health is never limited');

  const unlimited = await setup(t, { rateLimit: { max: 0, windowMs: 60_000 } });
  const c = await unlimited.auth({ tenant_id: 'acme', scope: 'things:read' });
  for (let i = 0; i < 10; i++) {
    assert.equal((await unlimited.app.inject({ url: '/api/things', headers: c })).statusCode, 200);
  }
});
