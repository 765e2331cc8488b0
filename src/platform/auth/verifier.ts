/**
 * Verifies a bearer token with jose: signature against the issuer's keys, `iss`, `aud`, `exp` and
 * `nbf` (with the configured clock skew), then reads the tenant and the scopes. Asymmetric
 * algorithms only: a shared-secret (HS*) or unsigned token never verifies.
 */
import { errors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { AppError } from '../errors.ts';
import { expiredToken, invalidToken, issuerUnavailable, noTenant } from './errors.ts';
import { TENANT_PATTERN } from './principal.ts';
import type { Principal } from './principal.ts';

export const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export interface VerifierOptions {
  issuer: string;
  audience: string;
  /** The claim that holds the tenant id (AUTH_TENANT_CLAIM). */
  tenantClaim: string;
  clockSkewSeconds: number;
  /** The issuer's keys: jose's remote JWKS (cached, refetched on an unknown `kid`) or a local set. */
  keys: JWTVerifyGetKey;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

// Three base64url parts: anything else is refused before any key is looked up.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Verified tokens remembered at most this long, whatever their `exp` (a key revoked by rotation). */
const REMEMBER_MS = 5 * 60_000;
const REMEMBERED = 10_000;

/**
 * A client sends the same token with every request until it expires, and a signature check
 * (ECDSA or RSA through WebCrypto) is the largest part of a small request's cost: a token that
 * verified is remembered, by its exact bytes, until its `exp` (at most REMEMBER_MS), so the same
 * bytes are not checked again. Only successes are kept; a token past its `exp` is checked anew
 * and refused.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const verify = verifySignature(options);
  const verified = new LRUCache<string, Principal>({ max: REMEMBERED, ttl: REMEMBER_MS });
  return async (token) => {
    const known = verified.get(token);
    if (known !== undefined) return known;
    const { principal, expiresAtMs } = await verify(token);
    const ttl = Math.min(REMEMBER_MS, expiresAtMs + options.clockSkewSeconds * 1000 - Date.now());
    if (ttl > 0) verified.set(token, principal, { ttl });
    return principal;
  };
}

function verifySignature(
  options: VerifierOptions,
): (token: string) => Promise<{ principal: Principal; expiresAtMs: number }> {
  return async (token) => {
    if (!COMPACT_JWS.test(token)) throw invalidToken('not a signed JWT (header.payload.signature)');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockSkewSeconds,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw verificationError(err);
    }
    // `exp` is required by jwtVerify above.
    return {
      principal: principalOf(payload, options.tenantClaim),
      expiresAtMs: payload.exp! * 1000,
    };
  };
}

/** The tenant from `tenantClaim`, the scopes from `scope` (space-separated) and `scp`. */
export function principalOf(payload: JWTPayload, tenantClaim: string): Principal {
  const tenant = payload[tenantClaim];
  if (tenant !== undefined && (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant))) {
    throw noTenant(tenantClaim);
  }
  const scopes = new Set<string>();
  const add = (value: unknown): void => {
    const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const s of list) if (typeof s === 'string' && s !== '') scopes.add(s);
  };
  add(payload['scope']);
  add(payload['scp']);
  const subject =
    payload.sub ?? (typeof payload['azp'] === 'string' ? payload['azp'] : undefined) ?? 'unknown';
  return { tenantId: tenant, subject, scopes };
}

function verificationError(err: unknown): AppError {
  if (err instanceof errors.JWTExpired) return expiredToken(err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    return invalidToken(`claim "${err.claim}" ${err.reason}`, err);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return invalidToken('signed by an unknown key', err);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return invalidToken('signature does not verify', err);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return invalidToken('algorithm not allowed', err);
  // The key set could not be fetched (timeout, network, a non-200): the issuer's fault, not the
  // token's. jose reports those as JWKSTimeout, its generic JOSEError, or fetch's own TypeError.
  if (
    err instanceof errors.JWKSTimeout ||
    !(err instanceof errors.JOSEError) ||
    err.code === 'ERR_JOSE_GENERIC'
  ) {
    return issuerUnavailable(err);
  }
  return invalidToken(err.message, err);
}
