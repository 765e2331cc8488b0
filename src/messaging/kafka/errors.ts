import { AppError, isAppError } from '../../platform/index.ts';

/**
 * Stable codes of the Kafka layer. Callers match on these (and on `retryable`), never on the
 * library's own `PLT_KFK_*` codes, so the client library can change without touching them.
 */
export const KafkaErrorCodes = {
  /** Our options or the library's input validation rejected a value. Fix the configuration. */
  CONFIG: 'ERP_KAFKA_CONFIG',
  /** SASL authentication failed (wrong user, password or mechanism). Fix `KAFKA_SASL_*`. */
  AUTHENTICATION: 'ERP_KAFKA_AUTHENTICATION',
  /** The broker's ACLs do not allow this principal the operation (write, read, create...). */
  AUTHORIZATION: 'ERP_KAFKA_AUTHORIZATION',
  /** The TLS handshake failed: the broker's certificate is not trusted or names another host. */
  TLS: 'ERP_KAFKA_TLS',
  /** A broker could not be reached, or a request timed out. Transient. */
  CONNECTION: 'ERP_KAFKA_CONNECTION',
  /** A broker answered with an error code; `retryable` follows Kafka's own classification. */
  BROKER: 'ERP_KAFKA_BROKER',
  /** The broker or the client lacks a feature we asked for (API version, compression). */
  UNSUPPORTED: 'ERP_KAFKA_UNSUPPORTED',
  /** The client was already closed. A programming or shutdown-order error. */
  CLOSED: 'ERP_KAFKA_CLOSED',
  /** An existing topic has fewer partitions than declared. Fix the topic or the declaration. */
  TOPIC_MISMATCH: 'ERP_KAFKA_TOPIC_MISMATCH',
  /** The cluster does not know the topic (yet). Retryable: it may be being created. */
  UNKNOWN_TOPIC: 'ERP_KAFKA_UNKNOWN_TOPIC',
  /** No acknowledgement within the send timeout (the outbox relay reports it and keeps waiting). */
  TIMEOUT: 'ERP_KAFKA_TIMEOUT',
  /** A topic did not get leaders for all partitions in time. Transient. */
  TOPIC_NOT_READY: 'ERP_KAFKA_TOPIC_NOT_READY',
  /** A consumer group's offsets cannot be reset while it has members: stop them first. */
  GROUP_NOT_EMPTY: 'ERP_KAFKA_GROUP_NOT_EMPTY',
  /** Anything else raised by the client library. */
  CLIENT: 'ERP_KAFKA_CLIENT',
} as const;

export type KafkaErrorCode = (typeof KafkaErrorCodes)[keyof typeof KafkaErrorCodes];

export function kafkaConfigError(path: string, problem: string): AppError {
  return new AppError(KafkaErrorCodes.CONFIG, `Invalid Kafka option ${path}: ${problem}`, {
    retryable: false,
    context: { option: path },
  });
}

export function topicMismatchError(topic: string, expected: number, actual: number): AppError {
  return new AppError(
    KafkaErrorCodes.TOPIC_MISMATCH,
    `Topic ${topic} has ${actual} partitions, ${expected} declared`,
    {
      retryable: false,
      context: { topic, expectedPartitions: expected, actualPartitions: actual },
    },
  );
}

/** A send not acknowledged within `timeoutMs` (still awaited: the idempotent producer retries). */
export function sendTimeoutError(timeoutMs: number, records: number): AppError {
  return new AppError(KafkaErrorCodes.TIMEOUT, `no acknowledgement within ${timeoutMs} ms`, {
    retryable: true,
    context: { records },
  });
}

export function topicNotReadyError(topics: string[], waitedMs: number): AppError {
  return new AppError(
    KafkaErrorCodes.TOPIC_NOT_READY,
    `Topics without a leader on every partition after ${waitedMs} ms: ${topics.join(', ')}`,
    { retryable: true, context: { topics, waitedMs } },
  );
}

/** The shape of the library's errors that we rely on (GenericError / MultipleErrors). */
interface LibraryError extends Error {
  code?: unknown;
  canRetry?: unknown;
  apiId?: unknown;
  closed?: unknown;
  hasStaleMetadata?: unknown;
  needsRejoin?: unknown;
  errors?: unknown;
}

const authenticationApiIds = /SASL|AUTHENTICATION/;
const authorizationApiIds = /AUTHORIZATION_FAILED$/;
/**
 * Node's codes for a broker certificate that does not verify (OpenSSL's X509 names, plus Node's
 * own ERR_TLS_* / ERR_SSL_*). A connection refused for them is not an outage: retrying cannot help.
 */
