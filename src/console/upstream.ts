/**
 * How the console reaches the services' HTTP APIs. They are per tenant (the tenant comes from the
 * caller's token) and /metrics needs the `ops` scope, so the console acts with a credential of its
 * own for the tenant the operator picks:
 * - AUTH_MODE=dev: it signs short-lived tokens with the development issuer in DATA_DIR, as
 *   `npm run cli -- auth token` does (read scopes only for a tenant, `ops` for metrics and
 *   Sales' replay dry runs);
 * - AUTH_MODE=none: it names the tenant in X-Tenant-ID;
 * - AUTH_MODE=oidc: it forwards the operator's own token (the identity provider decides which
 *   tenant it may read: its tenant claim, and the scope the read needs); the background poll
 *   reads /metrics without a token, so the services need AUTH_OPEN_METRICS=true (or the
 *   overview shows metrics as unavailable).
 */
import { insufficientScope, loadDevIssuer } from '../platform/index.ts';
import type { Config, Principal } from '../platform/index.ts';
import { otherTenantError, upstreamError } from './errors.ts';

/** The operator behind a request: their verified principal and the token it came from. */
export interface Operator {
  principal: Principal | undefined;
  /** `Bearer <token>`: the Authorization header's, or the session cookie's. */
  authorization: string | undefined;
}

/** Whom the console acts as: a tenant (or none, for ops), the scope, the operator behind it. */
export interface Caller {
  tenant?: string;
  scope: string;
  operator?: Operator;
}

export interface Upstream {
  /**
   * GET `url` of `service`, for `tenant` with `scope`; the body as text. Rejects with
   * ERP_CONSOLE_UPSTREAM, and in oidc mode (the operator's token is sent) with
   * ERP_AUTH_INSUFFICIENT_SCOPE or ERP_CONSOLE_OTHER_TENANT when that token cannot read it.
   */
  get(service: string, url: string, as: Caller): Promise<{ status: number; text: string }>;
  /** POST `body` as JSON to `url`; the answer's body as text. Rejects as `get` does. */
  post(
    service: string,
    url: string,
    body: unknown,
    as: Caller,
  ): Promise<{ status: number; text: string }>;
}

/** Tokens live 5 minutes and are reused for 4. */
const TOKEN_TTL_SECONDS = 300;
const TIMEOUT_MS = 5_000;

export async function createUpstream(config: Config): Promise<Upstream> {
  const { auth } = config;
  const issuer = auth.mode === 'dev' ? await loadDevIssuer(config.dataDir) : undefined;
  const tokens = new Map<string, { token: string; until: number }>();
  const tokenFor = async (tenant: string | undefined, scope: string): Promise<string> => {
    const key = `${tenant ?? ''}\u0000${scope}`;
    const cached = tokens.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached.token;
    const token = await issuer!.sign(
      {
        ...(tenant === undefined ? {} : { [auth.tenantClaim]: tenant }),
        scope,
        sub: 'erp-console',
      },
      auth.audience,
      TOKEN_TTL_SECONDS,
    );
    tokens.set(key, { token, until: Date.now() + (TOKEN_TTL_SECONDS - 60) * 1000 });
    return token;
  };
  const headersFor = async (as: Caller): Promise<Record<string, string>> => {
    // An operator bound to a tenant acts for that tenant only, whoever's credential is sent: in
    // AUTH_MODE=dev the console signs its own tokens, which would otherwise reach any tenant.
    const bound = as.operator?.principal?.tenantId;
    if (bound !== undefined && as.tenant !== undefined && as.tenant !== bound) {
      throw otherTenantError(as.tenant, bound);
    }
    const tenant = as.tenant ?? bound;
    const headers: Record<string, string> = {};
    if (auth.mode === 'dev')
      headers['authorization'] = `Bearer ${await tokenFor(tenant, as.scope)}`;
    else if (auth.mode === 'none') {
      if (tenant !== undefined) headers['x-tenant-id'] = tenant;
    } else if (as.operator !== undefined) {
      if (as.tenant !== undefined) mayRead(as.operator.principal, as.tenant, as.scope);
      if (as.operator.authorization !== undefined) {
        headers['authorization'] = as.operator.authorization;
      }
    }
    return headers;
  };
  const call = async (service: string, url: string, init: RequestInit) => {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw upstreamError(service, `${url} did not answer (${(err as Error).message})`, err);
    }
    return { status: res.status, text: await res.text() };
  };
  return {
    async get(service, url, as) {
      return call(service, url, { headers: await headersFor(as) });
    },
    async post(service, url, body, as) {
      return call(service, url, {
        method: 'POST',
        headers: { ...(await headersFor(as)), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    },
  };
}

/**
 * Whether the operator's token can read `tenant` with `scope`, said before asking: the service
 * would answer with the token's own tenant, whatever the operator picked, or refuse the scope.
 */
function mayRead(principal: Principal | undefined, tenant: string, scope: string): void {
  if (principal?.scopes.has(scope) !== true) throw insufficientScope(scope);
  if (principal.tenantId !== tenant) throw otherTenantError(tenant, principal.tenantId);
}
