/**
 * Dead letters: a record this consumer can never apply goes to `<topic><suffix>` with its key and
 * value bytes untouched (so it can be replayed once fixed) and `dlq.*` headers saying why.
 */
import { isContractError } from '../contract/index.ts';
import { isAppError } from '../platform/index.ts';
import { MessagingErrorCodes } from './errors.ts';
import type { EventProducer, IncomingRecord, RawOutgoingRecord } from './kafka/index.ts';

export interface DeadLetterOptions {
  /** Consumer group that gave up, for `dlq.consumer.group`. Required. */
  groupId: string;
  /** Appended to the record's topic. Default: '.dlq'. */
  topicSuffix?: string;
  /** Times processing was tried. Default: 1. */
  attempts?: number;
  /** Default: now. */
  firstFailureAt?: Date;
  /** Default: now. */
  lastFailureAt?: Date;
}

export interface ErrorSummary {
  code: string;
  message: string;
  retryable: boolean;
}

/** Headers hold text; a stack of zod issues or an SQL statement must not bloat the record. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

/** The stable code, message and retryability of anything thrown. */
export function summarizeError(err: unknown): ErrorSummary {
  if (isAppError(err) || isContractError(err)) {
    return { code: err.code, message: err.message, retryable: err.retryable };
  }
  const message = err instanceof Error ? err.message : String(err);
  // A raw driver error (e.g. pg's) carries its SQLSTATE as `code`: keep it in the text.
  const code = (err as { code?: unknown } | null)?.code;
  return {
    code: MessagingErrorCodes.UNEXPECTED,
    message: typeof code === 'string' ? `${message} (code ${code})` : message,
    retryable: false,
  };
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character, marking the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const room = new Uint8Array(Math.max(0, maxBytes - Buffer.byteLength(ellipsis)));
  // encodeInto writes whole characters only (surrogate pairs stay together); `read` counts the
  // UTF-16 units that fit.
  const { read } = new TextEncoder().encodeInto(text, room);
  return text.slice(0, read) + ellipsis;
}

/** The dead letter for `record` as a producer record, for callers that send several at once. */
export function deadLetterRecord(
  record: IncomingRecord,
  err: unknown,
  options: DeadLetterOptions,
): RawOutgoingRecord {
  const now = new Date();
  const error = summarizeError(err);
  return {
    topic: `${record.topic}${options.topicSuffix ?? '.dlq'}`,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      'dlq.original.topic': record.topic,
      'dlq.original.partition': String(record.partition),
      'dlq.original.offset': String(record.offset),
      // The record's own Kafka timestamp, ms since the epoch like Kafka's; the failures are ISO-8601.
      'dlq.original.timestamp': String(record.timestamp),
      'dlq.consumer.group': options.groupId,
      'dlq.error.code': error.code,
      'dlq.error.message': truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES),
      'dlq.error.retryable': String(error.retryable),
      'dlq.attempts': String(options.attempts ?? 1),
      'dlq.first.failure': (options.firstFailureAt ?? now).toISOString(),
      'dlq.last.failure': (options.lastFailureAt ?? now).toISOString(),
    },
  };
}

/**
 * Sends one dead letter; resolves once Kafka acknowledged it, rejects with the producer's
 * `ERP_KAFKA_*` error (one attempt: the caller decides how to retry, and must not commit the
 * record's offset before this resolved).
 */
export async function deadLetter(
  producer: EventProducer,
  record: IncomingRecord,
  err: unknown,
  options: DeadLetterOptions,
): Promise<void> {
  await producer.send([deadLetterRecord(record, err, options)]);
}
