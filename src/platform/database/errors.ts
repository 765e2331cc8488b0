/**
 * The database boundary's verdict on a driver error: the one place that reads SQLSTATEs, errnos
 * and the driver's message texts. Every error that leaves a query (through Kysely, see
 * coded-errors.ts) or a script comes out as an AppError with a stable code, `retryable` and
 * `outage`, so that the layers above (the consumer's retry-or-dead-letter choice, the HTTP
 * status) read only those.
 */
import { AppError, isAppError, PlatformErrorCodes } from '../errors.ts';

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// pg reports a lost or unobtainable connection with these messages and no code.
const CONNECTION_MESSAGES =
  /^Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

type DriverError = Error & { code?: unknown; constraint?: unknown };

/** True when `test` holds for `err`, its `cause` chain, or an AggregateError's members. */
function anyInChain(err: unknown, test: (e: DriverError) => boolean, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  if (test(err)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => anyInChain(e, test, depth + 1))) {
    return true;
  }
  return anyInChain(err.cause, test, depth + 1);
}

const isConnectionLevel = (e: DriverError): boolean => {
  const code = e.code;
  if (typeof code === 'string') {
    if (CONNECTION_ERRNOS.has(code)) return true;
    // SQLSTATE class 08 (connection exception); 57P01-57P03: the server is shutting down,
    // crashed or still starting; 53300: too many connections. None is about the statement.
    if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true;
  }
  return CONNECTION_MESSAGES.test(e.message);
};

/**
 * `err` as a coded AppError when it comes from the database driver; anything else (an AppError,
 * a ContractError, a bug's TypeError) is returned unchanged.
 *
 * - connection-level (lost connection, server going down, errno, pg's connection messages,
 *   anywhere in the cause chain): ERP_DB_CONNECTION_LOST, an outage;
 * - 40001 (serialization failure), 40P01 (deadlock): ERP_DB_CONFLICT, retryable;
 * - 23505: ERP_DB_UNIQUE_VIOLATION with `constraint` (PGlite only names it in the message);
 * - any other SQLSTATE: ERP_DB_STATEMENT_FAILED with `sqlstate`, not retryable.
 */
export function toDatabaseError(err: unknown): unknown {
  if (isAppError(err) || !(err instanceof Error)) return err;
  const e = err as DriverError;
  const message = e.message;
  if (anyInChain(e, isConnectionLevel)) {
    return new AppError(PlatformErrorCodes.DB_CONNECTION_LOST, message, { outage: true, cause: e });
  }
  const code = typeof e.code === 'string' && SQLSTATE.test(e.code) ? e.code : undefined;
  if (code === undefined) return err;
  if (code === '40001' || code === '40P01') {
    return new AppError(PlatformErrorCodes.DB_CONFLICT, message, {
      retryable: true,
      cause: e,
      context: { sqlstate: code },
    });
  }
  if (code === '23505') {
    const constraint =
      typeof e.constraint === 'string' ? e.constraint : /constraint "([^"]+)"/.exec(message)?.[1];
    return new AppError(PlatformErrorCodes.DB_UNIQUE_VIOLATION, message, {
      cause: e,
      context: { sqlstate: code, ...(constraint === undefined ? {} : { constraint }) },
    });
  }
  return new AppError(PlatformErrorCodes.DB_STATEMENT_FAILED, `${message} (SQLSTATE ${code})`, {
    cause: e,
    context: { sqlstate: code },
  });
}

/** Whether `err` is a unique violation of `constraint` (as toDatabaseError codes it). */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  return (
    isAppError(err) &&
    err.code === PlatformErrorCodes.DB_UNIQUE_VIOLATION &&
    err.context['constraint'] === constraint
  );
}

/** What openDatabase raises when PostgreSQL cannot be reached: an outage, the URL's password hidden. */
export function unreachable(url: string, cause: unknown): AppError {
  const safe = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  return new AppError(
    PlatformErrorCodes.DB_UNREACHABLE,
    `cannot connect to PostgreSQL at ${safe}`,
    {
      outage: true,
      cause,
    },
  );
}
