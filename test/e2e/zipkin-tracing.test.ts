/**
 * Tracing against a real trace backend, as deployed: `npm start` (scripts/start.ts, both services
 * as processes on the real broker) with OTEL_TRACES_EXPORTER=zipkin, a real Zipkin 3.4.2 (started
 * once by scripts/zipkin.ts and shared). One stock adjustment, sent with our own `traceparent`,
 * read back through Zipkin's HTTP API: one trace, spans of inventory-service and sales-service,
 * every parent link intact through Kafka.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureZipkin } from '../../scripts/zipkin.ts';
import { laptopBody } from '../inventory/fixtures.ts';
import { freePort } from '../support/ports.ts';
import { testBootstrap, uniqueName, waitUntil } from '../support/kafka.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  name: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

test(
  'one stock adjustment is one trace in Zipkin, across both services and Kafka',
  { timeout: 180_000 },
  async (t) => {
    const zipkin = await ensureZipkin();
    const dataDir = mkdtempSync(join(tmpdir(), 'erp-zipkin-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const [inventoryPort, salesPort] = [await freePort(), await freePort()];
    const inventoryTopic = uniqueName('inventory-events');
    const salesTopic = uniqueName('sales-events');
    const supervisor = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
        KAFKA_INVENTORY_TOPIC: inventoryTopic,
        KAFKA_SALES_TOPIC: salesTopic,
        KAFKA_CONSUMER_GROUP: uniqueName('sales-service-group'),
        DATA_DIR: dataDir,
        INVENTORY_PORT: String(inventoryPort),
        SALES_PORT: String(salesPort),
        AUTH_MODE: 'none',
        LOG_LEVEL: 'warn',
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkin.url}/api/v2/spans`,
        // The batch processor's default is 5 s between exports.
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    supervisor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    supervisor.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((done) => supervisor.once('exit', done));
    t.after(async () => {
      if (supervisor.exitCode !== null) return;
      supervisor.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      supervisor.kill('SIGKILL');
    });
    const deadline = Date.now() + 60_000;
    while (!output.includes('[start] ready:')) {
      assert.ok(supervisor.exitCode === null, `npm start exited:\n${output}`);
      assert.ok(Date.now() < deadline, `not ready within 60 s:\n${output}`);
      await sleep(100);
    }

    const tenant = uniqueName('tenant');
    const inventory = `http://127.0.0.1:${inventoryPort}`;
    const headers = { 'content-type': 'application/json', 'x-tenant-id': tenant };
    const created = await fetch(`${inventory}/api/v1/products`, {
      method: 'POST',
      headers,
      body: JSON.stringify(laptopBody),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const productId = ((await created.json()) as { id: string }).id;

    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const adjusted = await fetch(`${inventory}/api/v1/products/${productId}/stock-adjustments`, {
      method: 'POST',
      headers: { ...headers, traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ quantity_change: -92, reason: 'sale' }),
    });
    assert.equal(adjusted.status, 201, await adjusted.clone().text());

    // Zipkin lower-cases span names.
    const alertSend = `send ${salesTopic}`.toLowerCase();
    let spans: ZipkinSpan[] = [];
    await waitUntil(
      'the trace in Zipkin, down to the alert sent to sales-events',
      async () => {
        const res = await fetch(`${zipkin.url}/api/v2/trace/${traceId}`);
        spans = res.ok ? ((await res.json()) as ZipkinSpan[]) : [];
        return spans.some((s) => s.name === alertSend);
      },
      30_000,
    );

    const services = new Set(spans.map((s) => s.localEndpoint?.serviceName));
    assert.deepEqual([...services].sort(), ['inventory-service', 'sales-service']);
    assert.ok(spans.every((s) => s.traceId === traceId));

    const byId = new Map(spans.map((s) => [s.id, s]));
    for (const span of spans) {
      assert.ok(
        span.parentId === callerSpanId || (span.parentId !== undefined && byId.has(span.parentId)),
        `${span.name} (${span.localEndpoint?.serviceName}): its parent ${span.parentId} is in the trace`,
      );
    }
    const server = spans.find((s) => s.kind === 'SERVER');
    assert.equal(server?.parentId, callerSpanId, 'the HTTP span continues the caller trace');
    assert.equal(server?.localEndpoint?.serviceName, 'inventory-service');

    // Through Kafka: a sales-service consumer span whose parent is an inventory-service producer span.
    const consumers = spans.filter(
      (s) => s.kind === 'CONSUMER' && s.localEndpoint?.serviceName === 'sales-service',
    );
    assert.ok(consumers.length >= 1, 'sales-service consumer spans');
    for (const consumer of consumers) {
      const parent = byId.get(consumer.parentId ?? '');
      assert.equal(parent?.kind, 'PRODUCER');
      assert.equal(parent?.localEndpoint?.serviceName, 'inventory-service');
      assert.equal(parent?.name, `send ${inventoryTopic}`.toLowerCase());
      assert.equal(consumer.tags?.['messaging.system'], 'kafka');
      assert.equal(consumer.tags?.['messaging.destination.name'], inventoryTopic);
    }
    // And on to sales-events: the alert's send span descends from a consumer span.
    const send = spans.find((s) => s.name === alertSend)!;
    assert.equal(send.kind, 'PRODUCER');
    assert.ok(
      consumers.some((c) => c.id === send.parentId),
      'the alert send is a consumer span child',
    );
  },
);
