import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { createAuthenticator, loadDevIssuer } from '../../../src/platform/index.ts';
import type { AuthSettings } from '../../../src/platform/index.ts';

const SETTINGS: AuthSettings = {
  mode: 'dev',
  audience: 'erp-events',
  tenantClaim: 'tenant_id',
  clockSkewSeconds: 30,
  openMetrics: false,
};

const tempDir = () => mkdtemp(join(tmpdir(), 'erp-auth-test-'));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(promise, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message ?? '', message);
    return true;
  });
}

test('a development token gives its tenant, subject and scopes; X-Tenant-ID is ignored', async () => {
  const dir = await tempDir();
  const issuer = await loadDevIssuer(dir);
  const auth = await createAuthenticator(SETTINGS, dir);
  const token = await issuer.sign(
    { tenant_id: 'acme', scope: 'inventory:read sales:write', sub: 'alice' },
    'erp-events',
    60,
  );
  const principal = await auth.authenticate({ ...bearer(token), 'x-tenant-id': 'other' });
  assert.equal(principal.tenantId, 'acme');
  assert.equal(principal.subject, 'alice');
  assert.deepEqual([...principal.scopes].sort(), ['inventory:read', 'sales:write']);
  // The scheme in any case (RFC 6750 says case-insensitive); `scp` arrays count too.
  const scp = await issuer.sign({ tenant_id: 'acme', scp: ['ops'] }, 'erp-events', 60);
  const other = await auth.authenticate({ authorization: `bearer ${scp}` });
  assert.deepEqual([...other.scopes], ['ops']);
});

test('missing, malformed, expired, foreign and mis-addressed tokens are refused with their codes', async () => {
  const dir = await tempDir();
  const issuer = await loadDevIssuer(dir);
  const auth = await createAuthenticator(SETTINGS, dir);
  const claims = { tenant_id: 'acme', scope: 'ops' };

  await rejects(auth.authenticate({}), 'ERP_AUTH_MISSING_TOKEN');
  await rejects(auth.authenticate({ authorization: 'Basic dTpw' }), 'ERP_AUTH_INVALID_TOKEN');
  await rejects(auth.authenticate(bearer('not-a-jwt')), 'ERP_AUTH_INVALID_TOKEN', /signed JWT/);
  await rejects(auth.authenticate(bearer('a.b.c')), 'ERP_AUTH_INVALID_TOKEN');

  // Expired beyond the 30 s skew: refused; within it: accepted.
  const key = JSON.parse(await readFile(issuer.keyFile, 'utf8'));
  const { importJWK } = await import('jose');
  const privateKey = await importJWK(key.privateJwk, 'ES256');
  const signed = (payload: Record<string, unknown>, header = { alg: 'ES256', kid: key.kid }) =>
    new SignJWT(payload)
      .setProtectedHeader(header)
      .setIssuer(issuer.issuer)
      .setAudience('erp-events')
      .sign(privateKey);
  const now = Math.floor(Date.now() / 1000);
  await rejects(
    auth.authenticate(bearer(await signed({ ...claims, exp: now - 60 }))),
    'ERP_AUTH_TOKEN_EXPIRED',
  );
  const late = await auth.authenticate(bearer(await signed({ ...claims, exp: now - 10 })));
  assert.equal(late.tenantId, 'acme');
  // A token without exp never expires: refused.
  await rejects(auth.authenticate(bearer(await signed(claims))), 'ERP_AUTH_INVALID_TOKEN', /exp/);

  await rejects(
    auth.authenticate(bearer(await issuer.sign(claims, 'another-audience', 60))),
    'ERP_AUTH_INVALID_TOKEN',
    /aud/,
  );
  // Another development issuer (another DATA_DIR): its key is unknown here.
  const stranger = await loadDevIssuer(await tempDir());
  await rejects(
    auth.authenticate(bearer(await stranger.sign(claims, 'erp-events', 60))),
    'ERP_AUTH_INVALID_TOKEN',
  );
  // A shared-secret token naming our key id: the algorithm is refused, whatever the secret.
  const hs = await new SignJWT({ ...claims, exp: now + 60 })
    .setProtectedHeader({ alg: 'HS256', kid: key.kid })
    .setIssuer(issuer.issuer)
    .setAudience('erp-events')
    .sign(new TextEncoder().encode('x'.repeat(32)));
  await rejects(auth.authenticate(bearer(hs)), 'ERP_AUTH_INVALID_TOKEN');
});

test('a tenant claim that is not a tenant id is ERP_AUTH_NO_TENANT; the claim name is configurable', async () => {
  const dir = await tempDir();
  const issuer = await loadDevIssuer(dir);
  const auth = await createAuthenticator(SETTINGS, dir);
  for (const bad of ['', 'a/b', 'x'.repeat(129), 42, ['acme']]) {
    const token = await issuer.sign({ tenant_id: bad }, 'erp-events', 60);
    await rejects(auth.authenticate(bearer(token)), 'ERP_AUTH_NO_TENANT');
  }
  // No tenant at all is a principal of no tenant (an operator's token), refused by tenant routes.
  const ops = await auth.authenticate(
    bearer(await issuer.sign({ scope: 'ops' }, 'erp-events', 60)),
  );
  assert.equal(ops.tenantId, undefined);

  const custom = await createAuthenticator({ ...SETTINGS, tenantClaim: 'org' }, dir);
  const token = await issuer.sign({ org: 'globex', tenant_id: 'acme' }, 'erp-events', 60);
  assert.equal((await custom.authenticate(bearer(token))).tenantId, 'globex');
});

test('the development key is made once, private to its owner, and shared by concurrent starts', async () => {
  const dir = await tempDir();
  const issuers = await Promise.all(Array.from({ length: 6 }, () => loadDevIssuer(dir)));
  const kids = new Set(issuers.map((i) => i.jwks.keys[0]?.kid));
  assert.equal(kids.size, 1, 'one key for all');
  assert.equal((await stat(issuers[0]!.keyFile)).mode & 0o777, 0o600);
  assert.equal(
    issuers[0]!.jwks.keys.some((k) => 'd' in k),
    false,
    'the JWKS holds no private part',
  );
  // A token of the first verifies with the last: they are one issuer.
  const token = await issuers[0]!.sign({ tenant_id: 'acme' }, 'erp-events', 60);
  const auth = await createAuthenticator(SETTINGS, dir);
  assert.equal((await auth.authenticate(bearer(token))).tenantId, 'acme');

  await writeFile(issuers[0]!.keyFile, '{"kid": 1}');
  await rejects(loadDevIssuer(dir), 'ERP_AUTH_DEV_KEY', /delete it/);
});

test('a verified token is remembered by its bytes, but never past its exp', async () => {
  const dir = await tempDir();
  const issuer = await loadDevIssuer(dir);
  const auth = await createAuthenticator({ ...SETTINGS, clockSkewSeconds: 0 }, dir);
  const token = await issuer.sign({ tenant_id: 'acme' }, 'erp-events', 2);
  assert.equal((await auth.authenticate(bearer(token))).tenantId, 'acme');
  assert.equal((await auth.authenticate(bearer(token))).tenantId, 'acme');
  // One character changed in the signature: other bytes, verified anew and refused.
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  const tampered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
  await rejects(auth.authenticate(bearer(tampered)), 'ERP_AUTH_INVALID_TOKEN');
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  await rejects(auth.authenticate(bearer(token)), 'ERP_AUTH_TOKEN_EXPIRED');
});
