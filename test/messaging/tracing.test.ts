/**
 * One business action, one trace, through both services and Kafka: both services in this process
 * on the real broker, the real OpenTelemetry SDK recording into memory. The caller sends its own
 * `traceparent`; every span of the low-stock path must be in that trace, each parented by the
 * span that caused it, through `inventory-events` and on to `sales-events`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createConsumer } from '../../src/messaging/kafka/index.ts';
import type { IncomingRecord } from '../../src/messaging/kafka/index.ts';
import { setTracingOn, SpanKind, traceLogFields, withSpan } from '../../src/platform/index.ts';
import { laptopBody } from '../inventory/fixtures.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const exporter = new InMemorySpanExporter();
const sdk = new NodeSDK({
  serviceName: 'tracing-test',
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
  metricReaders: [],
  logRecordProcessors: [],
});
let system: TestSystem;
const cleanups: Array<() => unknown> = [];

before(async () => {
  sdk.start();
  // Before the services are built: the HTTP shell adds its hooks only when tracing is on.
  setTracingOn(true);
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  for (const fn of cleanups) await fn();
  setTracingOn(false);
  await sdk.shutdown();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

test('a stock adjustment is one trace: HTTP → command → send inventory-events → process → handler → send sales-events', async () => {
  const tenant = uniqueName('tenant');
  const headers = await system.headers(tenant);
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: laptopBody,
  });
  assert.equal(created.statusCode, 201);
  const productId: string = created.json().id;

  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const adjusted = await system.inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${productId}/stock-adjustments`,
    headers: { ...headers, traceparent: `00-${traceId}-${callerSpanId}-01` },
    payload: { quantity_change: -92, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201);

  const inTrace = () =>
    exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const salesSend = () =>
    inTrace().find((s) => s.name === `send ${system.config.kafka.salesTopic}`);
  await waitUntil(
    'the alert sent to sales-events in the trace',
    () => salesSend() !== undefined,
    20_000,
  ).catch((err: unknown) => {
    const all = exporter.getFinishedSpans().map((s) => `${s.name} ${s.spanContext().traceId}`);
    throw new Error(`${String(err)}; spans: ${all.join('; ')}`);
  });

  const spans = inTrace();
  const one = (predicate: (s: ReadableSpan) => boolean, what: string): ReadableSpan => {
    const found = spans.filter(predicate);
    assert.equal(found.length, 1, `${what}: ${spans.map((s) => s.name).join(', ')}`);
    return found[0]!;
  };
  const server = one((s) => s.kind === SpanKind.SERVER, 'HTTP server span');
  assert.equal(server.name, 'POST /api/v1/products/:id/stock-adjustments');
  assert.equal(parentOf(server), callerSpanId, 'the caller is the HTTP span parent');
  assert.equal(server.attributes['http.response.status_code'], 201);

  const command = one((s) => s.name === 'inventory adjust', 'command span');
  assert.equal(parentOf(command), idOf(server));

  const inventoryTopic = system.config.kafka.inventoryTopic;
  const sends = spans.filter((s) => s.name === `send ${inventoryTopic}`);
  // The adjustment appends inventory.stock_adjusted and inventory.low_stock.
  assert.equal(sends.length, 2, 'one send span per event');
  for (const send of sends) {
    assert.equal(send.kind, SpanKind.PRODUCER);
    assert.equal(parentOf(send), idOf(command), 'the outbox row kept the command span');
    assert.equal(send.attributes['messaging.system'], 'kafka');
    assert.equal(send.attributes['messaging.destination.name'], inventoryTopic);
    assert.equal(send.attributes['messaging.kafka.message.key'], productId);
  }

  const processes = spans.filter(
    (s) => s.kind === SpanKind.CONSUMER && s.name === `process ${inventoryTopic}`,
  );
  assert.equal(processes.length, 2, 'one consumer span per record');
  for (const p of processes) {
    assert.ok(
      sends.some((send) => idOf(send) === parentOf(p)),
      'each consumer span is the child of a send span, through the record headers',
    );
    assert.equal(p.attributes['messaging.consumer.group.name'], system.consumerGroup);
    assert.equal(typeof p.attributes['messaging.kafka.offset'], 'number');
    assert.equal(p.attributes['messaging.destination.partition.id'] !== undefined, true);
    assert.equal(p.links.length, 1, 'linked to its batch span');
  }

  const handler = one((s) => s.name === 'handle inventory.low_stock', 'low-stock handler span');
  const lowStockProcess = processes.find((p) => {
    let at: ReadableSpan | undefined = handler;
    while (at !== undefined && idOf(at) !== idOf(p))
      at = spans.find((s) => idOf(s) === parentOf(at!));
    return at !== undefined;
  });
  assert.ok(lowStockProcess, 'the handler span descends from the low-stock record span');

  const alertSend = salesSend()!;
  assert.equal(alertSend.kind, SpanKind.PRODUCER);
  assert.equal(parentOf(alertSend), idOf(lowStockProcess), 'the alert goes on in the record trace');

  // The batch spans are roots of their own traces, linked to the records' send spans.
  const batches = exporter
    .getFinishedSpans()
    .filter(
      (s) =>
        s.name === `process ${inventoryTopic}` &&
        s.attributes['messaging.batch.message_count'] !== undefined &&
        s.links.some((l) => l.context.traceId === traceId),
    );
  assert.ok(batches.length >= 1, 'a batch span links the records');
  for (const batch of batches) assert.equal(parentOf(batch), undefined);

  // What Sales-events consumers see: the alert record's traceparent is the send span's.
  const records: IncomingRecord[] = [];
  const reader = createConsumer(system.conn, {
    groupId: uniqueName('reader'),
    topics: [system.config.kafka.salesTopic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  const reading = reader.run((batch) => {
    records.push(...batch.records);
    return Promise.resolve();
  });
  await waitUntil('the alert record', () => records.length > 0, 20_000);
  await reader.close();
  await reading;
  assert.equal(records[0]!.headers['traceparent'], `00-${traceId}-${idOf(alertSend)}-01`);
  assert.equal(typeof records[0]!.headers['correlation_id'], 'string');
});

test('log fields carry the active trace and span ids, none outside a span', async () => {
  assert.deepEqual(traceLogFields(), {});
  await withSpan('outer', {}, () => {
    const fields = traceLogFields();
    assert.match(fields.trace_id ?? '', /^[0-9a-f]{32}$/);
    assert.match(fields.span_id ?? '', /^[0-9a-f]{16}$/);
    return Promise.resolve();
  });
});
