import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRangeConsumer, ensureTopics } from '../../../src/messaging/kafka/index.ts';
import type { IncomingBatch } from '../../../src/messaging/kafka/index.ts';
import { isAppError } from '../../../src/platform/index.ts';
import { produceToPartitions, testBootstrap, uniqueName } from '../../support/kafka.ts';

test('reads exactly the ranges, in batches per partition, and resolves when done', async () => {
  const conn = { clientId: 'range-consumer-test', bootstrapServers: await testBootstrap() };
  const topic = uniqueName('range-consumer');
  await ensureTopics(conn, [{ name: topic, partitions: 3, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [10, 7, 5]);
  const consumer = createRangeConsumer(conn, {
    topic,
    groupId: uniqueName('range-group'),
    ranges: [
      { partition: 0, start: 2n, end: 9n },
      { partition: 1, start: 0n, end: 7n },
      { partition: 2, start: 5n, end: 5n },
    ],
    maxBatchSize: 3,
    filter: (r) => r.value?.toString() !== 'v4',
  });
  const batches: IncomingBatch[] = [];
  await consumer.run(async (batch) => {
    await Promise.resolve();
    batches.push(batch);
  });
  assert.ok(batches.every((b) => b.records.length <= 3 && b.records.length > 0));
  const seen = (p: number) =>
    batches.filter((b) => b.partition === p).flatMap((b) => b.records.map((r) => Number(r.offset)));
  assert.deepEqual(seen(0), [2, 3, 5, 6, 7, 8]);
  assert.deepEqual(seen(1), [0, 1, 2, 3, 5, 6]);
  assert.deepEqual(seen(2), []);
  assert.deepEqual(await consumer.finished, { read: 14, filtered: 2 });
});

test('a handler failure ends run() with that error', async () => {
  const conn = { clientId: 'range-consumer-test', bootstrapServers: await testBootstrap() };
  const topic = uniqueName('range-consumer');
  await ensureTopics(conn, [{ name: topic, partitions: 1, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [3]);
  const consumer = createRangeConsumer(conn, {
    topic,
    groupId: uniqueName('range-group'),
    ranges: [{ partition: 0, start: 0n, end: 3n }],
  });
  await assert.rejects(
    consumer.run(() => Promise.reject(new Error('handler broke'))),
    /handler broke/,
  );
  await assert.rejects(consumer.finished, /handler broke/);
  assert.equal(isAppError(await consumer.finished.catch((e: unknown) => e)), false);
});

test('nothing to read resolves at once; close before run does not hang', async () => {
  const conn = { clientId: 'range-consumer-test', bootstrapServers: await testBootstrap() };
  const idle = createRangeConsumer(conn, { topic: 'unused', groupId: 'g', ranges: [] });
  await idle.run(() => Promise.resolve());
  assert.deepEqual(await idle.finished, { read: 0, filtered: 0 });
  const never = createRangeConsumer(conn, {
    topic: 'unused',
    groupId: 'g',
    ranges: [{ partition: 0, start: 0n, end: 1n }],
  });
  await never.close();
  assert.deepEqual(await never.finished, { read: 0, filtered: 0 });
});
