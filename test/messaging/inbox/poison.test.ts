/**
 * Records the contract rejects go to the dead-letter topic untouched, with why; records that are
 * not ours to judge are skipped; a dead letter Kafka refuses stops the consumer uncommitted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_TYPES, kafkaHeadersFor } from '../../../src/contract/index.ts';
import { createProducer, type RawOutgoingRecord } from '../../../src/messaging/kafka/index.ts';
import { AppError } from '../../../src/platform/index.ts';
import { documentExample, DOCUMENT_LOW_STOCK_JSON } from '../../contract/fixtures.ts';
import { waitUntil } from '../../support/kafka.ts';
import {
  applyEach,
  harness,
  idOf,
  kafkaConnection,
  lowStock,
  productCreated,
  recordOf,
} from './fixtures.ts';

test('poison records go to the DLQ untouched with their code; the events after them are applied', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.lowStock, applyEach);
  const json = (mutate: (doc: ReturnType<typeof documentExample>) => void): Buffer => {
    const doc = documentExample();
    mutate(doc);
    return Buffer.from(JSON.stringify(doc));
  };
  const valid = lowStock('PRD-9');
  const key = Buffer.from('PRD-123');
  const poison: [RawOutgoingRecord, string][] = [
    [{ topic: h.topic, key, value: Buffer.from('not json {') }, 'ERP_EVT_MALFORMED_JSON'],
    [
      { topic: h.topic, key, value: json((d) => (d.payload.current_stock = 'eight')) },
      'ERP_EVT_INVALID_PAYLOAD',
    ],
    [
      { topic: h.topic, key, value: json((d) => delete d.metadata.timestamp) },
      'ERP_EVT_INVALID_ENVELOPE',
    ],
    [
      { topic: h.topic, key, value: json((d) => delete d.metadata.tenant_id) },
      'ERP_EVT_MISSING_TENANT',
    ],
    [
      { topic: h.topic, key, value: json((d) => (d.metadata.event_version = '2.0')) },
      'ERP_EVT_UNSUPPORTED_VERSION',
    ],
    [{ topic: h.topic, key, value: Buffer.alloc(0) }, 'ERP_EVT_EMPTY'],
    [{ topic: h.topic, key, value: null }, 'ERP_EVT_EMPTY'],
    [
      { topic: h.topic, key: Buffer.from('PRD-999'), value: Buffer.from(DOCUMENT_LOW_STOCK_JSON) },
      'ERP_EVT_WRONG_KEY',
    ],
    [
      { topic: h.topic, key: null, value: Buffer.from(DOCUMENT_LOW_STOCK_JSON) },
      'ERP_EVT_WRONG_KEY',
    ],
    [
      {
        topic: h.topic,
        key,
        value: Buffer.from(DOCUMENT_LOW_STOCK_JSON),
        headers: { tenant_id: 'tenant-2', trace: 't-1' },
      },
      'ERP_EVT_TENANT_MISMATCH',
    ],
  ];
  await h.send([...poison.map(([record]) => record), recordOf(h.topic, valid)]);
  const inbox = await h.start();
  await waitUntil('the valid event', async () => (await h.effects()).has(idOf(valid)));
  await inbox.stop();

  assert.deepEqual([...(await h.effects()).entries()], [[idOf(valid), 1]]);
  const letters = await h.readDeadLetters(poison.length);
  assert.equal(letters.length, poison.length);
  for (const letter of letters) {
    const offset = Number(letter.headers['dlq.original.offset']);
    const [sent, code] = poison[offset]!;
    assert.equal(letter.headers['dlq.error.code'], code, `offset ${offset}`);
    assert.deepEqual(letter.key, sent.key, `key of offset ${offset}`);
    assert.deepEqual(letter.value, sent.value, `value of offset ${offset}`);
    assert.equal(letter.headers['dlq.original.topic'], h.topic);
    assert.equal(letter.headers['dlq.consumer.group'], h.groupId);
    assert.equal(letter.headers['dlq.error.retryable'], 'false');
    assert.equal(letter.headers['dlq.attempts'], '1');
    for (const [name, value] of Object.entries(sent.headers ?? {})) {
      assert.equal(letter.headers[name], value);
    }
  }
  // One send, in offset order.
  assert.deepEqual(
    letters.map((l) => Number(l.headers['dlq.original.offset'])),
    poison.map((_, offset) => offset),
  );
  assert.deepEqual(h.calls.deadLettered.toSorted(), poison.map(([, code]) => code).toSorted());
  assert.deepEqual(h.calls.retries, []);
  // Nothing invalid reached the inbox.
  assert.deepEqual(await h.inbox(), [idOf(valid)]);
});

test('unknown event types and types without a handler are skipped and counted, not dead-lettered', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.lowStock, applyEach);
  const future = documentExample();
  future.metadata.event_type = 'inventory.price_changed';
  future.metadata.event_id = 'evt-future';
  const created = productCreated('P7');
  // Not ours to judge: a type without a handler is skipped even when its payload is invalid.
  const badCreated = productCreated('P6');
  const valid = lowStock('P8');
  await h.send([
    { topic: h.topic, key: 'PRD-123', value: Buffer.from(JSON.stringify(future)) },
    recordOf(h.topic, created),
    {
      topic: h.topic,
      key: 'P6',
      value: Buffer.from(JSON.stringify({ ...badCreated, payload: { product_id: 'P6' } })),
      headers: kafkaHeadersFor(badCreated),
    },
    recordOf(h.topic, valid),
  ]);
  const inbox = await h.start();
  await waitUntil('the valid event', async () => (await h.effects()).has(idOf(valid)));
  await inbox.stop();

  assert.deepEqual(h.calls.skipped, [
    ['inventory.price_changed', 'unknown_type'],
    [EVENT_TYPES.productCreated, 'no_handler'],
    [EVENT_TYPES.productCreated, 'no_handler'],
  ]);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual(h.calls.processed, [EVENT_TYPES.lowStock]);
  assert.deepEqual([...(await h.effects()).keys()], [idOf(valid)]);
  assert.deepEqual(await h.inbox(), [idOf(valid)], 'skipped events are not recorded');
});

test('a dead letter Kafka refuses for good is fatal and leaves the offset uncommitted', async (t) => {
  const h = await harness(t);
  h.router.on(EVENT_TYPES.lowStock, async () => {});
  const closed = createProducer(await kafkaConnection());
  await closed.close();
  await h.send([{ topic: h.topic, key: 'PRD-1', value: Buffer.from('not json') }]);
  const fatal: unknown[] = [];
  const inbox = await h.start({ deadLetterProducer: closed, onFatal: (err) => fatal.push(err) });
  await waitUntil('the fatal error', () => fatal.length === 1);
  await inbox.stop();
  assert.ok(fatal[0] instanceof AppError && fatal[0].code === 'ERP_KAFKA_CLOSED', String(fatal[0]));
  assert.deepEqual(h.calls.deadLettered, [], 'not counted as dead-lettered');
  const [again] = await h.readAgain(1);
  assert.equal(again!.value!.toString(), 'not json');
});
