/**
 * Tokens of an OpenID Connect issuer (Keycloak, Auth0, Entra ID, ...): its keys are found by
 * discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`) and fetched by jose, which
 * caches them and fetches again when a token names an unknown `kid` (a rotated key).
 *
 * Discovery runs on the first token, not at start, so a service starts while its issuer is
 * down; until discovery succeeds every token is answered 503 ERP_AUTH_UNAVAILABLE, and a failed
 * discovery is tried again by the next request.
 */
import { createRemoteJWKSet } from 'jose';
import { z } from 'zod';
import { issuerUnavailable } from './errors.ts';
import { createTokenVerifier } from './verifier.ts';
import type { TokenVerifier } from './verifier.ts';

export interface OidcOptions {
  issuerUrl: string;
  audience: string;
  tenantClaim: string;
  clockSkewSeconds: number;
  /** Per HTTP request to the issuer. Default: 5000. */
  timeoutMs?: number;
  /**
   * A token naming an unknown key refetches the keys, at most once per this (jose's guard against
   * a flood of made-up key ids). Default: 30 000; a rotated key is picked up within it.
   */
  keysCooldownMs?: number;
}

const discoveryDocument = z.looseObject({ issuer: z.string(), jwks_uri: z.url() });

/** A verifier for the issuer's tokens; `ready()` discovers now (used at start to log the outcome). */
export function createOidcVerifier(options: OidcOptions): {
  verify: TokenVerifier;
  ready: () => Promise<{ issuer: string; jwksUri: string }>;
} {
  const timeoutMs = options.timeoutMs ?? 5_000;
  let discovered: Promise<{ verify: TokenVerifier; issuer: string; jwksUri: string }> | undefined;
  const discover = (): NonNullable<typeof discovered> => {
    discovered ??= discoverIssuer(options.issuerUrl, timeoutMs).then(({ issuer, jwksUri }) => ({
      issuer,
      jwksUri,
      verify: createTokenVerifier({
        issuer,
        audience: options.audience,
        tenantClaim: options.tenantClaim,
        clockSkewSeconds: options.clockSkewSeconds,
        keys: createRemoteJWKSet(new URL(jwksUri), {
          timeoutDuration: timeoutMs,
          cooldownDuration: options.keysCooldownMs ?? 30_000,
        }),
      }),
    }));
    // A failure is not kept: the next request tries again.
    discovered.catch(() => (discovered = undefined));
    return discovered;
  };
  return {
    verify: async (token) => (await discover()).verify(token),
    ready: async () => {
      const { issuer, jwksUri } = await discover();
      return { issuer, jwksUri };
    },
  };
}

async function discoverIssuer(
  issuerUrl: string,
  timeoutMs: number,
): Promise<{ issuer: string; jwksUri: string }> {
  const url = `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw issuerUnavailable(err);
  }
  const doc = discoveryDocument.safeParse(body);
  if (!doc.success) throw issuerUnavailable(new Error(`${url}: not an OIDC discovery document`));
  // OIDC Discovery §4.3: the document's issuer must be the one asked for (else tokens of another
  // issuer could pass). A trailing slash is the only difference forgiven.
  if (doc.data.issuer.replace(/\/+$/, '') !== issuerUrl.replace(/\/+$/, '')) {
    throw issuerUnavailable(
      new Error(`${url} names issuer ${doc.data.issuer}, not AUTH_ISSUER_URL ${issuerUrl}`),
    );
  }
  return { issuer: doc.data.issuer, jwksUri: doc.data.jwks_uri };
}
