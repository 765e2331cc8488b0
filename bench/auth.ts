/**
 * Authentication for the benches, as deployed by default: the development issuer, one token per
 * bench tenant signed up front (so signing is not measured). AUTH_MODE=none in the environment
 * runs the same bench without tokens (X-Tenant-ID), to measure what authentication costs.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthenticator, loadDevIssuer, SCOPES } from '../src/platform/index.ts';
import type { Authenticator, AuthMode } from '../src/platform/index.ts';
import { TENANTS, tenantOf } from './support.ts';

export interface BenchAuth {
  mode: AuthMode;
  /** DATA_DIR holding the issuer's key: services started as processes get it. */
  dataDir: string;
  authenticator: Authenticator;
  /** Request headers that act for `tenant` (a bench tenant), or for /metrics without one. */
  headers(tenant?: string): Record<string, string>;
}

export async function benchAuth(): Promise<BenchAuth> {
  const mode: AuthMode = process.env['AUTH_MODE'] === 'none' ? 'none' : 'dev';
  const dataDir = await mkdtemp(join(tmpdir(), 'erp-bench-auth-'));
  const authenticator = await createAuthenticator(
    {
      mode,
      audience: 'erp-events',
      tenantClaim: 'tenant_id',
      clockSkewSeconds: 30,
      openMetrics: false,
    },
    dataDir,
  );
  const issuer = await loadDevIssuer(dataDir);
  const tokens = new Map<string, Record<string, string>>();
  const sign = async (key: string, claims: Record<string, unknown>) => {
    const token = await issuer.sign({ ...claims, sub: 'bench' }, 'erp-events', 4 * 3600);
    tokens.set(key, { authorization: `Bearer ${token}` });
  };
  await sign('', { scope: 'ops' });
  for (let i = 0; i < TENANTS; i++) {
    await sign(tenantOf(i), { tenant_id: tenantOf(i), scope: SCOPES.join(' ') });
  }
  return {
    mode,
    dataDir,
    authenticator,
    headers(tenant) {
      if (mode === 'none') return tenant === undefined ? {} : { 'x-tenant-id': tenant };
      const found = tokens.get(tenant ?? '');
      if (found === undefined) throw new Error(`no bench token for tenant ${tenant}`);
      return found;
    },
  };
}