const tlsCodes = /^(ERR_TLS_|ERR_SSL_)|CERT|UNABLE_TO_(VERIFY|GET)|_SIGNATURE/;

/**
 * The library nests errors: a retry loop wraps each attempt in MultipleErrors, a failed
 * connection wraps its SASL failure as `cause`, a broker response carries one ProtocolError per
 * partition. Classification needs every error in that tree.
 */
function flatten(err: unknown, out: LibraryError[] = [], depth = 0): LibraryError[] {
  if (!(err instanceof Error) || depth > 8) return out;
  const e = err as LibraryError;
  out.push(e);
  if (Array.isArray(e.errors)) for (const inner of e.errors) flatten(inner, out, depth + 1);
  if (e.cause !== undefined) flatten(e.cause, out, depth + 1);
  return out;
}

const isLibraryError = (e: LibraryError): boolean =>
  typeof e.code === 'string' && e.code.startsWith('PLT_KFK_');

/**
 * Maps anything thrown by `@platformatic/kafka` to an AppError with an `ERP_KAFKA_*` code.
 * Errors that already are AppErrors pass through unchanged.
 */
export function toKafkaError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const all = flatten(err);
  const lib = all.filter(isLibraryError);
  const message = err instanceof Error ? err.message : String(err);
  const make = (code: KafkaErrorCode, retryable: boolean, context: Record<string, unknown> = {}) =>
    new AppError(code, message, { retryable, cause: err, context });

  const protocol = lib.filter((e) => e.code === 'PLT_KFK_PROTOCOL');
  const apiIds = [...new Set(protocol.map((e) => String(e.apiId)))];

  if (
    lib.some((e) => e.code === 'PLT_KFK_AUTHENTICATION') ||
    apiIds.some((id) => authenticationApiIds.test(id))
  ) {
    return new AppError(KafkaErrorCodes.AUTHENTICATION, `SASL authentication failed (${message})`, {
      retryable: false,
      cause: err,
      context: apiIds.length > 0 ? { apiIds } : {},
    });
  }
  if (apiIds.some((id) => authorizationApiIds.test(id))) {
    const denied = apiIds.filter((id) => authorizationApiIds.test(id)).join(', ');
    return new AppError(
      KafkaErrorCodes.AUTHORIZATION,
      `the broker's ACLs do not allow this principal the request: ${denied} (${message})`,
      { retryable: false, cause: err, context: { apiIds } },
    );
  }
  // The library wraps the socket's error as the `cause` of a NetworkError.
  const tls = all.find((e) => typeof e.code === 'string' && tlsCodes.test(e.code));
  if (tls !== undefined) {
    return new AppError(
      KafkaErrorCodes.TLS,
      `TLS handshake with the broker failed: ${tls.message}`,
      {
        retryable: false,
        cause: err,
        context: { tlsCode: tls.code },
      },
    );
  }
  if (lib.some((e) => e.closed === true)) return make(KafkaErrorCodes.CLOSED, false);
  // In 2.12.1 metadata turns UNKNOWN_TOPIC_OR_PARTITION into a bare UserError('Unknown topic X.'),
  // dropping the protocol error; its message is the only mark left.
  const unknownTopic = lib.find(
    (e) => e.code === 'PLT_KFK_USER' && e.message.startsWith('Unknown topic '),
  );
  if (unknownTopic !== undefined || apiIds.includes('UNKNOWN_TOPIC_OR_PARTITION')) {
    return make(KafkaErrorCodes.UNKNOWN_TOPIC, true);
  }
  if (lib.some((e) => e.code === 'PLT_KFK_USER')) return make(KafkaErrorCodes.CONFIG, false);
  if (lib.some((e) => typeof e.code === 'string' && e.code.startsWith('PLT_KFK_UNSUPPORTED'))) {
    return make(KafkaErrorCodes.UNSUPPORTED, false);
  }
  if (protocol.length > 0) {
    // Stale metadata and rejoin conditions clear up after a refresh, whatever canRetry says.
    const retryable = protocol.every(
      (e) => e.canRetry === true || e.hasStaleMetadata === true || e.needsRejoin === true,
    );
    return make(KafkaErrorCodes.BROKER, retryable, { apiIds });
  }
  // TimeoutError carries code PLT_KFK_NETWORK with canRetry false in 2.12.1; for our callers a
  // timed-out request is as transient as a refused connection.
  if (lib.some((e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT')) {
    // Kafka unreachable is the infrastructure's fault, like a database gone: an outage.
    return new AppError(KafkaErrorCodes.CONNECTION, message, { outage: true, cause: err });
  }
  return make(KafkaErrorCodes.CLIENT, false);
}
