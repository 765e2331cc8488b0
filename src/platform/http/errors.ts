/**
 * What an error means over HTTP. The status is decided here, from the error's code, by the table
 * of the layer that raised it (the platform's below, each service's beside its routes): errors
 * themselves know nothing about HTTP. A code in no table is a 500, or a 503 when it is an outage
 * (the database is gone: try again later).
 */
import { CONTRACT_ERROR_CODES, isContractError } from '../../contract/index.ts';
import { AppError, isAppError, PlatformErrorCodes } from '../errors.ts';

/** HTTP status per error code. */
export type HttpStatusTable = Readonly<Record<string, number>>;

export const PLATFORM_HTTP_STATUSES: HttpStatusTable = {
  [PlatformErrorCodes.HTTP_NOT_FOUND]: 404,
  [PlatformErrorCodes.HTTP_DRAINING]: 503,
  [PlatformErrorCodes.HTTP_INVALID_INPUT]: 400,
  [PlatformErrorCodes.HTTP_MISSING_TENANT]: 400,
  [PlatformErrorCodes.HTTP_INVALID_TENANT]: 400,
  [PlatformErrorCodes.DB_CONFLICT]: 409,
  // A contract violation that reaches a route is the caller's input.
  ...Object.fromEntries(CONTRACT_ERROR_CODES.map((code) => [code, 400])),
};

/** The response to an error we raised on purpose: its status and `{ error: { code, … } }`. */
export interface ErrorResponse {
  status: number;
  body: { error: Record<string, unknown> };
}

export function errorResponse(err: AppError, statuses: HttpStatusTable): ErrorResponse {
  const status = statuses[err.code] ?? (err.outage ? 503 : 500);
  return { status, body: { error: err.toJSON() } };
}

/** Coded errors as they are; a contract error as its code; anything else as ERP_INTERNAL. */
export function asCodedError(err: unknown): AppError | undefined {
  if (isAppError(err)) return err;
  if (isContractError(err)) {
    return new AppError(err.code, err.message, { context: { issues: err.issues, ...err.context } });
  }
  return undefined;
}
