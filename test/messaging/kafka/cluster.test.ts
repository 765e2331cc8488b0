/**
 * The cluster as the console's Topics page shows it, from the real broker: a topic's partitions
 * with their log start and high watermark, and a running group with its member and assignment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClusterReader } from '../../../src/messaging/kafka/cluster.ts';
import { createConsumer, ensureTopics } from '../../../src/messaging/kafka/index.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/index.ts';
import { produceToPartitions, testBootstrap, uniqueName, waitUntil } from '../../support/kafka.ts';

test('topics with partitions and watermarks, groups with members and assignments', async (t) => {
  const conn: KafkaConnectionOptions = {
    clientId: uniqueName('cluster-test'),
    bootstrapServers: await testBootstrap(),
  };
  const topic = uniqueName('cluster');
  const groupId = uniqueName('cluster-group');
  await ensureTopics(conn, [{ name: topic, partitions: 2, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [3, 1]);
  const reader = createClusterReader(conn);
  t.after(() => reader.close());

  const before = await reader.read();
  const shown = before.topics.find((x) => x.name === topic);
  assert.deepEqual(
    shown?.partitions.map((p) => [p.partition, p.start, p.end, p.isr.length > 0]),
    [
      [0, '0', '3', true],
      [1, '0', '1', true],
    ],
  );
  assert.ok(before.brokers.length >= 1);
  assert.ok(!before.topics.some((x) => x.name.startsWith('__')), 'no internal topics');

  const consumer = createConsumer(conn, {
    groupId,
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  let seen = 0;
  const running = consumer.run((batch) => {
    seen += batch.records.length;
    return Promise.resolve();
  });
  t.after(async () => {
    await consumer.close();
    await running;
  });
  await waitUntil('4 records read', () => seen === 4);
  await waitUntil('the group has its member', async () => {
    const group = (await reader.read()).groups.find((g) => g.id === groupId);
    return group?.members.length === 1;
  });
  const group = (await reader.read()).groups.find((g) => g.id === groupId)!;
  assert.equal(group.state, 'Stable');
  assert.deepEqual(group.members[0]?.assignment, [`${topic}: 0,1`]);
});
