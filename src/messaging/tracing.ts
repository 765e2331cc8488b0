/**
 * The Kafka side of a trace (platform/tracing.ts has the rest): a PRODUCER span per record the
 * relay sends, parented by the context its outbox row kept, whose own context goes into the
 * record's `traceparent`/`tracestate` headers (beside `correlation_id`); a CONSUMER span per
 * record received, parented by those headers, and one span per batch that links them all (a batch
 * mixes many traces, so it is the root of a trace of its own). Attribute names are OpenTelemetry's
 * messaging semantic conventions (still "incubating" in @opentelemetry/semantic-conventions, whose
 * advice is to copy such names rather than import them).
 *
 * Called only with tracing on (`tracingOn()`): the callers check, so that off costs one boolean.
 */
import {
  activeContext,
  contextFromHeaders,
  contextWith,
  failSpan,
  linkTo,
  SpanKind,
  traceHeaders,
  tracer,
} from '../platform/index.ts';
import type { Context, Link, Span } from '../platform/index.ts';
import type { IncomingBatch, IncomingRecord, OutgoingRecord } from './kafka/index.ts';

const KAFKA = { 'messaging.system': 'kafka' } as const;

/** Spans of records being sent; ended when Kafka acknowledged them or the send failed. */
export interface SendSpans {
  end(): void;
  fail(err: unknown): void;
}

/**
 * Starts a `send <topic>` span per record, child of the context in the record's headers (its outbox
 * row's writer), and replaces those headers' trace context with the span's own: the consumer's span
 * becomes the send's child.
 */
export function startSendSpans(records: OutgoingRecord[]): SendSpans {
  const spans: Span[] = [];
  for (const record of records) {
    const parent = contextFromHeaders(record.headers);
    const span = tracer.startSpan(
      `send ${record.topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...KAFKA,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': record.topic,
          ...(typeof record.key === 'string' ? { 'messaging.kafka.message.key': record.key } : {}),
          ...messageIdOf(record.headers),
        },
      },
      parent,
    );
    record.headers = { ...record.headers, ...traceHeaders(contextWith(span, parent)) };
    spans.push(span);
  }
  return {
    end: () => spans.forEach((span) => span.end()),
    fail(err) {
      for (const span of spans) {
        failSpan(span, err);
        span.end();
      }
    },
  };
}

function messageIdOf(headers: Record<string, string> | undefined): Record<string, string> {
  const id = headers?.['event_id'];
  return id === undefined ? {} : { 'messaging.message.id': id };
}

/** Consumer spans of one record, by the record object the batch handed over. */
const recordContexts = new WeakMap<IncomingRecord, Context>();

/** The spans of one batch being processed. */
export interface BatchTrace {
  /** The batch span's context: run the batch's work in it. */
  context: Context;
  /** Ends every span; `failed` records (dead-lettered) get an error status. */
  end(failed: ReadonlyArray<{ record: IncomingRecord; error: unknown }>): void;
}

/**
 * A `process <topic>` span for the batch (a new trace, linked to every record's sender) and one per
 * record, child of the sender's context in its headers and linked to the batch span.
 */
export function startBatchTrace(batch: IncomingBatch, groupId: string): BatchTrace {
  const common = {
    ...KAFKA,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': batch.topic,
    'messaging.destination.partition.id': String(batch.partition),
    'messaging.consumer.group.name': groupId,
  };
  const parents = batch.records.map((record) => contextFromHeaders(record.headers));
  const batchSpan = tracer.startSpan(`process ${batch.topic}`, {
    kind: SpanKind.CONSUMER,
    attributes: { ...common, 'messaging.batch.message_count': batch.records.length },
    links: parents.map(linkTo).filter((l): l is Link => l !== undefined),
    root: true,
  });
  const batchContext = contextWith(batchSpan, activeContext());
  const batchLink = linkTo(batchContext);
  const spans = batch.records.map((record, i) => {
    const parent = parents[i]!;
    const span = tracer.startSpan(
      `process ${batch.topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...common,
          'messaging.kafka.offset': Number(record.offset),
          ...(record.key === null
            ? {}
            : { 'messaging.kafka.message.key': record.key.toString('utf8') }),
          ...messageIdOf(record.headers),
        },
        links: batchLink === undefined ? [] : [batchLink],
      },
      parent,
    );
    recordContexts.set(record, contextWith(span, parent));
    return span;
  });
  return {
    context: batchContext,
    end(failed) {
      for (const { record, error } of failed) {
        const i = batch.records.indexOf(record);
        if (i >= 0) failSpan(spans[i]!, error);
      }
      for (const span of spans) span.end();
      batchSpan.end();
    },
  };
}

/** The context of `record`'s consumer span; undefined when it has none (tracing off). */
export function recordContextOf(record: IncomingRecord): Context | undefined {
  return recordContexts.get(record);
}

/**
 * `traceparent`/`tracestate` of the span that processes `record`, for the events its handler
 * appends to an outbox: the trace goes on through the next topic. `{}` with tracing off.
 */
export function traceHeadersOf(record: IncomingRecord): Record<string, string> {
  const ctx = recordContexts.get(record);
  return ctx === undefined ? {} : traceHeaders(ctx);
}
