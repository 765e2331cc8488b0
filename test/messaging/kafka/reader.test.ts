import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { ensureTopics } from '../../../src/messaging/kafka/admin.ts';
import type { IncomingRecord } from '../../../src/messaging/kafka/records.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/options.ts';
import { createProducer } from '../../../src/messaging/kafka/producer.ts';
import { readTopic } from '../../../src/messaging/kafka/reader.ts';
import { AppError } from '../../../src/platform/index.ts';
import { testBootstrap, uniqueName } from '../../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('reader-test'), bootstrapServers: await testBootstrap() };
});

async function topicWith(t: test.TestContext, count: number, partitions: number): Promise<string> {
  const topic = uniqueName('reader');
  await ensureTopics(conn, [{ name: topic, partitions, replicationFactor: 1 }]);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  await producer.send(
    Array.from({ length: count }, (_, i) => ({
      topic,
      key: `k${i}`,
      value: Buffer.from(String(i)),
      partition: i % partitions,
    })),
  );
  return topic;
}

test('reads every partition from its first offset to the end it had, then stops', async (t) => {
  const topic = await topicWith(t, 25, 3);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  const records: IncomingRecord[] = [];
  let appended: Promise<void> | undefined;
  const summary = await readTopic(conn, topic, {
    onRecord(record) {
      records.push(record);
      // Written while reading: after the end offsets taken at the start, so not part of this read.
      appended ??= producer.send([
        { topic, key: 'late', value: Buffer.from('late'), partition: 0 },
      ]);
    },
  });
  await appended;
  assert.equal(summary.records, 25);
  assert.deepEqual(
    summary.partitions.map((p) => [p.partition, p.start, p.end]),
    [
      [0, 0n, 9n],
      [1, 0n, 8n],
      [2, 0n, 8n],
    ],
  );
  assert.deepEqual(
    records.map((r) => Number(r.value!.toString())).sort((a, b) => a - b),
    Array.from({ length: 25 }, (_, i) => i),
  );
  for (const partition of [0, 1, 2]) {
    const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
    assert.deepEqual(
      offsets,
      offsets.toSorted((a, b) => (a < b ? -1 : 1)),
      `order in ${partition}`,
    );
  }
  // The late record is there for the next read.
  const again = await readTopic(conn, topic, { onRecord: () => undefined });
  assert.equal(again.records, 26);
});

test("an empty topic reads nothing; 'stop' ends a read early", async (t) => {
  const empty = uniqueName('reader-empty');
  await ensureTopics(conn, [{ name: empty, partitions: 2, replicationFactor: 1 }]);
  let seen = 0;
  const none = await readTopic(conn, empty, { onRecord: () => void seen++ });
  assert.equal(none.records, 0);
  assert.equal(seen, 0);

  const topic = await topicWith(t, 10, 1);
  const first: bigint[] = [];
  const summary = await readTopic(conn, topic, {
    onRecord(record) {
      first.push(record.offset);
      return record.offset === 3n ? 'stop' : undefined;
    },
  });
  assert.deepEqual(first, [0n, 1n, 2n, 3n]);
  assert.equal(summary.records, 4);
});

test('reading commits no offsets for any group', async (t) => {
  const topic = await topicWith(t, 5, 1);
  await readTopic(conn, topic, { onRecord: () => undefined });
  const admin = new Admin({ clientId: conn.clientId, bootstrapBrokers: conn.bootstrapServers });
  t.after(() => admin.close());
  const groups = await admin.listGroups();
  const readers = [...groups.keys()].filter((id) => id.startsWith('erp-events-reader-'));
  assert.ok(readers.length > 0, 'the throwaway reader groups are visible to the broker');
  const offsets = await admin.listConsumerGroupOffsets({ groups: readers });
  const committed = offsets.flatMap((g) => g.topics.filter((tp) => tp.name === topic));
  assert.deepEqual(committed, []);
});

test('an unknown topic is ERP_KAFKA_UNKNOWN_TOPIC', async () => {
  await assert.rejects(
    readTopic(conn, uniqueName('reader-missing'), { onRecord: () => undefined }),
    (err) => err instanceof AppError && err.code === 'ERP_KAFKA_UNKNOWN_TOPIC',
  );
});
