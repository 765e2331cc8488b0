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
  [PlatformErrorCodes.HTTP_INVALID_IDEMPOTENCY_KEY]: 400,
  [PlatformErrorCodes.HTTP_IDEMPOTENCY_KEY_REUSED]: 422,
  [PlatformErrorCodes.HTTP_MALFORMED_REQUEST]: 400,
  [PlatformErrorCodes.HTTP_FORBIDDEN_KEY]: 400,
  [PlatformErrorCodes.HTTP_REQUEST_TIMEOUT]: 408,
  [PlatformErrorCodes.HTTP_URI_TOO_LONG]: 414,
  [PlatformErrorCodes.HTTP_EXPECTATION_FAILED]: 417,
  [PlatformErrorCodes.HTTP_HEADERS_TOO_LARGE]: 431,
  [PlatformErrorCodes.DB_CONFLICT]: 409,
  [PlatformErrorCodes.AUTH_MISSING_TOKEN]: 401,
  [PlatformErrorCodes.AUTH_INVALID_TOKEN]: 401,
  [PlatformErrorCodes.AUTH_TOKEN_EXPIRED]: 401,
  [PlatformErrorCodes.AUTH_INSUFFICIENT_SCOPE]: 403,
  [PlatformErrorCodes.AUTH_NO_TENANT]: 403,
  [PlatformErrorCodes.AUTH_UNAVAILABLE]: 503,
  [PlatformErrorCodes.HTTP_RATE_LIMITED]: 429,
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

/**
 * A request refused before any route saw it, in our codes: Node's HTTP parser and its timeouts
 * (the server's `clientError`, e.g. `HPE_INVALID_METHOD`, `HPE_HEADER_OVERFLOW`,
 * `ERR_HTTP_REQUEST_TIMEOUT`) and Fastify's router (`FST_ERR_BAD_URL`, `FST_ERR_MAX_PARAM_LENGTH`).
 * `reason` keeps the original code for whoever debugs the client.
 */
export function refusedRequest(
  err: { code?: string; reason?: unknown },
  limits: RequestLimits,
): AppError {
  const reason = err.code ?? 'unknown';
  switch (reason) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError(
        PlatformErrorCodes.HTTP_REQUEST_TIMEOUT,
        `the request was not received in time (its headers within ${limits.headersTimeoutMs} ms, all of it within ${limits.requestTimeoutMs} ms)`,
        {
          context: {
            reason,
            headersTimeoutMs: limits.headersTimeoutMs,
            requestTimeoutMs: limits.requestTimeoutMs,
          },
        },
      );
    case 'HPE_HEADER_OVERFLOW':
      return new AppError(
        PlatformErrorCodes.HTTP_HEADERS_TOO_LARGE,
        `the request line and headers exceed ${limits.maxHeaderBytes} bytes`,
        { context: { reason, limit: limits.maxHeaderBytes } },
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(
        PlatformErrorCodes.HTTP_URI_TOO_LONG,
        `a path parameter is longer than ${limits.maxParamLength} characters`,
        { context: { reason, limit: limits.maxParamLength } },
      );
    case 'FST_ERR_BAD_URL':
      return new AppError(
        PlatformErrorCodes.HTTP_MALFORMED_REQUEST,
        'the URL is not valid: a bad percent-encoding',
        { context: { reason } },
      );
    default:
      return new AppError(
        PlatformErrorCodes.HTTP_MALFORMED_REQUEST,
        // llhttp says what it refused in `reason` ("Invalid method encountered").
        `the request is not valid HTTP: ${typeof err.reason === 'string' ? err.reason : reason}`,
        { context: { reason } },
      );
  }
}

/** The limits a refused request may have broken, named in its message. */
export interface RequestLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderBytes: number;
  maxParamLength: number;
}

/** An HTTP/1.1 request must name its host (RFC 9112, 3.2). */
export function missingHost(): AppError {
  return new AppError(
    PlatformErrorCodes.HTTP_MALFORMED_REQUEST,
    'the request is not valid HTTP: an HTTP/1.1 request needs a Host header',
    { context: { reason: 'MISSING_HOST' } },
  );
}

/** Any expectation but `100-continue`, which Node meets by itself. */
export function unmetExpectation(expect: string | undefined): AppError {
  return new AppError(
    PlatformErrorCodes.HTTP_EXPECTATION_FAILED,
    `unsupported Expect header ${JSON.stringify(expect ?? '')}: only 100-continue is supported`,
  );
}

/** A JSON body that would poison prototypes if merged carelessly: refused, and said so. */
export function forbiddenKey(): AppError {
  return new AppError(
    PlatformErrorCodes.HTTP_FORBIDDEN_KEY,
    'the JSON body has a forbidden key: __proto__, or constructor with prototype (prototype poisoning)',
    { context: { reason: 'FORBIDDEN_PROTOTYPE_KEY' } },
  );
}
