import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { runCli } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/dlq.ts';
import { createAuthenticator, loadConfig } from '../../src/platform/index.ts';

async function run(args: string[], vars: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const output: Output = { out: (l) => void out.push(l), err: (l) => void err.push(l) };
  const status = await runCli(args, output, vars);
  return { status, out, err };
}

test('auth token prints a token alone that services with the same DATA_DIR accept', async () => {
  const vars = { DATA_DIR: await mkdtemp(join(tmpdir(), 'erp-cli-auth-')) };
  const res = await run(
    ['auth', 'token', '--tenant', 'acme', '--scope', 'inventory:read', '--ttl', '2h'],
    vars,
  );
  assert.equal(res.status, 0, res.err.join('\n'));
  assert.equal(res.out.length, 1);
  const token = res.out[0]!;
  const auth = await createAuthenticator(loadConfig(vars).auth, vars.DATA_DIR);
  const principal = await auth.authenticate({ authorization: `Bearer ${token}` });
  assert.equal(principal.tenantId, 'acme');
  assert.deepEqual([...principal.scopes], ['inventory:read']);
  const claims = decodeJwt(token);
  assert.equal(claims.exp! - claims.iat!, 7200);

  // Default scopes: every API scope but ops; an ops token needs no tenant.
  const all = await run(['auth', 'token', '--tenant', 'acme'], vars);
  assert.equal(
    decodeJwt(all.out[0]!)['scope'],
    'inventory:read inventory:write sales:read sales:write',
  );
  const ops = await run(['auth', 'token', '--scope', 'ops'], vars);
  assert.equal(ops.status, 0);
  assert.equal(decodeJwt(ops.out[0]!)['tenant_id'], undefined);
  // The tenant claim follows AUTH_TENANT_CLAIM.
  const org = await run(['auth', 'token', '--tenant', 'acme'], {
    ...vars,
    AUTH_TENANT_CLAIM: 'org',
  });
  assert.equal(decodeJwt(org.out[0]!)['org'], 'acme');
});

test('auth token: bad arguments exit 2 naming the problem; an OIDC or no-auth setup is refused', async () => {
  const vars = { DATA_DIR: await mkdtemp(join(tmpdir(), 'erp-cli-auth-')) };
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['auth'], /auth needs "token"/],
    [['auth', 'token', '--scope', 'inventory:read'], /--tenant is required/],
    [['auth', 'token', '--tenant', 'a', '--scope', 'root'], /--scope takes some of/],
    [['auth', 'token', '--tenant', 'a', '--ttl', '1y'], /--ttl must be a duration/],
    [['auth', 'token', '--tenant', 'a', '--ttl', '31d'], /at most 30d/],
    [['auth', 'token', '--tenant', 'a', '--bogus'], /--bogus/],
    [['auth', 'token', '--tenant', 'a'], /AUTH_MODE=none/, { AUTH_MODE: 'none' }],
    [
      ['auth', 'token', '--tenant', 'a'],
      /the issuer at https:\/\/id\.example/,
      { AUTH_ISSUER_URL: 'https://id.example/realms/erp' },
    ],
  ];
  for (const [args, message, extra] of cases) {
    const res = await run(args, { ...vars, ...extra });
    assert.equal(res.status, 2, args.join(' '));
    assert.deepEqual(res.out, [], 'nothing on stdout');
    assert.match(res.err[0] ?? '', /^error ERP_CLI_USAGE: /);
    assert.match(res.err[0] ?? '', message, args.join(' '));
  }
});

test('npm run -s cli -- auth token: only the token on stdout', () => {
  const DATA_DIR = join(tmpdir(), `erp-cli-auth-${process.pid}`);
  const res = spawnSync('npm', ['run', '-s', 'cli', '--', 'auth', 'token', '--tenant', 'acme'], {
    encoding: 'utf8',
    env: { ...process.env, DATA_DIR },
  });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
});
