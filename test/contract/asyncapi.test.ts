import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import {
  asyncApiDocument,
  decodeEnvelope,
  decodeEvent,
  EVENT_REGISTRY,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../src/contract/index.ts';
import type { AsyncApiOptions, EventType } from '../../src/contract/index.ts';

const OPTIONS: AsyncApiOptions = {
  topics: { inventory: 'inv-topic', sales: 'sales-topic' },
  consumerGroup: 'the-sales-group',
  inventoryConsumerGroup: 'the-inventory-group',
  partitions: 6,
  replicas: 3,
  servers: [{ host: 'broker-1:9092', protocol: 'kafka' }],
  deadLetters: { suffix: '.dead', headers: { 'dlq.error.code': 'Why.' } },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document, walked by the assertions
type Json = Record<string, any>;
const doc: Json = asyncApiDocument(OPTIONS);

async function diagnose(document: Json) {
  // As a file would be read: text.
  const { diagnostics } = await new Parser().parse(JSON.stringify(document));
  // Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
  const severity = (d: { severity: number }) => d.severity;
  return {
    errors: diagnostics.filter((d) => severity(d) === 0),
    warnings: diagnostics.filter((d) => severity(d) === 1),
  };
}

const show = (list: { code: string | number; message: string; path: (string | number)[] }[]) =>
  list.map((d) => `${d.code} ${d.path.join('.')}: ${d.message}`).join('\n');

test('@asyncapi/parser reads the document without errors', async (t) => {
  const { errors, warnings } = await diagnose(doc);
  assert.equal(errors.length, 0, show(errors));
  // Listed, not failed on: style advice is not a broken contract.
  for (const warning of warnings) t.diagnostic(`warning: ${show([warning])}`);
});

test('the parser does report a broken document (a message no channel has)', async () => {
  const broken = structuredClone(doc);
  broken.operations.inventoryPublishes.messages.push({
    $ref: '#/channels/inventoryEvents/messages/nope',
  });
  assert.ok((await diagnose(broken)).errors.length > 0);
});

test('a channel per topic of the configuration, with its partitions, replicas and messages', () => {
  assert.equal(doc.asyncapi, '3.0.0');
  assert.deepEqual(
    Object.values(doc.channels as Record<string, Json>).map((c) => c.address as string),
    ['inv-topic', 'sales-topic', 'inv-topic.dead', 'sales-topic.dead'],
  );
  const inventory = doc.channels.inventoryEvents;
  assert.deepEqual(inventory.bindings.kafka, {
    topic: 'inv-topic',
    partitions: 6,
    replicas: 3,
    bindingVersion: '0.5.0',
  });
  assert.deepEqual(Object.keys(inventory.messages).sort(), [
    'inventory.low_stock.v1',
    'inventory.product_created.v1',
    'inventory.stock_adjusted.v1',
    'inventory.stock_released.v1',
    'inventory.stock_reservation_rejected.v1',
    'inventory.stock_reserved.v1',
  ]);
  assert.deepEqual(Object.keys(doc.channels.salesEvents.messages).sort(), [
    'sales.low_stock_alert_raised.v1',
    'sales.order_cancelled.v1',
    'sales.order_fulfilled.v1',
    'sales.order_placed.v1',
  ]);
  assert.deepEqual(doc.servers, {
    broker1: { host: 'broker-1:9092', protocol: 'kafka', description: 'Kafka bootstrap broker' },
  });
});

test('every event type of the registry has a message per major version it accepts', () => {
  const messages = Object.keys(doc.components.messages);
  for (const [type, definition] of Object.entries(EVENT_REGISTRY)) {
    for (const major of definition.majorVersions) {
      assert.ok(messages.includes(`${type}.v${major}`), `${type} v${major}`);
    }
  }
});

test('Inventory sends, Sales receives in its group and dead-letters, Sales sends, Inventory receives the order saga in its group', () => {
  const ops = doc.operations;
  assert.deepEqual(
    Object.entries(ops as Record<string, Json>).map(([id, op]) => [
      id,
      op.action as string,
      op.channel.$ref as string,
    ]),
    [
      ['inventoryPublishes', 'send', '#/channels/inventoryEvents'],
      ['salesPublishes', 'send', '#/channels/salesEvents'],
      ['salesServiceReceivesInventory', 'receive', '#/channels/inventoryEvents'],
      ['salesServiceDeadLettersInventory', 'send', '#/channels/inventoryEventsDeadLetters'],
      ['inventoryServiceReceivesSales', 'receive', '#/channels/salesEvents'],
      ['inventoryServiceDeadLettersSales', 'send', '#/channels/salesEventsDeadLetters'],
    ],
  );
  assert.deepEqual(ops.inventoryServiceReceivesSales.bindings.kafka.groupId, {
    type: 'string',
    enum: ['the-inventory-group'],
  });
  assert.deepEqual(ops.salesServiceReceivesInventory.bindings.kafka.groupId, {
    type: 'string',
    enum: ['the-sales-group'],
  });
  const dlq = doc.components.messages['inventory.dead_letter'];
  assert.deepEqual(dlq.headers.required, ['dlq.error.code']);
  assert.equal(dlq.headers.properties['dlq.error.code'].description, 'Why.');
});

test('each example is an event the contract decodes, with its headers and key (product_id, or order_id for the order saga)', () => {
  for (const [id, message] of Object.entries(doc.components.messages as Record<string, Json>)) {
    if (id.endsWith('dead_letter')) continue;
    assert.equal(message.examples.length, 1, id);
    const [example] = message.examples;
    const decoded = decodeEvent(decodeEnvelope(JSON.stringify(example.payload)));
    assert.ok(decoded.known, id);
    assert.equal(decoded.type, message.name);
    assert.deepEqual(example.headers, kafkaHeadersFor(decoded.event));
    assert.equal(example.summary, `Key ${messageKeyOf(decoded.event)}`);
    assert.equal(message.bindings.kafka.key.maxLength, 128);
  }
});

test('the payload schema is the whole envelope, from the zod schemas', () => {
  const message = doc.components.messages['inventory.stock_adjusted.v1'];
  const { properties, required } = message.payload;
  assert.deepEqual(required, ['metadata', 'payload']);
  assert.equal(properties.metadata.properties.event_type.const, 'inventory.stock_adjusted');
  assert.equal(properties.metadata.properties.event_version.pattern, '^1\\.\\d+$');
  assert.deepEqual(properties.metadata.properties.priority.enum, [
    'low',
    'medium',
    'high',
    'critical',
  ]);
  assert.ok(properties.payload.required.includes('quantity_after'));
  // Loose: a newer minor version may add fields.
  assert.deepEqual(properties.payload.additionalProperties, {});
});

test("headers: the contract's are required and described, trace and schema ids optional", () => {
  for (const [id, message] of Object.entries(doc.components.messages as Record<string, Json>)) {
    if (id.endsWith('dead_letter')) continue;
    const type: EventType = message.name;
    const example = message.examples[0].payload;
    assert.deepEqual(message.headers.required, Object.keys(kafkaHeadersFor(example)));
    for (const name of [...message.headers.required, 'traceparent', 'tracestate', 'schema_id']) {
      const header = message.headers.properties[name];
      assert.ok(header.description.length > name.length, `${id}: ${name} is described`);
    }
    assert.equal(message.headers.properties.event_type.const, type);
  }
});
