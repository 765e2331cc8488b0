/**
 * The group's lag from the admin API against the real broker: per partition, the high watermark
 * minus the group's committed offset, from the log start where it committed none, whether or not
 * a member of the group runs.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { createGroupLagReader } from '../../../src/messaging/kafka/group-lag.ts';
import type { GroupPartitionLag } from '../../../src/messaging/kafka/group-lag.ts';
import { createConsumer, ensureTopics } from '../../../src/messaging/kafka/index.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/index.ts';
import { produceToPartitions, testBootstrap, uniqueName, waitUntil } from '../../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('group-lag-test'), bootstrapServers: await testBootstrap() };
});

/** The library's admin client: what an operator's tool would do to a group or a topic. */
function libraryAdmin(t: { after(fn: () => unknown): void }): Admin {
  const admin = new Admin({ clientId: conn.clientId, bootstrapBrokers: conn.bootstrapServers });
  t.after(() => admin.close());
  return admin;
}

const lags = (result: GroupPartitionLag[]) =>
  result.map(({ topic, partition, lag, committed }) => [topic, partition, lag, committed]);

test('lag per partition: high watermark minus the committed offset, the whole partition without one', async (t) => {
  const topic = uniqueName('lag');
  const groupId = uniqueName('lag-group');
  await ensureTopics(conn, [{ name: topic, partitions: 3, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [5, 3, 0]);
  const reader = createGroupLagReader(conn);
  t.after(() => reader.close());

  // A group that never committed has every retained record to read.
  assert.deepEqual(lags(await reader.read(groupId, [topic])), [
    [topic, 0, 5n, undefined],
    [topic, 1, 3n, undefined],
    [topic, 2, 0n, undefined],
  ]);

  // A member reads and commits everything, then stops: nobody owns the partitions any more.
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
  t.after(() => consumer.close());
  await waitUntil('8 records read', () => seen === 8);
  await consumer.close();
  await running;
  await produceToPartitions(conn, topic, [2, 0, 4]);
  assert.deepEqual(lags(await reader.read(groupId, [topic])), [
    [topic, 0, 2n, 5n],
    [topic, 1, 0n, 3n],
    [topic, 2, 4n, undefined],
  ]);

  // Committed elsewhere (another instance, an operator's reset): the next read follows.
  const admin = libraryAdmin(t);
  await admin.alterConsumerGroupOffsets({
    groupId,
    topics: [{ name: topic, partitionOffsets: [{ partition: 2, offset: 3n }] }],
  });
  assert.deepEqual(
    (await reader.read(groupId, [topic])).map((p) => p.lag),
    [2n, 0n, 1n],
  );
});

test('without a committed offset lag counts from the log start, not from offset 0', async (t) => {
  const topic = uniqueName('lag-start');
  const groupId = uniqueName('lag-group');
  await ensureTopics(conn, [{ name: topic, partitions: 2, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [6, 6]);
  const admin = libraryAdmin(t);
  // Retention (here: deleteRecords) removed the first records of both partitions.
  await admin.deleteRecords({
    topics: [
      {
        name: topic,
        partitions: [
          { partition: 0, offset: 4n },
          { partition: 1, offset: 4n },
        ],
      },
    ],
  });
  // Partition 1: a committed offset below the log start; those records are gone for the group too.
  await admin.alterConsumerGroupOffsets({
    groupId,
    topics: [{ name: topic, partitionOffsets: [{ partition: 1, offset: 1n }] }],
  });
  const reader = createGroupLagReader(conn);
  t.after(() => reader.close());
  const result = await reader.read(groupId, [topic]);
  assert.deepEqual(
    result.map(({ partition, lag, start, end }) => [partition, lag, start, end]),
    [
      [0, 2n, 4n, 6n],
      [1, 2n, 4n, 6n],
    ],
  );
});

test('a topic the cluster does not know is left out; the others are read', async (t) => {
  const topic = uniqueName('lag-known');
  await ensureTopics(conn, [{ name: topic, partitions: 1, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [1]);
  const reader = createGroupLagReader(conn);
  t.after(() => reader.close());
  const result = await reader.read(uniqueName('lag-group'), [uniqueName('lag-missing'), topic]);
  assert.deepEqual(lags(result), [[topic, 0, 1n, undefined]]);
});

test('an unreachable cluster is a retryable ERP_KAFKA_ error, not a crash', async (t) => {
  // Port 1 on the loopback: nothing listens, the connection is refused at once.
  const reader = createGroupLagReader({
    clientId: 'lag-unreachable',
    bootstrapServers: ['127.0.0.1:1'],
  });
  t.after(() => reader.close());
  await assert.rejects(reader.read('g', ['t']), (err: { code: string; retryable: boolean }) => {
    assert.match(err.code, /^ERP_KAFKA_/);
    assert.equal(err.retryable, true);
    return true;
  });
});
