/**
 * scripts/zipkin.ts gives a Zipkin that takes spans and gives them back: the script's proof, not
 * the tracing test. Zipkin is shared with every other test file: started if needed, never stopped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ensureZipkin } from '../../scripts/zipkin.ts';
import { waitUntil } from '../support/kafka.ts';

test('ensureZipkin: a span POSTed to /api/v2/spans comes back from /api/v2/trace/<id>', async () => {
  const zipkin = await ensureZipkin();
  assert.match(zipkin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(await ensureZipkin(), zipkin, 'a second call finds the running one');

  const traceId = randomBytes(16).toString('hex');
  const span = {
    traceId,
    id: randomBytes(8).toString('hex'),
    name: 'post /api/v1/products',
    kind: 'SERVER',
    timestamp: Date.now() * 1000,
    duration: 1500,
    localEndpoint: { serviceName: 'zipkin-script-test' },
    tags: { 'http.method': 'POST' },
  };
  const posted = await fetch(`${zipkin.url}/api/v2/spans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([span]),
  });
  assert.equal(posted.status, 202, await posted.text());

  // The collector stores asynchronously: the trace appears shortly after the 202.
  let trace: unknown[] = [];
  await waitUntil(
    'the trace stored',
    async () => {
      const res = await fetch(`${zipkin.url}/api/v2/trace/${traceId}`);
      if (res.status !== 200) return false;
      trace = (await res.json()) as unknown[];
      return trace.length === 1;
    },
    10_000,
  );
  assert.deepEqual(trace, [span]);
});
