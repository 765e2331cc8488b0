/**
 * Distributed tracing with OpenTelemetry. Spans are made through the API (`@opentelemetry/api`);
 * the SDK (`@opentelemetry/sdk-node`, its exporters, sampler and resource detection, all from the
 * standard OTEL_* variables) is loaded only when OTEL_TRACES_EXPORTER names an exporter. Off, the
 * SDK is never imported and every helper here returns at its first line: `tracingOn()` is one
 * boolean read, so the hot paths (a request, a relay batch, a consumed record) pay nothing else.
 *
 * The trace of a business action: HTTP request → command transaction → outbox row (its headers keep
 * the writer's `traceparent`/`tracestate`) → relay `send` span, whose context goes into the Kafka
 * record's headers → consumer `process` span per record → handler and its transaction → the rows
 * it appends carry the record's context on (messaging/tracing.ts has the Kafka side).
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api';

export { SpanKind, SpanStatusCode };
export type { Attributes, Context, Link, Span };

export type TraceExporterName = 'otlp' | 'zipkin' | 'console';

export interface TracingSettings {
  /** OTEL_TRACES_EXPORTER without `none`; empty: tracing off (the default). */
  exporters: readonly TraceExporterName[];
  /** OTEL_SERVICE_NAME; unset: the service's own name (`inventory-service`, `sales-service`). */
  serviceName?: string;
}

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

let on = false;

/** Whether spans are being recorded in this process: hot paths check it before any tracing work. */
export function tracingOn(): boolean {
  return on;
}

/**
 * Starts the SDK when `settings` name an exporter. One per process: the SDK registers the global
 * tracer provider, context manager (AsyncLocalStorage) and W3C propagator.
 */
export async function startTracing(
  settings: TracingSettings,
  serviceName: string,
): Promise<Tracing> {
  if (settings.exporters.length === 0 || on) return { shutdown: () => Promise.resolve() };
  const [{ NodeSDK }, { envDetector }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
  ]);
  const sdk = new NodeSDK({
    serviceName: settings.serviceName ?? serviceName,
    instrumentations: [],
    // The SDK's default detectors add some twenty host, OS and process attributes, which the
    // Zipkin exporter copies into every span's tags: half of what Node serialized and Zipkin
    // parsed per span in the traced bench. Only OTEL_RESOURCE_ATTRIBUTES and the service name,
    // unless OTEL_NODE_RESOURCE_DETECTORS asks for more (the SDK reads it when we pass none).
    ...(process.env['OTEL_NODE_RESOURCE_DETECTORS'] ? {} : { resourceDetectors: [envDetector] }),
    // Traces only: our metrics are Prometheus' (prom-client) and our logs pino's. Without these
    // the SDK would also push metrics and logs over OTLP by default.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  on = true;
  return {
    async shutdown() {
      on = false;
      await sdk.shutdown();
    },
  };
}

/**
 * For tests that register their own provider (an in-memory exporter): turns the helpers on or off
 * without the SDK's exporters.
 */
export function setTracingOn(value: boolean): void {
  on = value;
}

/** The tracer of our spans; a no-op until a provider is registered. */
export const tracer: Tracer = trace.getTracer('erp-events');

/**
 * Runs `fn` in a new span, child of the active one, and ends it when `fn` settles (an error is
 * recorded on it and rethrown). With tracing off, just `fn()`.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  options: { kind?: SpanKind; parent?: Context; links?: Link[] } = {},
): Promise<T> {
  if (!on) return fn();
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes, links: options.links ?? [] },
    parent,
  );
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn();
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed with `err` (its code, when it is an AppError). */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  const code = (err as { code?: unknown } | null)?.code;
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof code === 'string' ? code : err instanceof Error ? err.message : String(err),
  });
}

/** `traceparent` (and `tracestate`) of `ctx`, default the active context; `{}` with tracing off. */
export function traceHeaders(ctx?: Context): Record<string, string> {
  if (!on) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(ctx ?? context.active(), carrier);
  return carrier;
}

/** The context `headers` carry (`traceparent`, `tracestate`), or the root context. */
export function contextFromHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>> | null | undefined,
): Context {
  return headers == null ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, headers);
}

/** The span context of `ctx` as a link, if it has a valid one. */
export function linkTo(ctx: Context): Link | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && trace.isSpanContextValid(spanContext)
    ? { context: spanContext }
    : undefined;
}

/** The active context (the root one outside any span). */
export function activeContext(): Context {
  return context.active();
}

/** Runs `fn` with `ctx` as the active context. */
export function runIn<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** `trace_id` and `span_id` of the active span, for log lines; `{}` when none or off. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  if (!on) return {};
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The context with `span` set, child of `parent`. */
export function contextWith(span: Span, parent: Context): Context {
  return trace.setSpan(parent, span);
}
