import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ensureTopics } from '../../../src/messaging/kafka/admin.ts';
import { RECONNECT_RETRY_POLICY } from '../../../src/messaging/kafka/consumer-settings.ts';
import {
  createConsumer,
  type ConsumerSettings,
  type IncomingBatch,
} from '../../../src/messaging/kafka/consumer.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/options.ts';
import { createProducer } from '../../../src/messaging/kafka/producer.ts';
import { delayFor } from '../../../src/platform/index.ts';
import { pushInto, testBootstrap, uniqueName, waitUntil } from '../../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('consumer-test'), bootstrapServers: await testBootstrap() };
});

/** A one-partition topic holding `count` records whose values are their sequence numbers. */
async function topicWith(t: test.TestContext, count: number, partitions = 1): Promise<string> {
  const topic = uniqueName('consumer');
  await ensureTopics(conn, [{ name: topic, partitions, replicationFactor: 1 }]);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  await producer.send(
    Array.from({ length: count }, (_, i) => ({
      topic,
      key: `k${i % partitions}`,
      value: Buffer.from(String(i)),
      partition: i % partitions,
    })),
  );
  return topic;
}

function consumerFor(t: test.TestContext, settings: ConsumerSettings) {
  const consumer = createConsumer(conn, settings);
  t.after(() => consumer.close());
  return consumer;
}

const seqs = (batches: IncomingBatch[]) =>
  batches.flatMap((b) => b.records.map((r) => Number(r.value!.toString())));

