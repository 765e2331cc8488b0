/**
 * A dead letter as the operator sees it: the `dlq.*` headers written by
 * src/messaging/dead-letter.ts, typed, plus what identifies the event. A record written by
 * another tool may lack any of them, so every field but the position is optional.
 */
import type { IncomingRecord } from '../messaging/index.ts';

export interface DeadLetterView {
  /** Position in the dead-letter topic. */
  partition: number;
  offset: bigint;
  /** When it was dead-lettered: the dead-letter record's Kafka timestamp. */
  time: Date;
  code?: string;
  message?: string;
  retryable?: boolean;
  eventType?: string;
  eventId?: string;
  tenantId?: string;
  original: { topic?: string; partition?: number; offset?: bigint; timestamp?: Date };
  consumerGroup?: string;
  attempts?: number;
  firstFailure?: Date;
  lastFailure?: Date;
  record: IncomingRecord;
}

/** Every criterion given must hold; `since` is inclusive, `until` exclusive (dead-letter time). */
export interface DeadLetterFilter {
  code?: string;
  eventType?: string;
  tenant?: string;
  since?: Date;
  until?: Date;
  /** Only these dead letters, as `<partition>:<offset>` (what the console's selection sends). */
  positions?: readonly string[];
}

export const DLQ_HEADER_PREFIX = 'dlq.';

const integer = (text: string | undefined): number | undefined =>
  text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;

const date = (text: string | undefined): Date | undefined => {
  if (text === undefined) return undefined;
  const d = /^\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * The envelope's `metadata`, read leniently: a record without the contract's headers (written by
 * another client) can still be found by event type or tenant when its value is the JSON envelope.
 */
function metadataOf(value: Buffer | null): Record<string, unknown> {
  if (value === null || value.length === 0 || value[0] !== 0x7b /* { */) return {};
  try {
    const doc = JSON.parse(value.toString('utf8')) as { metadata?: unknown };
    return typeof doc.metadata === 'object' && doc.metadata !== null
      ? (doc.metadata as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export function viewDeadLetter(record: IncomingRecord): DeadLetterView {
  const h = record.headers;
  const metadata = metadataOf(record.value);
  const retryable = h['dlq.error.retryable'];
  const originalOffset = h['dlq.original.offset'];
  return {
    partition: record.partition,
    offset: record.offset,
    time: new Date(record.timestamp),
    code: text(h['dlq.error.code']),
    message: h['dlq.error.message'],
    retryable: retryable === undefined ? undefined : retryable === 'true',
    eventType: text(h['event_type']) ?? text(metadata['event_type']),
    eventId: text(h['event_id']) ?? text(metadata['event_id']),
    tenantId: text(h['tenant_id']) ?? text(metadata['tenant_id']),
    original: {
      topic: text(h['dlq.original.topic']),
      partition: integer(h['dlq.original.partition']),
      offset:
        originalOffset !== undefined && /^\d+$/.test(originalOffset)
          ? BigInt(originalOffset)
          : undefined,
      timestamp: date(h['dlq.original.timestamp']),
    },
    consumerGroup: text(h['dlq.consumer.group']),
    attempts: integer(h['dlq.attempts']),
    firstFailure: date(h['dlq.first.failure']),
    lastFailure: date(h['dlq.last.failure']),
    record,
  };
}

export function matchesFilter(view: DeadLetterView, filter: DeadLetterFilter): boolean {
  if (filter.code !== undefined && view.code !== filter.code) return false;
  if (filter.eventType !== undefined && view.eventType !== filter.eventType) return false;
  if (filter.tenant !== undefined && view.tenantId !== filter.tenant) return false;
  if (filter.since !== undefined && view.time < filter.since) return false;
  if (filter.until !== undefined && view.time >= filter.until) return false;
  if (
    filter.positions !== undefined &&
    !filter.positions.includes(`${view.partition}:${view.offset}`)
  )
    return false;
  return true;
}

/** The headers a redriven record carries: the original ones, without the dead-letter's. */
export function originalHeaders(view: DeadLetterView): Record<string, string> {
  return Object.fromEntries(
    Object.entries(view.record.headers).filter(([name]) => !name.startsWith(DLQ_HEADER_PREFIX)),
  );
}
