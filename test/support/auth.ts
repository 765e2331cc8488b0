/**
 * Tokens for tests: one development issuer per test process, its key in a temporary folder,
 * and the authenticator that accepts its tokens (what `npm start` runs without AUTH_ISSUER_URL).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthenticator, loadDevIssuer, SCOPES } from '../../src/platform/index.ts';
import type { Authenticator, AuthSettings, DevIssuer } from '../../src/platform/index.ts';

export const TEST_AUTH: AuthSettings = {
  mode: 'dev',
  audience: 'erp-events',
  tenantClaim: 'tenant_id',
  clockSkewSeconds: 30,
  openMetrics: false,
};

export interface TestIssuer {
  /** The folder holding the key: DATA_DIR for services that must accept these tokens. */
  dataDir: string;
  issuer: DevIssuer;
  authenticator: Authenticator;
  /** A token for `tenant` with `scopes` (default: all of them), valid for an hour. */
  token(tenant: string | undefined, scopes?: readonly string[]): Promise<string>;
  /** `{ authorization: 'Bearer …' }` for `tenant` (undefined: a token bound to none, as ops). */
  headers(
    tenant: string | undefined,
    scopes?: readonly string[],
  ): Promise<{ authorization: string }>;
}

let shared: Promise<TestIssuer> | undefined;

/** The process's issuer (created once). */
export function testIssuer(): Promise<TestIssuer> {
  shared ??= createTestIssuer();
  return shared;
}

async function createTestIssuer(): Promise<TestIssuer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'erp-auth-'));
  const issuer = await loadDevIssuer(dataDir);
  const authenticator = await createAuthenticator(TEST_AUTH, dataDir);
  const token: TestIssuer['token'] = (tenant, scopes = SCOPES) =>
    issuer.sign(
      {
        ...(tenant === undefined ? {} : { tenant_id: tenant }),
        scope: scopes.join(' '),
        sub: 'test',
      },
      TEST_AUTH.audience,
      3600,
    );
  return {
    dataDir,
    issuer,
    authenticator,
    token,
    headers: async (tenant, scopes) => ({ authorization: `Bearer ${await token(tenant, scopes)}` }),
  };
}
