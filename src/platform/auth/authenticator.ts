/**
 * Who a request acts for, by AUTH_MODE:
 * - `oidc`: a bearer token of the issuer at AUTH_ISSUER_URL (the production setting);
 * - `dev`: a bearer token of the local development issuer (the default without AUTH_ISSUER_URL);
 * - `none`: no tokens; the tenant is whatever X-Tenant-ID says and every scope is granted. Only
 *   when set explicitly, and loudly logged at start: anyone who reaches the port is any tenant.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import { loadDevIssuer } from './dev-issuer.ts';
import { invalidToken, missingToken, noTenant } from './errors.ts';
import { createOidcVerifier } from './oidc.ts';
import { SCOPES, TENANT_PATTERN } from './principal.ts';
import type { Principal } from './principal.ts';
import { createTokenVerifier } from './verifier.ts';
import type { TokenVerifier } from './verifier.ts';

export type AuthMode = 'oidc' | 'dev' | 'none';

export interface AuthSettings {
  mode: AuthMode;
  /** AUTH_ISSUER_URL; set exactly when mode is `oidc`. */
  issuerUrl?: string;
  /** AUTH_AUDIENCE: the `aud` every token must carry. */
  audience: string;
  /** AUTH_TENANT_CLAIM: the claim that holds the tenant id. */
  tenantClaim: string;
  /** AUTH_CLOCK_SKEW_SECONDS: leeway on `exp` and `nbf`. */
  clockSkewSeconds: number;
  /** AUTH_OPEN_METRICS: /metrics needs no token (a Prometheus on a private network). */
  openMetrics: boolean;
  /** OIDC: least time between two key fetches caused by unknown key ids. Default: 30 000. */
  keysCooldownMs?: number;
}

export interface Authenticator {
  mode: AuthMode;
  /** The principal of a request, from its headers; throws ERP_AUTH_* (or ERP_HTTP_*_TENANT). */
  authenticate(headers: IncomingHttpHeaders): Promise<Principal>;
  /** The development issuer's public keys, served at /.well-known/jwks.json; dev mode only. */
  jwks?: JSONWebKeySet;
  /** Why a request whose principal has no tenant cannot reach a tenant's data. */
  missingTenant(): AppError;
  /** What the start log says about authentication. */
  describe(): string;
  /** Reaches the issuer now (OIDC discovery); resolves with what to log, rejects with why not. */
  check(): Promise<string>;
}

export async function createAuthenticator(
  settings: AuthSettings,
  dataDir: string,
): Promise<Authenticator> {
  if (settings.mode === 'none') return headerTenancy();
  const common = {
    audience: settings.audience,
    tenantClaim: settings.tenantClaim,
    clockSkewSeconds: settings.clockSkewSeconds,
  };
  if (settings.mode === 'dev') {
    const dev = await loadDevIssuer(dataDir);
    return bearer(
      'dev',
      settings.tenantClaim,
      createTokenVerifier({ ...common, issuer: dev.issuer, keys: dev.keys }),
      {
        jwks: dev.jwks,
        describe: () =>
          `development issuer (key ${dev.keyFile}; not for production): get a token with npm run -s cli -- auth token --tenant <tenant>`,
        check: () => Promise.resolve(`development issuer ${dev.issuer}`),
      },
    );
  }
  if (settings.issuerUrl === undefined) {
    throw new AppError(PlatformErrorCodes.CFG_INVALID, 'AUTH_MODE=oidc needs AUTH_ISSUER_URL', {
      context: { variables: ['AUTH_ISSUER_URL'] },
    });
  }
  const oidc = createOidcVerifier({
    ...common,
    issuerUrl: settings.issuerUrl,
    ...(settings.keysCooldownMs === undefined ? {} : { keysCooldownMs: settings.keysCooldownMs }),
  });
  return bearer('oidc', settings.tenantClaim, oidc.verify, {
    describe: () => `OpenID Connect issuer ${settings.issuerUrl} (audience ${settings.audience})`,
    check: async () => {
      const { issuer, jwksUri } = await oidc.ready();
      return `issuer ${issuer} discovered, keys at ${jwksUri}`;
    },
  });
}

function bearer(
  mode: AuthMode,
  tenantClaim: string,
  verify: TokenVerifier,
  rest: Pick<Authenticator, 'describe' | 'check'> & { jwks?: JSONWebKeySet },
): Authenticator {
  return {
    mode,
    ...rest,
    authenticate: async (headers) => verify(bearerToken(headers.authorization)),
    missingTenant: () => noTenant(tenantClaim),
  };
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme in any case. */
function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw missingToken();
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (match?.[1] === undefined)
    throw invalidToken('the Authorization header is not "Bearer <token>"');
  return match[1];
}

/** AUTH_MODE=none: the tenant of X-Tenant-ID, every scope. Also what route tests use. */
export function headerTenancy(): Authenticator {
  const scopes: ReadonlySet<string> = new Set(SCOPES);
  return {
    mode: 'none',
    describe: () =>
      'NONE: no tokens; the tenant is whatever X-Tenant-ID says and every caller has every scope (AUTH_MODE=none, for trusted networks only)',
    check: () => Promise.resolve('no issuer'),
    missingTenant: () =>
      new AppError(
        PlatformErrorCodes.HTTP_MISSING_TENANT,
        'the X-Tenant-ID header is required (AUTH_MODE=none)',
      ),
    // Without the header a request is nobody's: fine for /metrics, refused by tenantOf elsewhere.
    // A bad header rejects the promise (the executor's throw), like a bad token.
    authenticate: (headers) => new Promise((resolve) => resolve(tenantOfHeader(headers, scopes))),
  };
}

function tenantOfHeader(headers: IncomingHttpHeaders, scopes: ReadonlySet<string>): Principal {
  const raw = headers['x-tenant-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '')
    return { tenantId: undefined, subject: 'anonymous', scopes };
  if (!TENANT_PATTERN.test(value)) {
    throw new AppError(
      PlatformErrorCodes.HTTP_INVALID_TENANT,
      'X-Tenant-ID must be 1-128 characters of A-Z a-z 0-9 . _ -',
    );
  }
  return { tenantId: value, subject: 'anonymous', scopes };
}
