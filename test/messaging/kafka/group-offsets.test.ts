import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import {
  createConsumer,
  ensureTopics,
  groupMembers,
  resetGroupOffsets,
  topicOffsets,
} from '../../../src/messaging/kafka/index.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/index.ts';
import { isAppError } from '../../../src/platform/index.ts';
import { createGroupLagReader } from '../../../src/messaging/kafka/group-lag.ts';
import { produceToPartitions, testBootstrap, uniqueName, waitUntil } from '../../support/kafka.ts';

async function topicWith(
  counts: number[],
): Promise<{ conn: KafkaConnectionOptions; topic: string }> {
  const conn = { clientId: 'group-offsets-test', bootstrapServers: await testBootstrap() };
  const topic = uniqueName('group-offsets');
  await ensureTopics(conn, [{ name: topic, partitions: counts.length, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, counts);
  return { conn, topic };
}

test('topicOffsets: earliest, latest, and by time the first record at or after it', async () => {
  const { conn, topic } = await topicWith([2, 3, 0]);
  assert.deepEqual(
    await topicOffsets(conn, topic, 'earliest'),
    new Map([
      [0, 0n],
      [1, 0n],
      [2, 0n],
    ]),
  );
  assert.deepEqual(
    await topicOffsets(conn, topic, 'latest'),
    new Map([
      [0, 2n],
      [1, 3n],
      [2, 0n],
    ]),
  );
  // Record timestamps are the producer's clock in milliseconds: a pause keeps the two apart.
  await sleep(50);
  const between = new Date();
  await sleep(50);
  await produceToPartitions(conn, topic, [1, 1, 1]);
  assert.deepEqual(
    await topicOffsets(conn, topic, between),
    new Map([
      [0, 2n],
      [1, 3n],
      [2, 0n],
    ]),
  );
  assert.deepEqual(
    await topicOffsets(conn, topic, new Date(0)),
    new Map([
      [0, 0n],
      [1, 0n],
      [2, 0n],
    ]),
  );
  // After the last record: the end.
  assert.deepEqual(
    await topicOffsets(conn, topic, new Date(Date.now() + 60_000)),
    new Map([
      [0, 3n],
      [1, 4n],
      [2, 1n],
    ]),
  );
  await assert.rejects(
    topicOffsets(conn, uniqueName('missing'), 'latest'),
    (err) => isAppError(err) && err.code === 'ERP_KAFKA_UNKNOWN_TOPIC',
  );
});

test('resetGroupOffsets moves a group with no members, and refuses one with a live member', async (t) => {
  const { conn, topic } = await topicWith([4, 4]);
  const groupId = uniqueName('reset-group');
  await resetGroupOffsets(
    conn,
    groupId,
    topic,
    new Map([
      [0, 1n],
      [1, 3n],
    ]),
  );
  const lag = createGroupLagReader(conn);
  t.after(() => lag.close());
  const committed = (await lag.read(groupId, [topic])).map((p) => [p.partition, p.committed]);
  assert.deepEqual(committed, [
    [0, 1n],
    [1, 3n],
  ]);

  const consumer = createConsumer(conn, {
    groupId,
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  const running = consumer.run(() => Promise.resolve());
  t.after(async () => {
    await consumer.close();
    await running.catch(() => undefined);
  });
  await waitUntil(
    'the consumer joined',
    async () => (await groupMembers(conn, groupId)).length === 1,
  );
  await assert.rejects(
    resetGroupOffsets(
      conn,
      groupId,
      topic,
      new Map([
        [0, 0n],
        [1, 0n],
      ]),
    ),
    (err) => {
      assert.ok(isAppError(err));
      assert.equal(err.code, 'ERP_KAFKA_GROUP_NOT_EMPTY');
      assert.match(err.message, /has 1 live member\(s\).*stop them/);
      return true;
    },
  );
});