test('a new member of the group resumes after the committed offsets, without redelivery', async (t) => {
  const topic = await topicWith(t, 20);
  const groupId = uniqueName('resume');
  const settings = {
    groupId,
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxBatchSize: 5,
  } as const;

  const first = consumerFor(t, settings);
  const firstBatches: IncomingBatch[] = [];
  let closing: Promise<void> | undefined;
  const firstRun = first.run((batch) => {
    firstBatches.push(batch);
    // close() waits for this batch and its commit, so it must not be awaited from inside it.
    if (seqs(firstBatches).length >= 10) closing ??= first.close();
    return Promise.resolve();
  });
  await firstRun;
  await closing;
  assert.deepEqual(seqs(firstBatches), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(firstBatches.every((b) => b.records.length <= 5));

  const second = consumerFor(t, settings);
  const secondBatches: IncomingBatch[] = [];
  const secondRun = second.run(pushInto(secondBatches));
  await waitUntil('the rest of the records', () => seqs(secondBatches).length >= 10);
  // A redelivery would show up as a later batch; give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await second.close();
  await secondRun;
  assert.deepEqual(seqs(secondBatches), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal(secondBatches[0]!.records[0]!.offset, 10n);
});

test('a throwing handler: no commit for its batch, run() rejects, the next member gets it again', async (t) => {
  const topic = await topicWith(t, 12);
  const groupId = uniqueName('throw');
  const settings = {
    groupId,
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxBatchSize: 4,
  } as const;

  const failing = consumerFor(t, settings);
  const boom = new Error('handler failed');
  let calls = 0;
  await assert.rejects(
    failing.run(() => {
      calls++;
      return calls === 2 ? Promise.reject(boom) : Promise.resolve();
    }),
    (err) => err === boom,
  );
  assert.equal(calls, 2, 'no batch is handed over after the failure');

  const next = consumerFor(t, settings);
  const batches: IncomingBatch[] = [];
  const running = next.run(pushInto(batches));
  await waitUntil('redelivery', () => seqs(batches).length >= 8);
  await next.close();
  await running;
  // Batch 1 (0-3) was committed; batch 2 (4-7) failed and comes back, followed by the rest.
  assert.deepEqual(seqs(batches), [4, 5, 6, 7, 8, 9, 10, 11]);
});

test('batches hold one partition each, in offset order, across partitions', async (t) => {
  const topic = await topicWith(t, 90, 3);
  const consumer = consumerFor(t, {
    groupId: uniqueName('parts'),
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxBatchSize: 7,
    maxConcurrentBatches: 3,
  });
  const batches: IncomingBatch[] = [];
  const active = new Set<number>();
  let overlapSamePartition = false;
  const running = consumer.run(async (batch) => {
    if (active.has(batch.partition)) overlapSamePartition = true;
    active.add(batch.partition);
    await new Promise((resolve) => setTimeout(resolve, 5));
    active.delete(batch.partition);
    batches.push(batch);
  });
  await waitUntil('all records', () => seqs(batches).length >= 90);
  await consumer.close();
  await running;
  assert.equal(overlapSamePartition, false);
  for (let partition = 0; partition < 3; partition++) {
    const records = batches.filter((b) => b.partition === partition).flatMap((b) => b.records);
    assert.equal(records.length, 30);
    assert.ok(records.every((r) => r.partition === partition));
    assert.deepEqual(
      records.map((r) => r.offset),
      Array.from({ length: 30 }, (_, i) => BigInt(i)),
    );
  }
  assert.ok(batches.every((b) => b.records.length <= 7));
});

test('getLag reports uncommitted records per assigned partition', async (t) => {
  const topic = await topicWith(t, 20);
  const consumer = consumerFor(t, {
    groupId: uniqueName('lag'),
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxBatchSize: 20,
  });
  assert.deepEqual(await consumer.getLag(), []);
  const release = Promise.withResolvers<void>();
  let handled = 0;
  const running = consumer.run(async (batch) => {
    await release.promise;
    handled += batch.records.length;
  });
  await waitUntil('the first batch', async () => (await consumer.getLag()).length > 0);
  assert.deepEqual(await consumer.getLag(), [{ topic, partition: 0, lag: 20n }]);
  release.resolve();
  await waitUntil('lag 0', async () => (await consumer.getLag())[0]?.lag === 0n);
  assert.equal(handled, 20);
  await consumer.close();
  await running;
});

test("autoOffsetReset 'latest' skips what was there before the group existed", async (t) => {
  const topic = await topicWith(t, 5);
  const consumer = consumerFor(t, {
    groupId: uniqueName('latest'),
    topics: [topic],
    autoOffsetReset: 'latest',
  });
  const batches: IncomingBatch[] = [];
  const running = consumer.run(pushInto(batches));
  // Once lag is reported the stream has its starting offsets; produce after that.
  await waitUntil('assignment', async () => (await consumer.getLag()).length > 0);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  await producer.send([{ topic, key: 'k', value: Buffer.from('new') }]);
  await waitUntil('the new record', () => batches.length > 0);
  await consumer.close();
  await running;
  assert.deepEqual(
    batches.flatMap((b) => b.records.map((r) => [r.offset, r.value!.toString()])),
    [[5n, 'new']],
  );
});

test('close() before run() works, and run() afterwards is refused', async () => {
  const consumer = createConsumer(conn, {
    groupId: uniqueName('idle'),
    topics: ['unused'],
    autoOffsetReset: 'earliest',
  });
  await consumer.close();
  await assert.rejects(
    consumer.run(() => Promise.resolve()),
    { code: 'ERP_KAFKA_CONFIG' },
  );
});

test('invalid consumer settings are rejected up front', () => {
  const base = { groupId: 'g', topics: ['t'], autoOffsetReset: 'earliest' } as const;
  assert.throws(() => createConsumer(conn, { ...base, topics: [] }), { code: 'ERP_KAFKA_CONFIG' });
  assert.throws(() => createConsumer(conn, { ...base, maxBatchSize: 0 }), {
    code: 'ERP_KAFKA_CONFIG',
  });
  assert.throws(() => createConsumer(conn, { ...base, autoOffsetReset: 'middle' as 'earliest' }), {
    code: 'ERP_KAFKA_CONFIG',
  });
});

test('reconnectPolicy overrides are validated at creation', async () => {
  const base = { groupId: 'g', topics: ['t'], autoOffsetReset: 'earliest' } as const;
  const invalid = (reconnectPolicy: object, field: string) =>
    assert.throws(() => createConsumer(conn, { ...base, reconnectPolicy }), {
      code: 'ERP_INVALID_OPTIONS',
      message: new RegExp(`\\b${field}\\b`),
    });
  invalid({ jitter: 2 }, 'jitter');
  // Merged with the 500 ms default start, a 100 ms ceiling is no ceiling.
  invalid({ maxDelayMs: 100 }, 'maxDelayMs');
  invalid({ initalDelayMs: 100 }, 'initalDelayMs');
  const consumer = createConsumer(conn, { ...base, reconnectPolicy: { initialDelayMs: 50 } });
  await consumer.close();
});

test('rejoin waits double from 500 ms up to 10 s, spread by half either way', () => {
  const lowest = () => 0;
  const highest = () => 0.999_999;
  const waits = [1, 2, 3, 5, 6, 40].map((attempt) => [
    delayFor(RECONNECT_RETRY_POLICY, attempt, lowest),
    delayFor(RECONNECT_RETRY_POLICY, attempt, highest),
  ]);
  assert.deepEqual(waits, [
    [250, 750],
    [500, 1500],
    [1000, 3000],
    [4000, 10_000],
    [5000, 10_000],
    [5000, 10_000],
  ]);
});
