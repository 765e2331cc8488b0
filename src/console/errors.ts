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
   * AUTH_MODE=oidc: a tenant's alerts or orders asked for with a token of another tenant (the
   * console reads them with the operator's own token, whose tenant the services use).
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
