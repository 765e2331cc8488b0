/**
 * The poison suite, through the real Sales process on the cluster: records written straight into
 * the inventory topic by another client. Each lands in the dead-letter topic with its bytes
 * untouched and the right `dlq.error.code`, an unknown event type is skipped and counted, and a
 * valid event behind them (same key, so same partition, after them) is processed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent, encodeEvent, kafkaHeadersFor } from '../../src/contract/index.ts';
import { createConsumer, createProducer } from '../../src/messaging/kafka/index.ts';
import type { IncomingRecord, RawOutgoingRecord } from '../../src/messaging/kafka/index.ts';
import { createScenario, say } from './harness.ts';

const tenant = 'tenant-poison';

function lowStock(productId: string) {
  return createEvent(
    'inventory.low_stock',
    {
      product_id: productId,
      product_sku: 'SKU-POISON',
      product_name: 'Poisoned product',
      current_stock: 8,
      reorder_level: 10,
      reorder_quantity: 50,
      unit_price: 12,
      category: 'faults',
      location: 'Warehouse P',
      days_of_stock_remaining: 3.5,
    },
    { tenantId: tenant, sourceService: 'inventory-service', priority: 'medium' },
  );
}

/** A valid low_stock event's JSON with `edit` applied to a copy. */
function edited(
  productId: string,
  edit: (doc: Record<string, Record<string, unknown>>) => void,
): Buffer {
  const doc = JSON.parse(encodeEvent(lowStock(productId)).toString()) as Record<
    string,
    Record<string, unknown>
  >;
  edit(doc);
  return Buffer.from(JSON.stringify(doc));
}

