import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deadLetterRecord } from '../../../src/messaging/dead-letter.ts';
import { DEAD_LETTER_HEADERS, DLQ_SUFFIX, eventDocsFor } from '../../../src/messaging/index.ts';
import { loadConfig } from '../../../src/platform/index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document, walked by the assertions
type Json = Record<string, any>;

test('the dead-letter headers described are the ones a dead letter carries', () => {
  const record = {
    topic: 't',
    partition: 0,
    offset: 1n,
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: { event_id: 'e' },
    timestamp: 0,
  };
  const letter = deadLetterRecord(record, new Error('boom'), { groupId: 'g' });
  const added = Object.keys(letter.headers ?? {}).filter((h) => h !== 'event_id');
  assert.deepEqual(added.sort(), Object.keys(DEAD_LETTER_HEADERS).sort());
});

test('the document follows the configuration', () => {
  const doc = eventDocsFor(
    loadConfig({
      KAFKA_INVENTORY_TOPIC: 'inv',
      KAFKA_SALES_TOPIC: 'sal',
      KAFKA_CONSUMER_GROUP: 'grp',
      INVENTORY_CONSUMER_GROUP: 'inv-grp',
      KAFKA_TOPIC_PARTITIONS: '12',
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_BOOTSTRAP_SERVERS: 'a:9092,b:9093',
      KAFKA_SECURITY_PROTOCOL: 'SSL',
    }),
  ) as Json;
  assert.deepEqual(
    Object.values(doc.channels as Record<string, Json>).map((c): unknown[] => [
      c.address,
      c.bindings.kafka.partitions,
      c.bindings.kafka.replicas,
    ]),
    [
      ['inv', 12, 3],
      ['sal', 12, 3],
      [`inv${DLQ_SUFFIX}`, 12, 3],
      [`sal${DLQ_SUFFIX}`, 12, 3],
    ],
  );
  assert.deepEqual(doc.operations.salesServiceReceivesInventory.bindings.kafka.groupId.enum, [
    'grp',
  ]);
  assert.deepEqual(doc.operations.inventoryServiceReceivesSales.bindings.kafka.groupId.enum, [
    'inv-grp',
  ]);
  assert.deepEqual(
    Object.values(doc.servers as Record<string, Json>).map((s) => [
      s.host as string,
      s.protocol as string,
    ]),
    [
      ['a:9092', 'kafka-secure'],
      ['b:9093', 'kafka-secure'],
    ],
  );
});
