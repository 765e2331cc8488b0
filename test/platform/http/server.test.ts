import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHttpServer } from '../../../src/platform/index.ts';
import { createLogger } from '../../../src/platform/index.ts';
import { createMetricsRegistry } from '../../../src/platform/index.ts';

test('while draining, a request in flight finishes and new ones get 503 ERP_HTTP_DRAINING', async (t) => {
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
  });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let entered: () => void = () => {};
  const inside = new Promise<void>((resolve) => (entered = resolve));
  server.app.get('/slow', async () => {
    entered();
    await released;
    return { done: true };
  });
  t.after(() => server.app.close());

  const inFlight = server.app.inject({ url: '/slow' });
  await inside;
  server.drain();
  const refused = await server.app.inject({ url: '/slow' });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.json().error.code, 'ERP_HTTP_DRAINING');
  assert.equal(refused.headers.connection, 'close', 'the client is told not to reuse the socket');
  release();
  const finished = await inFlight;
  assert.equal(finished.statusCode, 200);
  assert.deepEqual(finished.json(), { done: true });
});
