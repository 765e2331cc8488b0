/** Codes of the operator's console. */
import { CliErrorCodes } from '../cli/errors.ts';
import { AppError } from '../platform/index.ts';
import type { HttpStatusTable } from '../platform/index.ts';

export const ConsoleErrorCodes = {
  /** A service the console reads (its API, /metrics or /readyz) did not answer, or answered an error. Retryable. */
  UPSTREAM: 'ERP_CONSOLE_UPSTREAM',
  /** The redrive confirmation does not match its preview (the dead letters changed meanwhile). */
  PREVIEW_MISMATCH: 'ERP_CONSOLE_PREVIEW_MISMATCH',
  /**
   * A tenant's data (alerts, orders, dead letters, replays) asked for with a token bound to
   * another tenant (any mode), or in AUTH_MODE=oidc with a token bound to none (the console
   * reads with the operator's own token there, whose tenant the services use).
   */
  OTHER_TENANT: 'ERP_CONSOLE_OTHER_TENANT',
} as const;

export const CONSOLE_HTTP_STATUSES: HttpStatusTable = {
  [ConsoleErrorCodes.UPSTREAM]: 502,
  [ConsoleErrorCodes.PREVIEW_MISMATCH]: 409,
  [ConsoleErrorCodes.OTHER_TENANT]: 403,
  // A dead letter asked for by position that is not there (the CLI's own code).
  [CliErrorCodes.NOT_FOUND]: 404,
};

export function upstreamError(service: string, what: string, cause?: unknown): AppError {
  return new AppError(ConsoleErrorCodes.UPSTREAM, `${service}: ${what}`, {
    retryable: true,
    context: { service },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `tenant`'s data was asked for with a token of `tokenTenant` (undefined: bound to none). */
export function otherTenantError(tenant: string, tokenTenant: string | undefined): AppError {
  return new AppError(
    ConsoleErrorCodes.OTHER_TENANT,
    tokenTenant === undefined
      ? `your token names no tenant: sign in with a token of tenant ${tenant} to read its data`
      : `your token is tenant ${tokenTenant}'s: sign in with a token of tenant ${tenant} to read its data`,
    { context: { tenant, token_tenant: tokenTenant ?? null } },
  );
}
