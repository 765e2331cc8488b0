/**
 * What the HTTP shell refuses before a route runs (Fastify's router and body parser, Node's HTTP
 * parser) answers in the one error shape with a documented code. Node's parser errors never reach
 * inject(), so those requests are written on a real socket.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  headerTenancy,
} from '../../../src/platform/index.ts';
import type { HttpServer } from '../../../src/platform/index.ts';

function shell(t: TestContext): HttpServer {
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
  });
  server.app.get('/api/v1/products/:id', (request) => request.params);
  server.app.post('/echo', (request) => ({ body: request.body }));
  t.after(() => server.app.close());
  return server;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` as is on a new connection; the answer once the server closes it. */
function exchange(port: number, request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s; got ${Buffer.concat(chunks).toString()}`));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer is fine: the answer is what we test
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString();
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [
          l.slice(0, l.indexOf(':')).toLowerCase(),
          l.slice(l.indexOf(':') + 1).trim(),
        ]),
      );
      let body = rest.join('\r\n\r\n');
      if (headers['transfer-encoding'] === 'chunked') {
        body = body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '');
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(request);
  });
}

async function listening(server: HttpServer): Promise<number> {
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return Number(new URL(address).port);
}

function assertShape(
  answer: { status: number; contentType: string | undefined; body: string },
  status: number,
  code: string,
): Record<string, unknown> {
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.contentType ?? '', /^application\/json/);
  const { error } = JSON.parse(answer.body) as { error: Record<string, unknown> };
  assert.equal(error['code'], code);
  assert.equal(error['retryable'], false);
  assert.equal(typeof error['message'], 'string');
  return error;
}

test("the router's refusals: a path parameter too long is 414, a bad percent-encoding 400", async (t) => {
  const { app } = shell(t);
  const cases: [string, number, string, string][] = [
    [
      `/api/v1/products/${'a'.repeat(101)}`,
      414,
      'ERP_HTTP_URI_TOO_LONG',
      'FST_ERR_MAX_PARAM_LENGTH',
    ],
    ['/api/v1/products/%E0%A4%A', 400, 'ERP_HTTP_MALFORMED_REQUEST', 'FST_ERR_BAD_URL'],
  ];
  for (const [url, status, code, reason] of cases) {
    const res = await app.inject({ url });
    const error = assertShape(
      { status: res.statusCode, contentType: res.headers['content-type'], body: res.body },
      status,
      code,
    );
    assert.equal(error['reason'], reason);
  }
  const fine = await app.inject({ url: `/api/v1/products/${'a'.repeat(100)}` });
  assert.equal(fine.statusCode, 200, 'the limit itself is accepted');
});

test('a JSON body with a prototype key is refused as such, not as "not valid JSON"', async (t) => {
  const { app } = shell(t);
  const post = (payload: string) =>
    app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload,
    });
  for (const payload of [
    '{"__proto__":{"admin":true}}',
    '{"a":[{"__proto__":{}}]}',
    '{"constructor":{"prototype":{"admin":true}}}',
  ]) {
    const res = await post(payload);
    const error = assertShape(
      { status: res.statusCode, contentType: res.headers['content-type'], body: res.body },
      400,
      'ERP_HTTP_FORBIDDEN_KEY',
    );
    assert.match(String(error['message']), /__proto__/, payload);
  }
  const invalid = await post('{"a":');
  assert.equal(invalid.statusCode, 400);
  assert.equal(invalid.json().error.code, 'ERP_HTTP_BAD_REQUEST', 'invalid JSON is still that');
  const innocent = await post('{"constructor":"Ada","name":"proto"}');
  assert.equal(innocent.statusCode, 200);
  assert.deepEqual(innocent.json(), { body: { constructor: 'Ada', name: 'proto' } });
});

test("what Node's HTTP parser refuses answers in our shape on the socket, then closes it", async (t) => {
  const server = shell(t);
  const port = await listening(server);
  const cases: [string, string, number, string, string | undefined][] = [
    [
      'a malformed request line',
      'GARBAGE\r\n\r\n',
      400,
      'ERP_HTTP_MALFORMED_REQUEST',
      'HPE_INVALID_METHOD',
    ],
    [
      'Content-Length with Transfer-Encoding',
      'POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'ERP_HTTP_MALFORMED_REQUEST',
      'HPE_INVALID_TRANSFER_ENCODING',
    ],
    [
      'headers over 16 KiB',
      `GET /healthz HTTP/1.1\r\nhost: a\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'ERP_HTTP_HEADERS_TOO_LARGE',
      'HPE_HEADER_OVERFLOW',
    ],
    [
      'a request line over 16 KiB',
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nhost: a\r\n\r\n`,
      431,
      'ERP_HTTP_HEADERS_TOO_LARGE',
      'HPE_HEADER_OVERFLOW',
    ],
    [
      'HTTP/1.1 without Host',
      'GET /healthz HTTP/1.1\r\n\r\n',
      400,
      'ERP_HTTP_MALFORMED_REQUEST',
      'MISSING_HOST',
    ],
    [
      'an Expect other than 100-continue',
      'POST /echo HTTP/1.1\r\nhost: a\r\nexpect: teapot\r\ncontent-length: 2\r\n\r\n{}',
      417,
      'ERP_HTTP_EXPECTATION_FAILED',
      undefined,
    ],
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nhost: example.com\r\n\r\n',
      404,
      'ERP_HTTP_NOT_FOUND',
      undefined,
    ],
  ];
  for (const [what, request, status, code, reason] of cases) {
    const answer = await exchange(port, request);
    const error = assertShape(
      { status: answer.status, contentType: answer.headers['content-type'], body: answer.body },
      status,
      code,
    );
    assert.equal(error['reason'], reason, what);
  }
  const after = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(after.status, 200, 'the server still serves');
});
