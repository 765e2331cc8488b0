import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContractError } from '../../../src/contract/index.ts';
import { AppError, createHttpServer, headerTenancy } from '../../../src/platform/index.ts';
import { createLogger } from '../../../src/platform/index.ts';
import { createMetricsRegistry } from '../../../src/platform/index.ts';

test('while draining, a request in flight finishes and new ones get 503 ERP_HTTP_DRAINING', async (t) => {
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
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
  let drained = false;
  const draining = server.drain().then(() => (drained = true));
  const refused = await server.app.inject({ url: '/slow' });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.json().error.code, 'ERP_HTTP_DRAINING');
  assert.equal(refused.headers.connection, 'close', 'the client is told not to reuse the socket');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, false, 'drain() waits for the request in flight');
  release();
  const finished = await inFlight;
  assert.equal(finished.statusCode, 200);
  assert.deepEqual(finished.json(), { done: true });
  await draining;
  assert.equal(drained, true);
});

test('a coded error gets the status of its code: the service table, else 500, or 503 for an outage', async (t) => {
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
    errorStatuses: { ERP_TEST_GONE: 410 },
  });
  t.after(() => server.app.close());
  const errors: Record<string, Error> = {
    gone: new AppError('ERP_TEST_GONE', 'gone'),
    unknown: new AppError('ERP_TEST_OTHER', 'other'),
    outage: new AppError('ERP_DB_CONNECTION_LOST', 'lost', { outage: true }),
    input: new AppError('ERP_HTTP_INVALID_INPUT', 'bad'),
    contract: new ContractError('ERP_EVT_INVALID_PAYLOAD', 'bad payload'),
    bug: new TypeError('x is undefined'),
  };
  for (const [name, err] of Object.entries(errors)) {
    server.app.get(`/${name}`, () => Promise.reject(err));
  }
  const answers: Record<string, [number, string]> = {};
  for (const name of Object.keys(errors)) {
    const res = await server.app.inject({ url: `/${name}` });
    answers[name] = [res.statusCode, res.json().error.code];
  }
  assert.deepEqual(answers, {
    gone: [410, 'ERP_TEST_GONE'],
    unknown: [500, 'ERP_TEST_OTHER'],
    outage: [503, 'ERP_DB_CONNECTION_LOST'],
    input: [400, 'ERP_HTTP_INVALID_INPUT'],
    contract: [400, 'ERP_EVT_INVALID_PAYLOAD'],
    bug: [500, 'ERP_INTERNAL'],
  });
});
