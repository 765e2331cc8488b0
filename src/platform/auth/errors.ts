/**
 * Authentication and authorization failures, with the RFC 6750 `WWW-Authenticate` challenge each
 * one answers with. Codes are the platform's (PlatformErrorCodes.AUTH_*).
 */
import { AppError, PlatformErrorCodes } from '../errors.ts';

/** The realm named in every challenge. */
export const AUTH_REALM = 'erp-events';

export function missingToken(): AppError {
  return new AppError(
    PlatformErrorCodes.AUTH_MISSING_TOKEN,
    'this route needs an Authorization: Bearer <token> header',
  );
}

export function invalidToken(reason: string, cause?: unknown): AppError {
  return new AppError(PlatformErrorCodes.AUTH_INVALID_TOKEN, `invalid token: ${reason}`, {
    cause,
    context: { reason },
  });
}

export function expiredToken(cause?: unknown): AppError {
  return new AppError(PlatformErrorCodes.AUTH_TOKEN_EXPIRED, 'the token has expired', { cause });
}

export function insufficientScope(required: string): AppError {
  return new AppError(
    PlatformErrorCodes.AUTH_INSUFFICIENT_SCOPE,
    `this route needs the scope "${required}"`,
    { context: { required_scope: required } },
  );
}

export function noTenant(claim: string): AppError {
  return new AppError(
    PlatformErrorCodes.AUTH_NO_TENANT,
    `the token names no tenant (claim "${claim}": 1-128 characters of A-Z a-z 0-9 . _ -)`,
    { context: { claim } },
  );
}

export function issuerUnavailable(cause: unknown): AppError {
  return new AppError(
    PlatformErrorCodes.AUTH_UNAVAILABLE,
    'the token issuer (OIDC discovery or its keys) cannot be reached; try again',
    { outage: true, cause },
  );
}

/** The `WWW-Authenticate` value for an auth failure (RFC 6750 §3), or undefined for other errors. */
export function challengeFor(err: AppError): string | undefined {
  const quoted = (s: string): string => `"${s.replace(/["\\]/g, "'")}"`;
  switch (err.code) {
    case PlatformErrorCodes.AUTH_MISSING_TOKEN:
      return `Bearer realm=${quoted(AUTH_REALM)}`;
    case PlatformErrorCodes.AUTH_INVALID_TOKEN:
    case PlatformErrorCodes.AUTH_TOKEN_EXPIRED:
      return `Bearer realm=${quoted(AUTH_REALM)}, error="invalid_token", error_description=${quoted(err.message)}`;
    case PlatformErrorCodes.AUTH_INSUFFICIENT_SCOPE:
      return `Bearer realm=${quoted(AUTH_REALM)}, error="insufficient_scope", scope=${quoted(String(err.context['required_scope']))}`;
    default:
      return undefined;
  }
}
