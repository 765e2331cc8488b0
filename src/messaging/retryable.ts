/**
 * Two questions the consumer asks about a failure. `isRetryableError`: may the same work succeed
 * later unchanged? `isOutageError`: is it the infrastructure's fault (the database is gone) rather
 * than the record's? Only a retryable failure can be an outage.
 */
import { isContractError } from '../contract/index.ts';
import { isRetryableDatabaseError } from '../platform/database.ts';
import { isAppError } from '../platform/errors.ts';

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
/** What openDatabase raises when PostgreSQL cannot be reached (src/platform/database.ts). */
const DB_UNREACHABLE = 'ERP_DB_UNREACHABLE';

/** True when `test` holds for `err`, its `cause` chain, or an AggregateError's members. */
function anyInChain(err: unknown, test: (e: Error) => boolean, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  if (test(err)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => anyInChain(e, test, depth + 1))) {
    return true;
  }
  return anyInChain(err.cause, test, depth + 1);
}

const codeOf = (e: Error): unknown => (e as { code?: unknown }).code;

const isConnectionLevel = (e: Error): boolean => {
  const code = codeOf(e);
  if (typeof code === 'string') {
    if (CONNECTION_ERRNOS.has(code) || code === DB_UNREACHABLE) return true;
    // SQLSTATE class 08 (connection exception); 57P01-57P03: the server is shutting down,
    // crashed or still starting. None is about the statement that was running.
    if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code)) return true;
  }
  return CONNECTION_MESSAGES.test(e.message);
};

/** Whether the same work may succeed later: our own verdict, a transient SQLSTATE, a lost connection. */
export function isRetryableError(err: unknown): boolean {
  if (isAppError(err) || isContractError(err)) return err.retryable;
  return isRetryableDatabaseError(err) || anyInChain(err, isConnectionLevel);
}

/**
 * Whether a failure is an infrastructure outage: the database unreachable (ERP_DB_UNREACHABLE),
 * a connection-level error (errno, pg's lost-connection messages, SQLSTATE class 08, 57P01-57P03)
 * anywhere in the cause chain. Such a failure says nothing about the record being processed, so
 * the consumer waits it out instead of spending the record's attempts. A failure whose own
 * verdict is "not retryable" is never an outage: the verdict of the code that raised it wins.
 */
export function isOutageError(err: unknown): boolean {
  return isRetryableError(err) && anyInChain(err, isConnectionLevel);
}
