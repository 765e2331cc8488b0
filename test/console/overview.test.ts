/**
 * The overview poller against the real broker and a service that is not there: the lag per
 * partition comes from Kafka whatever the services do, a service that does not answer is shown
 * down with the reason, and the time series keeps only its last points.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOverviewPoller } from '../../src/console/overview.ts';
import { createUpstream } from '../../src/console/upstream.ts';
import { ensureTopics } from '../../src/messaging/index.ts';
import { createLogger, loadConfig } from '../../src/platform/index.ts';
import { produceToPartitions, testBootstrap, uniqueName } from '../support/kafka.ts';
import { freePort } from '../support/ports.ts';

test('lag per partition from Kafka, a silent service shown down, a bounded series', async (t) => {
  const conn = { clientId: uniqueName('overview-test'), bootstrapServers: await testBootstrap() };
  const topic = uniqueName('overview');
  await ensureTopics(conn, [{ name: topic, partitions: 2, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [3, 1]);
  const nowhere = `http://127.0.0.1:${await freePort()}`;
  const poller = createOverviewPoller({
    services: [{ name: 'inventory', url: nowhere }],
    conn,
    groupId: uniqueName('overview-group'),
    topics: [topic],
    upstream: await createUpstream(loadConfig({ AUTH_MODE: 'none' })),
    pollMs: 60_000,
    historyPoints: 2,
    logger: createLogger('test', 'silent'),
  });
  t.after(() => poller.stop());

  const first = await poller.poll();
  assert.deepEqual(
    first.lag.partitions.map((p) => [p.partition, p.lag, p.committed, p.end]),
    [
      [0, '3', null, '3'],
      [1, '1', null, '1'],
    ],
  );
  const [service] = first.services;
  assert.equal(service?.up, false);
  assert.equal(service?.ready, false);
  assert.match(service?.metricsError ?? '', /did not answer/);
  assert.deepEqual(first.lag.series.labels, [`${topic}[0]`, `${topic}[1]`]);

  await poller.poll();
  const third = await poller.poll();
  assert.equal(third.lag.series.data.length, 3, 'times, then one series per partition');
  for (const column of third.lag.series.data) assert.equal(column.length, 2, 'the last 2 points');
  assert.deepEqual(third.lag.series.data.slice(1), [
    [3, 3],
    [1, 1],
  ]);
  assert.deepEqual(poller.current(), third);
});
