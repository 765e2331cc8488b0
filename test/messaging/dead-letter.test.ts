import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { ContractError } from '../../src/contract/index.ts';
import {
  deadLetter,
  MAX_ERROR_MESSAGE_BYTES,
  summarizeError,
  truncateUtf8,
} from '../../src/messaging/dead-letter.ts';
import {
  createProducer,
  ensureTopics,
  type IncomingRecord,
  type KafkaConnectionOptions,
} from '../../src/messaging/kafka/index.ts';
import { AppError } from '../../src/platform/index.ts';
import { consumeRecords, testBootstrap, uniqueName } from '../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('dead-letter-test'), bootstrapServers: await testBootstrap() };
});

function readAll(t: TestContext, topic: string, count: number): Promise<IncomingRecord[]> {
  return consumeRecords(t, conn, topic, count, { groupId: uniqueName('dlq-reader') });
}

test('a dead letter keeps the key, value and headers untouched and says why', async (t) => {
  const topic = uniqueName('orders');
  await ensureTopics(conn, [
    { name: topic, partitions: 1, replicationFactor: 1 },
    { name: `${topic}.dlq`, partitions: 1, replicationFactor: 1 },
  ]);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  // Not UTF-8 on purpose: the bytes must survive without any decoding on the way.
  const key = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
  const value = Buffer.from([0xc3, 0x28, 0x00, 0x7b, 0xff]);
  await producer.send([
    { topic, key: 'first', value: Buffer.from('ignored') },
    { topic, key, value, headers: { tenant_id: 'tenant-1', trace: 'abc' } },
    { topic, key: null, value: null },
  ]);
  const [, original, tombstone] = await readAll(t, topic, 3);
  assert.ok(original !== undefined && tombstone !== undefined);

  const first = new Date('2024-01-15T10:00:00.000Z');
  const last = new Date('2024-01-15T10:00:05.000Z');
  const longMessage = `payload rejected: ${'é'.repeat(2000)}`;
  await deadLetter(producer, original, new AppError('ERP_TEST_REJECTED', longMessage), {
    groupId: 'sales-service',
    attempts: 3,
    firstFailureAt: first,
    lastFailureAt: last,
  });
  await deadLetter(
    producer,
    tombstone,
    new ContractError('ERP_EVT_EMPTY', 'Event value is empty'),
    {
      groupId: 'sales-service',
    },
  );

  const [letter, emptyLetter] = await readAll(t, `${topic}.dlq`, 2);
  assert.ok(letter !== undefined && emptyLetter !== undefined);
  assert.deepEqual(letter.key, key);
  assert.deepEqual(letter.value, value);
  const h = letter.headers;
  assert.equal(h.tenant_id, 'tenant-1');
  assert.equal(h.trace, 'abc');
  assert.equal(h['dlq.original.topic'], topic);
  assert.equal(h['dlq.original.partition'], '0');
  assert.equal(h['dlq.original.offset'], '1');
  assert.equal(h['dlq.original.timestamp'], String(original.timestamp));
  assert.equal(h['dlq.consumer.group'], 'sales-service');
  assert.equal(h['dlq.error.code'], 'ERP_TEST_REJECTED');
  assert.equal(h['dlq.error.retryable'], 'false');
  assert.equal(h['dlq.attempts'], '3');
  assert.equal(h['dlq.first.failure'], first.toISOString());
  assert.equal(h['dlq.last.failure'], last.toISOString());
  const message = h['dlq.error.message']!;
  assert.ok(Buffer.byteLength(message) <= MAX_ERROR_MESSAGE_BYTES);
  assert.ok(message.startsWith('payload rejected: éé') && message.endsWith('é…'));

  assert.equal(emptyLetter.key, null);
  assert.equal(emptyLetter.value, null);
  assert.equal(emptyLetter.headers['dlq.error.code'], 'ERP_EVT_EMPTY');
  assert.equal(emptyLetter.headers['dlq.original.offset'], '2');
  assert.equal(emptyLetter.headers['dlq.attempts'], '1');
});

test('a custom suffix picks the dead-letter topic', async (t) => {
  const topic = uniqueName('orders');
  await ensureTopics(conn, [
    { name: topic, partitions: 1, replicationFactor: 1 },
    { name: `${topic}.dead`, partitions: 1, replicationFactor: 1 },
  ]);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  await producer.send([{ topic, key: 'k', value: Buffer.from('v') }]);
  const [original] = await readAll(t, topic, 1);
  await deadLetter(producer, original!, new Error('boom'), {
    groupId: 'g',
    topicSuffix: '.dead',
  });
  const [letter] = await readAll(t, `${topic}.dead`, 1);
  assert.equal(letter!.value!.toString(), 'v');
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_MSG_UNEXPECTED');
  assert.equal(letter!.headers['dlq.error.message'], 'boom');
});

test('truncateUtf8 cuts on character boundaries within the byte budget', () => {
  assert.equal(truncateUtf8('short', 1024), 'short');
  const emoji = '😀'.repeat(10); // 4 bytes each
  const cut = truncateUtf8(emoji, 13); // 10 bytes of room after the 3-byte ellipsis
  assert.equal(cut, '😀😀…');
  assert.ok(Buffer.byteLength(cut) <= 13);
  assert.ok(!cut.includes('\uFFFD'));
});

test('summarizeError keeps our codes and marks anything else unexpected', () => {
  assert.deepEqual(summarizeError(new AppError('ERP_X', 'x', { retryable: true })), {
    code: 'ERP_X',
    message: 'x',
    retryable: true,
  });
  assert.equal(
    summarizeError(new ContractError('ERP_EVT_MALFORMED_JSON', 'bad')).code,
    'ERP_EVT_MALFORMED_JSON',
  );
  const pgLike = Object.assign(new Error('duplicate key'), { code: '23505' });
  assert.deepEqual(summarizeError(pgLike), {
    code: 'ERP_MSG_UNEXPECTED',
    message: 'duplicate key (code 23505)',
    retryable: false,
  });
  assert.equal(summarizeError('plain string').message, 'plain string');
});
