/**
 * A slow or stalled client cannot hold a socket for ever: the HTTP shell answers 408 in the one
 * error shape and closes the connection once HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS
 * pass, and closes idle keep-alive connections. On a real socket: inject() has no timeouts.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { buildService, defineService } from '../../../src/messaging/index.ts';
import type { EventProducer } from '../../../src/messaging/index.ts';
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  defineSettings,
  headerTenancy,
  loadServiceConfig,
} from '../../../src/platform/index.ts';
import type { Database, HttpSettings } from '../../../src/platform/index.ts';

async function listening(t: TestContext, timeouts: Partial<HttpSettings>): Promise<number> {
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
    timeouts,
  });
  server.app.post('/echo', (request) => ({ body: request.body }));
  t.after(() => server.app.close());
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return Number(new URL(address).port);
}

/** Writes `request` and never another byte; what the server sent, and when it closed. */
function stall(port: number, request: string): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after 10 s; got ${JSON.stringify(answer)}`));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
    socket.write(request);
  });
}

function assert408(answer: string): void {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 408 /);
  assert.match(head, /\r\ncontent-type: application\/json/i);
  const { error } = JSON.parse(body) as { error: Record<string, unknown> };
  assert.equal(error['code'], 'ERP_HTTP_REQUEST_TIMEOUT');
  assert.equal(error['retryable'], false);
}

test('headers, content-length: 100 and 7 bytes: 408 and the socket closed within seconds', async (t) => {
  const port = await listening(t, { requestTimeoutMs: 500, headersTimeoutMs: 500 });
  const { answer, closedAfterMs } = await stall(
    port,
    'POST /echo HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":1,',
  );
  assert408(answer);
  assert.ok(closedAfterMs >= 450, `not before the timeout (${closedAfterMs} ms)`);
  assert.ok(closedAfterMs < 3_000, `closed after ${closedAfterMs} ms`);
});

test('headers that never end: 408 after the headers timeout, not the request timeout', async (t) => {
  const port = await listening(t, { requestTimeoutMs: 20_000, headersTimeoutMs: 500 });
  const { answer, closedAfterMs } = await stall(port, 'GET /healthz HTTP/1.1\r\nhost: a\r\nx-a');
  assert408(answer);
  assert.ok(closedAfterMs < 3_000, `closed after ${closedAfterMs} ms`);
});

test('an idle keep-alive connection is closed after the keep-alive timeout', async (t) => {
  const port = await listening(t, { keepAliveTimeoutMs: 300 });
  const { answer, closedAfterMs } = await stall(port, 'GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200 /);
  // Node adds a second (keepAliveTimeoutBuffer) so that the client closes first.
  assert.ok(closedAfterMs < 3_000, `closed after ${closedAfterMs} ms`);
});

test('the service kit applies HTTP_*_TIMEOUT_MS from the configuration; defaults without it', (t) => {
  const definition = defineService<object, object, object>({
    name: 'timeouts-service',
    id: 'timeouts',
    settings: defineSettings({ variables: {}, settings: () => ({}) }),
    port: () => 0,
    databaseUrl: () => undefined,
    migrations: [],
    build: () => ({ exposed: {} }),
  });
  const { config, settings } = loadServiceConfig(definition.settings, {
    HTTP_REQUEST_TIMEOUT_MS: '7000',
    HTTP_HEADERS_TIMEOUT_MS: '3000',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '2000',
  });
  // Neither is used by a service without an outbox or a consumer until it starts.
  const service = buildService(definition, {
    config,
    settings,
    database: {} as Database<object>,
    producer: {} as EventProducer,
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    authenticator: headerTenancy(),
  });
  t.after(() => service.http.close());
  const server = service.http.server;
  assert.deepEqual(
    [server.requestTimeout, server.headersTimeout, server.keepAliveTimeout, server.timeout],
    [7_000, 3_000, 2_000, 14_000],
  );

  const bare = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
  });
  t.after(() => bare.app.close());
  assert.deepEqual(
    [
      bare.app.server.requestTimeout,
      bare.app.server.headersTimeout,
      bare.app.server.keepAliveTimeout,
    ],
    [30_000, 10_000, 5_000],
  );
});
