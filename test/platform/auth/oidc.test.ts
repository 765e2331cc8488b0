/**
 * OIDC discovery and key handling against an issuer served by this test over real HTTP (the
 * Keycloak test, test/e2e/keycloak.test.ts, proves the same with a real identity provider; here
 * the issuer's keys can be rotated and the issuer stopped at will).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWK, CryptoKey } from 'jose';
import { createAuthenticator } from '../../../src/platform/index.ts';

interface Issuer {
  url: string;
  fetches: { discovery: number; jwks: number };
  /** Replaces the served keys by a new one (the old one is no longer published). */
  rotate(): Promise<void>;
  sign(claims: Record<string, unknown>): Promise<string>;
  /** While false, every request is answered 503. */
  up: boolean;
  /** The `issuer` the discovery document names (default: the URL). */
  named?: string;
  close(): Promise<void>;
}

async function startIssuer(): Promise<Issuer> {
  let key: { kid: string; privateKey: CryptoKey; jwk: JWK };
  let generation = 0;
  const newKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = `key-${++generation}`;
    key = {
      kid,
      privateKey,
      jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    };
  };
  await newKey();
  const fetches = { discovery: 0, jwks: 0 };
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!issuer.up) return send(503, { error: 'down' });
    if (req.url === '/realms/erp/.well-known/openid-configuration') {
      fetches.discovery++;
      return send(200, {
        issuer: issuer.named ?? issuer.url,
        jwks_uri: `${issuer.url}/protocol/openid-connect/certs`,
      });
    }
    if (req.url === '/realms/erp/protocol/openid-connect/certs') {
      fetches.jwks++;
      return send(200, { keys: [key.jwk] });
    }
    send(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer: Issuer = {
    url: `http://127.0.0.1:${port}/realms/erp`,
    fetches,
    up: true,
    rotate: newKey,
    sign: (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(issuer.url)
        .setAudience('erp-events')
        .setExpirationTime('5m')
        .sign(key.privateKey),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return issuer;
}

const settings = (issuerUrl: string) => ({
  mode: 'oidc' as const,
  issuerUrl,
  audience: 'erp-events',
  tenantClaim: 'tenant_id',
  clockSkewSeconds: 30,
  openMetrics: false,
  // jose refetches for an unknown key at most every 30 s by default: a test cannot wait that long.
  keysCooldownMs: 0,
});

test('keys are found by discovery, cached, and fetched again when a token names a new key', async (t) => {
  const issuer = await startIssuer();
  t.after(() => issuer.close());
  const auth = await createAuthenticator(settings(issuer.url), '/nonexistent');
  assert.match(await auth.check(), /discovered, keys at .*\/certs/);
  const bearer = async (claims: Record<string, unknown>) => ({
    authorization: `Bearer ${await issuer.sign(claims)}`,
  });
  for (let i = 0; i < 5; i++) {
    const p = await auth.authenticate(await bearer({ tenant_id: 'acme', scope: 'sales:read' }));
    assert.equal(p.tenantId, 'acme');
  }
  assert.deepEqual(issuer.fetches, { discovery: 1, jwks: 1 }, 'one discovery, one key fetch');

  await issuer.rotate();
  const rotated = await auth.authenticate(await bearer({ tenant_id: 'acme' }));
  assert.equal(rotated.tenantId, 'acme');
  assert.equal(issuer.fetches.jwks, 2, 'the unknown kid made one more fetch');
  // A key the issuer never had is refused, after one fetch more at most.
  const forged = await new SignJWT({ tenant_id: 'acme' })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer(issuer.url)
    .setAudience('erp-events')
    .setExpirationTime('5m')
    .sign((await generateKeyPair('RS256')).privateKey);
  await assert.rejects(auth.authenticate({ authorization: `Bearer ${forged}` }), {
    code: 'ERP_AUTH_INVALID_TOKEN',
  });
});

test('an issuer that is down answers 503 ERP_AUTH_UNAVAILABLE, and works once it is back', async (t) => {
  const issuer = await startIssuer();
  t.after(() => issuer.close());
  issuer.up = false;
  const auth = await createAuthenticator(settings(issuer.url), '/nonexistent');
  const token = { authorization: `Bearer ${await issuer.sign({ tenant_id: 'acme' })}` };
  await assert.rejects(auth.check(), { code: 'ERP_AUTH_UNAVAILABLE' });
  await assert.rejects(auth.authenticate(token), { code: 'ERP_AUTH_UNAVAILABLE', outage: true });
  issuer.up = true;
  assert.equal((await auth.authenticate(token)).tenantId, 'acme');
});

test('a discovery document naming another issuer is refused: no token of it passes', async (t) => {
  const issuer = await startIssuer();
  t.after(() => issuer.close());
  issuer.named = 'https://evil.example/realms/erp';
  const auth = await createAuthenticator(settings(issuer.url), '/nonexistent');
  const token = { authorization: `Bearer ${await issuer.sign({ tenant_id: 'acme' })}` };
  await assert.rejects(auth.check(), (err: Error & { code?: string; cause?: Error }) => {
    assert.equal(err.code, 'ERP_AUTH_UNAVAILABLE');
    assert.match(String(err.cause?.message), /names issuer https:\/\/evil\.example/);
    return true;
  });
  await assert.rejects(auth.authenticate(token), { code: 'ERP_AUTH_UNAVAILABLE' });
});
