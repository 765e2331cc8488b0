import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { ensureTopics } from '../../../src/messaging/kafka/admin.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/options.ts';
import { createProducer, type OutgoingRecord } from '../../../src/messaging/kafka/producer.ts';
import { consumeBatches, testBootstrap, uniqueName } from '../../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('producer-test'), bootstrapServers: await testBootstrap() };
});

async function newTopic(partitions: number): Promise<string> {
  const name = uniqueName('producer');
  await ensureTopics(conn, [{ name, partitions, replicationFactor: 1 }]);
  return name;
}

function consumeAll(t: test.TestContext, topic: string, count: number) {
  return consumeBatches(t, conn, topic, count, { groupId: uniqueName('producer-group') });
}

test('records sent in one call all arrive: per-key order, headers, key and value bytes intact', async (t) => {
  const topic = await newTopic(3);
  const producer = createProducer(conn);
  t.after(() => producer.close());

  const keys = Array.from({ length: 12 }, (_, i) => `key-${i}-é`);
  const sent: OutgoingRecord[] = [];
  for (let seq = 0; seq < 600; seq++) {
    const key = keys[seq % keys.length]!;
    // Binary payload with the sequence number up front; the rest is random bytes, zeros included.
    const value = Buffer.concat([Buffer.from(`${seq}:`), randomBytes(64), Buffer.alloc(3)]);
    sent.push({ topic, key, value, headers: { seq: String(seq), 'content-type': 'x/ü' } });
  }
  await producer.send(sent);

  const batches = await consumeAll(t, topic, sent.length);
  const received = batches.flatMap((b) => b.records);
  assert.equal(received.length, sent.length);

  const partitionOfKey = new Map<string, number>();
  const lastSeqOfKey = new Map<string, number>();
  for (const record of received) {
    const seq = Number(record.headers.seq);
    const original = sent[seq]!;
    assert.equal(record.topic, topic);
    assert.deepEqual(record.key, Buffer.from(original.key));
    assert.deepEqual(record.value, original.value);
    assert.deepEqual(record.headers, original.headers);
    assert.ok(record.timestamp > Date.now() - 600_000 && record.timestamp <= Date.now() + 1000);
    const key = original.key;
    const partition = partitionOfKey.get(key) ?? record.partition;
    assert.equal(record.partition, partition, `key ${key} stays on one partition`);
    partitionOfKey.set(key, partition);
    assert.ok(seq > (lastSeqOfKey.get(key) ?? -1), `key ${key} in order`);
    lastSeqOfKey.set(key, seq);
  }
  assert.equal(new Set(partitionOfKey.values()).size, 3, 'keys spread over all partitions');
  for (const batch of batches) {
    assert.ok(
      batch.records.every((r) => r.partition === batch.partition && r.topic === batch.topic),
    );
    const offsets = batch.records.map((r) => r.offset);
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
});

test('keys land on the partition the Java client would choose', async (t) => {
  const topic = await newTopic(3);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  // Computed with kafka-clients 4.2.2: Utils.toPositive(Utils.murmur2(utf8(key))) % 3. The
  // library's default partitioner (murmur2 >>> 0) would put order-2, customer-é, a and b elsewhere.
  const javaPartition: Record<string, number> = {
    'order-1': 1,
    'order-2': 0,
    'sku-42': 0,
    'customer-é': 1,
    a: 1,
    b: 2,
  };
  await producer.send(
    Object.keys(javaPartition).map((key) => ({ topic, key, value: Buffer.from(key) })),
  );
  const received = (await consumeAll(t, topic, 6)).flatMap((b) => b.records);
  assert.deepEqual(
    Object.fromEntries(received.map((r) => [r.key!.toString(), r.partition])),
    javaPartition,
  );
});

test('an explicit partition wins over the key', async (t) => {
  const topic = await newTopic(3);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  await producer.send([
    { topic, key: 'same', value: Buffer.from('a'), partition: 0 },
    { topic, key: 'same', value: Buffer.from('b'), partition: 2 },
  ]);
  const received = (await consumeAll(t, topic, 2)).flatMap((b) => b.records);
  const byValue = new Map(received.map((r) => [r.value?.toString(), r.partition]));
  assert.deepEqual(
    byValue,
    new Map([
      ['a', 0],
      ['b', 2],
    ]),
  );
});

test('a send larger than maxRequestBytes is split and still delivered in order', async (t) => {
  const topic = await newTopic(1);
  const producer = createProducer(conn, { maxRequestBytes: 2048 });
  t.after(() => producer.close());
  const records = Array.from({ length: 40 }, (_, i) => ({
    topic,
    key: 'k',
    value: Buffer.concat([Buffer.from(`${i}:`), Buffer.alloc(500, i)]),
  }));
  await producer.send(records);
  const received = (await consumeAll(t, topic, 40)).flatMap((b) => b.records);
  assert.deepEqual(
    received.map((r) => r.value),
    records.map((r) => r.value),
  );
});

test('sending to a missing topic fails with a retryable ERP_KAFKA error once retries run out', async (t) => {
  const producer = createProducer(conn, { retries: 2, retryDelayMs: 50 });
  t.after(() => producer.close());
  await assert.rejects(
    producer.send([{ topic: uniqueName('missing'), key: 'k', value: Buffer.from('v') }]),
    { code: 'ERP_KAFKA_UNKNOWN_TOPIC', retryable: true },
  );
});

test('invalid producer settings are rejected up front', () => {
  assert.throws(() => createProducer(conn, { acks: 'leader' }), { code: 'ERP_KAFKA_CONFIG' });
  assert.throws(() => createProducer({ clientId: 'x', bootstrapServers: ['nope'] }), {
    code: 'ERP_KAFKA_CONFIG',
  });
  assert.throws(() => createProducer({ clientId: '', bootstrapServers: ['127.0.0.1:9092'] }), {
    code: 'ERP_KAFKA_CONFIG',
  });
});