test('poison records are dead-lettered with their code, the unknown type is skipped, a valid event after them is processed', async (t) => {
  const s = await createScenario('poison');
  let passed = false;
  t.after(() => s.cleanup(passed));
  const sales = await s.sales();
  const producer = createProducer({ clientId: 'faults-poison', bootstrapServers: s.bootstrap });
  t.after(() => producer.close());

  const productId = `prd-${randomUUID()}`;
  const key = Buffer.from(productId);
  const probe = (
    name: string,
    value: Buffer | null,
    extra: Partial<RawOutgoingRecord> = {},
  ): RawOutgoingRecord => ({
    topic: s.inventoryTopic,
    key,
    value,
    ...extra,
    headers: { probe: name, ...extra.headers },
  });
  const expected: Record<string, string> = {
    'not-json': 'ERP_EVT_MALFORMED_JSON',
    'not-utf8': 'ERP_EVT_MALFORMED_JSON',
    'fails-envelope-schema': 'ERP_EVT_INVALID_ENVELOPE',
    'fails-payload-schema': 'ERP_EVT_INVALID_PAYLOAD',
    'missing-tenant': 'ERP_EVT_MISSING_TENANT',
    'version-2.0': 'ERP_EVT_UNSUPPORTED_VERSION',
    empty: 'ERP_EVT_EMPTY',
    tombstone: 'ERP_EVT_EMPTY',
    'wrong-key': 'ERP_EVT_WRONG_KEY',
    'tenant-header-mismatch': 'ERP_EVT_TENANT_MISMATCH',
  };
  const valid = lowStock(productId);
  const records: RawOutgoingRecord[] = [
    probe('not-json', Buffer.from('this is not JSON {')),
    probe('not-utf8', Buffer.from([0xff, 0xfe, 0x7b, 0x00])),
    probe('fails-envelope-schema', Buffer.from(JSON.stringify({ hello: 'world' }))),
    probe(
      'fails-payload-schema',
      edited(productId, (d) => (d['payload']!['current_stock'] = 'eight')),
    ),
    probe(
      'missing-tenant',
      edited(productId, (d) => delete d['metadata']!['tenant_id']),
    ),
    probe(
      'version-2.0',
      edited(productId, (d) => (d['metadata']!['event_version'] = '2.0')),
    ),
    probe(
      'unknown-type',
      edited(productId, (d) => (d['metadata']!['event_type'] = 'inventory.teleported')),
    ),
    probe('empty', Buffer.alloc(0)),
    probe('tombstone', null),
    probe('wrong-key', encodeEvent(lowStock(productId)), {
      key: Buffer.from('not-the-product-id'),
    }),
    probe('tenant-header-mismatch', encodeEvent(lowStock(productId)), {
      headers: { tenant_id: 'someone-else' },
    }),
    probe('valid', encodeEvent(valid), { headers: kafkaHeadersFor(valid) }),
  ];
  // One send: same key, same partition, in this order (wrong-key aside).
  await producer.send(records);

  // The valid event, last on its partition, is processed: the poison before it did not stop Sales.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await s.salesDb.pool.query('SELECT 1 FROM inbox WHERE event_id = $1', [
      valid.metadata.event_id,
    ]);
    if (r.rowCount === 1) break;
    assert.ok(Date.now() < deadline, 'the valid event after the poison records was not processed');
    await sleep(250);
  }
  const effects = await s.salesDb.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM alert_history WHERE event_id = $1',
    [valid.metadata.event_id],
  );
  assert.equal(effects.rows[0]!.n, 1, 'the valid event had its effect once');

  // Every poison record in the DLQ (in any order: wrong-key may sit on another partition).
  const dead: IncomingRecord[] = [];
  const reader = createConsumer(
    { clientId: 'faults-poison-reader', bootstrapServers: s.bootstrap },
    {
      groupId: `${s.group}-dlq-reader`,
      topics: [`${s.inventoryTopic}.dlq`],
      autoOffsetReset: 'earliest',
      maxWaitMs: 200,
    },
  );
  t.after(() => reader.close());
  const reading = reader.run((batch) => {
    dead.push(...batch.records);
    return Promise.resolve();
  });
  const dlqDeadline = Date.now() + 60_000;
  while (dead.length < Object.keys(expected).length && Date.now() < dlqDeadline) await sleep(250);
  await sleep(1000); // anything more (the unknown type, the valid event) would show up now
  await reader.close();
  await reading.catch(() => undefined);

  const byProbe = new Map(dead.map((r) => [r.headers['probe'], r]));
  for (const [name, code] of Object.entries(expected)) {
    const r = byProbe.get(name);
    assert.ok(r !== undefined, `${name} is in the DLQ`);
    assert.equal(r.headers['dlq.error.code'], code, `${name}: dlq.error.code`);
    assert.equal(r.headers['dlq.original.topic'], s.inventoryTopic, `${name}: dlq.original.topic`);
    assert.equal(r.headers['dlq.consumer.group'], s.group, `${name}: dlq.consumer.group`);
    const sent = records.find((x) => x.headers?.['probe'] === name)!;
    // A zero-length value and a null value both count as empty; Kafka keeps the difference.
    assert.deepEqual(
      r.value ?? null,
      sent.value === null ? null : sent.value,
      `${name}: value bytes untouched`,
    );
    assert.deepEqual(r.key, sent.key, `${name}: key bytes untouched`);
  }
  assert.equal(
    byProbe.has('unknown-type'),
    false,
    'an unknown event type is skipped, not dead-lettered',
  );
  assert.equal(byProbe.has('valid'), false, 'the valid event is not dead-lettered');
  assert.equal(dead.length, Object.keys(expected).length, 'nothing else in the DLQ');

  await sales.scrape();
  const skipped = sales.counter(
    (series) =>
      // Unknown types share one bounded label (src/messaging/inbox/metrics.ts eventTypeLabel).
      series.startsWith('erp_consumer_skipped_total{') && series.includes('event_type="unknown"'),
  );
  assert.equal(skipped, 1, 'the unknown event type is counted as skipped');
  assert.equal(sales.unplannedExits.length, 0, 'Sales kept running');
  say(
    `poison: ${dead.length} records dead-lettered with the expected codes, 1 unknown type skipped, the valid event processed`,
  );
  t.diagnostic(
    JSON.stringify(
      Object.fromEntries(dead.map((r) => [r.headers['probe'], r.headers['dlq.error.code']])),
    ),
  );
  passed = true;
});
