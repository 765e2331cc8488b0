/**
 * One base class for every error the project raises on purpose, and the platform's own codes.
 *
 * Callers match on `code` (stable, documented in docs/errors.md), never on message text.
 * `retryable` is the only thing a consumer reads to choose between retrying and dead-lettering;
 * `outage` says the failure is the infrastructure's (a database gone), not the work's. What an
 * error means over HTTP is decided by the HTTP layer (platform/http/errors.ts), not here.
 */
export interface AppErrorOptions {
  /** Whether trying the same operation again may succeed. Default: false (true when `outage`). */
  retryable?: boolean;
  /**
   * The infrastructure is unavailable (database unreachable, connection lost): not the fault of
   * the work in hand, so a consumer waits it out instead of spending the record's attempts.
   * Implies `retryable`. Default: false.
   */
  outage?: boolean;
  cause?: unknown;
  /** Small, JSON-safe facts that help an operator (ids, field names). */
  context?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly outage: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.outage = options.outage ?? false;
    this.retryable = this.outage || (options.retryable ?? false);
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.context };
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Whether the same work may succeed later: only an AppError can say so. */
export function isRetryable(err: unknown): boolean {
  return isAppError(err) && err.retryable;
}

/** Whether a failure is an infrastructure outage (see AppErrorOptions.outage). */
export function isOutage(err: unknown): boolean {
  return isAppError(err) && err.outage;
}

/** Codes raised by src/platform. Closed list: docs/errors.md documents each. */
export const PlatformErrorCodes = {
  /** A variable has a bad value; the message names it. */
  CFG_INVALID: 'ERP_CFG_INVALID',
  /** An options object given to a component has a bad field; the message names it. */
  INVALID_OPTIONS: 'ERP_INVALID_OPTIONS',
  /** A service could not start (see its log). */
  START_FAILED: 'ERP_START_FAILED',
  /** PostgreSQL cannot be reached at start or for a new connection. Outage. */
  DB_UNREACHABLE: 'ERP_DB_UNREACHABLE',
  /** A connection was lost, or the server is shutting down or starting. Outage. */
  DB_CONNECTION_LOST: 'ERP_DB_CONNECTION_LOST',
  /** A serialization failure or deadlock: the transaction may succeed when run again. */
  DB_CONFLICT: 'ERP_DB_CONFLICT',
  /** A unique constraint refused a row; `constraint` names it. */
  DB_UNIQUE_VIOLATION: 'ERP_DB_UNIQUE_VIOLATION',
  /** Any other statement error; `sqlstate` says which. Running it again will not help. */
  DB_STATEMENT_FAILED: 'ERP_DB_STATEMENT_FAILED',
  DB_OPEN_FAILED: 'ERP_DB_OPEN_FAILED',
  DB_LOCKED: 'ERP_DB_LOCKED',
  DB_INVALID_SCHEMA: 'ERP_DB_INVALID_SCHEMA',
  DB_MIGRATION_FAILED: 'ERP_DB_MIGRATION_FAILED',
  HTTP_BAD_REQUEST: 'ERP_HTTP_BAD_REQUEST',
  HTTP_NOT_FOUND: 'ERP_HTTP_NOT_FOUND',
  HTTP_DRAINING: 'ERP_HTTP_DRAINING',
  /** An Idempotency-Key header that is not 1-255 visible ASCII characters. */
  HTTP_INVALID_IDEMPOTENCY_KEY: 'ERP_HTTP_INVALID_IDEMPOTENCY_KEY',
  /** An Idempotency-Key already used (by this tenant) with another request. */
  HTTP_IDEMPOTENCY_KEY_REUSED: 'ERP_HTTP_IDEMPOTENCY_KEY_REUSED',
  HTTP_INVALID_INPUT: 'ERP_HTTP_INVALID_INPUT',
  HTTP_MISSING_TENANT: 'ERP_HTTP_MISSING_TENANT',
  HTTP_INVALID_TENANT: 'ERP_HTTP_INVALID_TENANT',
  /** Not a valid HTTP request (request line, headers, URL encoding); `reason` is the parser's code. */
  HTTP_MALFORMED_REQUEST: 'ERP_HTTP_MALFORMED_REQUEST',
  /** A JSON body with a `__proto__` or `constructor.prototype` key (prototype poisoning). */
  HTTP_FORBIDDEN_KEY: 'ERP_HTTP_FORBIDDEN_KEY',
  /** A path segment longer than the router accepts. */
  HTTP_URI_TOO_LONG: 'ERP_HTTP_URI_TOO_LONG',
  /** The request line and headers exceed Node's limit (16 KiB). */
  HTTP_HEADERS_TOO_LARGE: 'ERP_HTTP_HEADERS_TOO_LARGE',
  /** An `Expect` header other than `100-continue`. */
  HTTP_EXPECTATION_FAILED: 'ERP_HTTP_EXPECTATION_FAILED',
  /** The request (its headers, or all of it) was not received in time (HTTP_*_TIMEOUT_MS). */
  HTTP_REQUEST_TIMEOUT: 'ERP_HTTP_REQUEST_TIMEOUT',
  /** An API route called without `Authorization: Bearer <token>`. 401 with a challenge. */
  AUTH_MISSING_TOKEN: 'ERP_AUTH_MISSING_TOKEN',
  /** A token that does not verify (signature, issuer, audience, shape); `reason` says which. */
  AUTH_INVALID_TOKEN: 'ERP_AUTH_INVALID_TOKEN',
  /** A token past its `exp` (beyond AUTH_CLOCK_SKEW_SECONDS). */
  AUTH_TOKEN_EXPIRED: 'ERP_AUTH_TOKEN_EXPIRED',
  /** A valid token without the scope the route needs; `required_scope` names it. 403. */
  AUTH_INSUFFICIENT_SCOPE: 'ERP_AUTH_INSUFFICIENT_SCOPE',
  /** A valid token without a tenant (AUTH_TENANT_CLAIM) on a route that reads a tenant's data. 403. */
  AUTH_NO_TENANT: 'ERP_AUTH_NO_TENANT',
  /** The issuer's discovery document or keys cannot be fetched. Outage (503). */
  AUTH_UNAVAILABLE: 'ERP_AUTH_UNAVAILABLE',
  /** The development issuer's key file under DATA_DIR is unreadable. */
  AUTH_DEV_KEY: 'ERP_AUTH_DEV_KEY',
  /** The tenant sent more than RATE_LIMIT_MAX requests in RATE_LIMIT_WINDOW_MS. 429 with Retry-After. */
  HTTP_RATE_LIMITED: 'ERP_HTTP_RATE_LIMITED',
  /** A request failed for a reason that has no code of ours (a bug); the log has the cause. */
  INTERNAL: 'ERP_INTERNAL',
} as const;

export type PlatformErrorCode = (typeof PlatformErrorCodes)[keyof typeof PlatformErrorCodes];
