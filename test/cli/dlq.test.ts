import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { dlqList, dlqRedrive, dlqShow } from '../../src/cli/dlq.ts';
import type { Output } from '../../src/cli/dlq.ts';
import {
  ContractError,
  encodeEvent,
  EVENT_TYPES,
  kafkaHeadersFor,
  messageKeyOf,
} from '../../src/contract/index.ts';
import type { EventOf } from '../../src/contract/index.ts';
import { deadLetter } from '../../src/messaging/dead-letter.ts';
import {
  createConsumer,
  createInboxConsumer,
  createProducer,
  ensureTopics,
  EventRouter,
  readTopic,
} from '../../src/messaging/index.ts';
import type {
  EventProducer,
  IncomingRecord,
  KafkaConnectionOptions,
} from '../../src/messaging/index.ts';
import { AppError, createLogger } from '../../src/platform/index.ts';
import { lowStock } from '../contract/fixtures.ts';
import { testDatabase } from '../support/database.ts';
import { testBootstrap, uniqueName, waitUntil } from '../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('cli-test'), bootstrapServers: await testBootstrap() };
});

const logger = createLogger('cli-dlq-test', process.env.LOG_LEVEL ?? 'silent');

function capture(): { out: string[]; err: string[]; output: Output } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l) => void out.push(l), err: (l) => void err.push(l) } };
}

async function readAll(topic: string): Promise<IncomingRecord[]> {
  const records: IncomingRecord[] = [];
  await readTopic(conn, topic, { onRecord: (r) => void records.push(r) });
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

async function endOffsets(topic: string): Promise<bigint[]> {
  const { partitions } = await readTopic(conn, topic, { onRecord: () => 'stop' });
  return partitions.map((p) => p.end);
}

interface Fixture {
  source: string;
  dlq: string;
  producer: EventProducer;
  refused: EventOf<'inventory.low_stock'>;
  invalid: EventOf<'inventory.low_stock'>;
  /** Between the first two dead letters and the last two. */
  boundary: Date;
}

/**
 * Four poison records on a source topic, dead-lettered by `deadLetter()` in two rounds:
 * [not JSON, refused by a handler (tenant-a)] then [invalid payload (tenant-b), not UTF-8].
 */
async function fixture(t: TestContext): Promise<Fixture> {
  const source = uniqueName('inventory-events');
  const dlq = `${source}.dlq`;
  await ensureTopics(conn, [
    { name: source, partitions: 2, replicationFactor: 1 },
    { name: dlq, partitions: 2, replicationFactor: 1 },
  ]);
  const producer = createProducer(conn);
  t.after(() => producer.close());
  const refused = lowStock('P-A', 'tenant-a');
  const invalid = lowStock('P-B', 'tenant-b');
  await producer.send([
    { topic: source, key: 'PRD-1', value: Buffer.from('not json {'), partition: 0 },
    { ...recordOf(source, refused), partition: 0 },
    { ...recordOf(source, invalid), partition: 1 },
    { topic: source, key: null, value: Buffer.from([0xff, 0xfe, 0x00, 0x41]), partition: 1 },
  ]);
  const [notJson, refusedRecord, invalidRecord, binary] = await readAll(source);
  const options = { groupId: 'sales-test' };
  await deadLetter(
    producer,
    notJson!,
    new ContractError('ERP_EVT_MALFORMED_JSON', 'Unexpected token'),
    options,
  );
  await deadLetter(
    producer,
    refusedRecord!,
    new AppError('ERP_TEST_REFUSED', `product P-A refused: ${'x'.repeat(200)}`),
    options,
  );
  await sleep(50);
  const boundary = new Date();
  await sleep(50);
  await deadLetter(
    producer,
    invalidRecord!,
    new ContractError('ERP_EVT_INVALID_PAYLOAD', 'payload.current_stock: expected number'),
    options,
  );
  await deadLetter(
    producer,
    binary!,
    new ContractError('ERP_EVT_MALFORMED_JSON', 'not UTF-8'),
    options,
  );
  return { source, dlq, producer, refused, invalid, boundary };
}

function recordOf(topic: string, event: EventOf<'inventory.low_stock'>) {
  return {
    topic,
    key: messageKeyOf(event),
    value: encodeEvent(event),
    headers: kafkaHeadersFor(event),
  };
}

/** The error-code column of each listed line. */
const codes = (lines: string[]): string[] => lines.map((l) => l.split('  ')[2]!);

test('dlq list prints every dead letter, and each filter selects the right ones', async (t) => {
  const f = await fixture(t);
  const list = async (filter: Parameters<typeof dlqList>[0]['filter'], limit?: number) => {
    const c = capture();
    const count = await dlqList(
      { conn, topic: f.dlq, filter, ...(limit ? { limit } : {}) },
      c.output,
    );
    assert.equal(count, c.out.length);
    return c;
  };

  const all = await list({});
  assert.equal(all.out.length, 4);
  assert.match(all.err.at(-1)!, /4 dead letter\(s\) listed, 4 read/);
  const refusedLine = all.out.find((l) => l.includes('ERP_TEST_REFUSED'))!;
  const [position, time, code, eventType, tenant, original, message] = refusedLine.split('  ');
  assert.match(position!, /^\d:\d+$/);
  assert.ok(!Number.isNaN(Date.parse(time!)), time);
  assert.equal(code, 'ERP_TEST_REFUSED');
  assert.equal(eventType, 'inventory.low_stock');
  assert.equal(tenant, 'tenant-a');
  assert.equal(original, `${f.source}/0@1`);
  assert.equal(message!.length, 80);
  assert.ok(message!.startsWith('product P-A refused: xxx'));

  assert.deepEqual(codes((await list({ code: 'ERP_EVT_MALFORMED_JSON' })).out), [
    'ERP_EVT_MALFORMED_JSON',
    'ERP_EVT_MALFORMED_JSON',
  ]);
  assert.deepEqual(codes((await list({ tenant: 'tenant-b' })).out), ['ERP_EVT_INVALID_PAYLOAD']);
  assert.deepEqual(codes((await list({ eventType: 'inventory.low_stock' })).out).sort(), [
    'ERP_EVT_INVALID_PAYLOAD',
    'ERP_TEST_REFUSED',
  ]);
  assert.deepEqual(codes((await list({ since: f.boundary })).out).sort(), [
    'ERP_EVT_INVALID_PAYLOAD',
    'ERP_EVT_MALFORMED_JSON',
  ]);
  assert.deepEqual(codes((await list({ until: f.boundary })).out).sort(), [
    'ERP_EVT_MALFORMED_JSON',
    'ERP_TEST_REFUSED',
  ]);
  assert.deepEqual(codes((await list({ since: f.boundary, code: 'ERP_EVT_MALFORMED_JSON' })).out), [
    'ERP_EVT_MALFORMED_JSON',
  ]);
  assert.equal((await list({ tenant: 'tenant-z' })).out.length, 0);
  assert.equal((await list({}, 3)).out.length, 3);

  const json = capture();
  await dlqList({ conn, topic: f.dlq, filter: { tenant: 'tenant-a' }, json: true }, json.output);
  assert.equal(json.out.length, 1);
  const doc = JSON.parse(json.out[0]!) as Record<string, unknown>;
  assert.equal(doc['code'], 'ERP_TEST_REFUSED');
  assert.equal(doc['event_id'], f.refused.metadata.event_id);
  assert.equal(doc['original_topic'], f.source);
  assert.equal(doc['original_offset'], '1');
  assert.equal(doc['attempts'], 1);
  assert.equal(doc['consumer_group'], 'sales-test');
});

test('dlq show prints every header, the key and the value', async (t) => {
  const f = await fixture(t);
  const views = capture();
  await dlqList({ conn, topic: f.dlq, json: true }, views.output);
  /** The dead letter of the record that was at `original` (partition:offset) on the source. */
  const position = (original: string) => {
    const doc = views.out
      .map(
        (l) =>
          JSON.parse(l) as {
            partition: number;
            offset: string;
            original_partition: number;
            original_offset: string;
          },
      )
      .find((d) => `${d.original_partition}:${d.original_offset}` === original)!;
    return { partition: doc.partition, offset: BigInt(doc.offset) };
  };

  const refused = capture();
  await dlqShow({ conn, topic: f.dlq, ...position('0:1') }, refused.output);
  const text = refused.out.join('\n');
  for (const header of [
    `dlq.original.topic: ${f.source}`,
    'dlq.original.partition: 0',
    'dlq.original.offset: 1',
    'dlq.error.code: ERP_TEST_REFUSED',
    'dlq.error.retryable: false',
    'dlq.consumer.group: sales-test',
    'dlq.attempts: 1',
    `event_id: ${f.refused.metadata.event_id}`,
    'tenant_id: tenant-a',
  ]) {
    assert.ok(text.includes(`\n  ${header}`), `missing header line "${header}" in:\n${text}`);
  }
  assert.ok(text.includes('key: P-A'));
  // The value pretty-printed: the event back, field for field.
  const value = text.slice(text.indexOf('\nvalue:\n') + '\nvalue:\n'.length);
  assert.deepEqual(JSON.parse(value), JSON.parse(encodeEvent(f.refused).toString()));
  assert.ok(value.includes('\n  "metadata": {'));

  const notJson = capture();
  await dlqShow({ conn, topic: f.dlq, ...position('0:0') }, notJson.output);
  assert.ok(notJson.out.includes('  dlq.error.code: ERP_EVT_MALFORMED_JSON'));
  assert.ok(notJson.out.includes('key: PRD-1'));
  assert.equal(notJson.out.at(-1), 'not json {');

  const binary = capture();
  await dlqShow({ conn, topic: f.dlq, ...position('1:1') }, binary.output);
  assert.ok(binary.out.includes('key: (null)'));
  assert.equal(binary.out.at(-1), '(4 bytes, not UTF-8) hex: ff fe 00 41');

  await assert.rejects(
    dlqShow({ conn, topic: f.dlq, partition: 0, offset: 999n }, capture().output),
    (err) => err instanceof AppError && err.code === 'ERP_CLI_NOT_FOUND',
  );
});

test('dlq redrive --dry-run sends nothing; redrive puts the exact bytes back with a redriven header', async (t) => {
  const f = await fixture(t);
  const before = await endOffsets(f.source);

  const dry = capture();
  const wouldSend = await dlqRedrive({ conn, topic: f.dlq, dryRun: true }, dry.output);
  assert.equal(wouldSend, 4);
  assert.equal(dry.out.filter((l) => l.startsWith('would send ')).length, 4);
  assert.match(dry.out.at(-1)!, /4 dead letter\(s\) would be redriven \(dry run, nothing sent\)/);
  assert.deepEqual(await endOffsets(f.source), before);

  const dlqLetters = await readAll(f.dlq);
  const refusedLetter = dlqLetters.find((r) => r.headers['dlq.error.code'] === 'ERP_TEST_REFUSED')!;
  const done = capture();
  const now = new Date('2030-01-02T03:04:05.000Z');
  const sent = await dlqRedrive(
    {
      conn,
      topic: f.dlq,
      filter: { code: 'ERP_TEST_REFUSED' },
      producer: f.producer,
      now: () => now,
    },
    done.output,
  );
  assert.equal(sent, 1);
  assert.deepEqual(done.out, ['1 dead letter(s) redriven']);
  const after = await endOffsets(f.source);
  assert.equal(
    after.reduce((a, b) => a + b, 0n),
    before.reduce((a, b) => a + b, 0n) + 1n,
  );

  const redriven = (await readAll(f.source)).filter((r) => r.headers['dlq.redriven.from']);
  assert.equal(redriven.length, 1);
  const record = redriven[0]!;
  assert.deepEqual(record.key, Buffer.from('P-A'));
  assert.deepEqual(record.value, encodeEvent(f.refused));
  assert.deepEqual(record.value, refusedLetter.value);
  assert.equal(
    record.headers['dlq.redriven.from'],
    `${f.dlq}:${refusedLetter.partition}:${refusedLetter.offset}`,
  );
  assert.equal(record.headers['dlq.redrive.time'], now.toISOString());
  const expected = {
    ...kafkaHeadersFor(f.refused),
    'dlq.redriven.from': record.headers['dlq.redriven.from'],
    'dlq.redrive.time': now.toISOString(),
  };
  assert.deepEqual(record.headers, expected);

  // --to: another topic, null key and non-UTF-8 value still byte for byte.
  const other = uniqueName('redrive-target');
  await ensureTopics(conn, [{ name: other, partitions: 1, replicationFactor: 1 }]);
  await dlqRedrive(
    { conn, topic: f.dlq, filter: { code: 'ERP_EVT_MALFORMED_JSON' }, to: other },
    capture().output,
  );
  const moved = await readAll(other);
  assert.equal(moved.length, 2);
  const binary = moved.find((r) => r.key === null)!;
  assert.deepEqual(binary.value, Buffer.from([0xff, 0xfe, 0x00, 0x41]));
  assert.deepEqual(moved.find((r) => r.key !== null)!.value, Buffer.from('not json {'));
});

test('an event dead-lettered by a failing handler, redriven once fixed, is applied once; twice, still once', async (t) => {
  const source = uniqueName('inventory-events');
  const dlq = `${source}.dlq`;
  await ensureTopics(conn, [
    { name: source, partitions: 1, replicationFactor: 1 },
    { name: dlq, partitions: 1, replicationFactor: 1 },
  ]);
  const database = await testDatabase<unknown>(t, 'sales');
  await database.exec('CREATE TABLE effects (event_id text PRIMARY KEY, n int NOT NULL)');
  const producer = createProducer(conn);
  t.after(() => producer.close());
  let broken = true;
  const duplicates: string[] = [];
  const processed: string[] = [];
  const deadLettered: string[] = [];
  const router = new EventRouter<unknown>().on(EVENT_TYPES.lowStock, async (events, ctx) => {
    if (broken) throw new AppError('ERP_TEST_BUG', 'handler bug: cannot price this product');
    for (const { event } of events) {
      await sql`INSERT INTO effects (event_id, n) VALUES (${event.metadata.event_id}, 1)
                ON CONFLICT (event_id) DO UPDATE SET n = effects.n + 1`.execute(ctx.trx);
    }
  });
  const groupId = uniqueName('sales');
  const inbox = createInboxConsumer({
    consumer: createConsumer(conn, {
      groupId,
      topics: [source],
      autoOffsetReset: 'earliest',
      maxWaitMs: 100,
    }),
    router,
    database,
    deadLetters: { producer },
    groupId,
    logger,
    metrics: {
      processed: (type) => void processed.push(type),
      duplicate: (type) => void duplicates.push(type),
      skipped: () => {},
      deadLettered: (code) => void deadLettered.push(code),
      batch: () => {},
      retry: () => {},
      outage: () => {},
    },
    retryPolicy: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  t.after(() => inbox.stop());
  await inbox.start();

  const event = lowStock('P-E2E', 'tenant-e2e');
  await producer.send([recordOf(source, event)]);
  await waitUntil('the dead letter', () => deadLettered.length === 1);
  assert.deepEqual(deadLettered, ['ERP_TEST_BUG']);

  broken = false; // the fix is deployed
  const effects = async () =>
    (
      await sql<{
        n: number;
      }>`SELECT n FROM effects WHERE event_id = ${event.metadata.event_id}`.execute(database.db)
    ).rows;
  const first = await dlqRedrive(
    { conn, topic: dlq, filter: { tenant: 'tenant-e2e' } },
    capture().output,
  );
  assert.equal(first, 1);
  await waitUntil('the redriven event applied', () => processed.length === 1);
  assert.deepEqual(await effects(), [{ n: 1 }]);

  const second = await dlqRedrive(
    { conn, topic: dlq, filter: { code: 'ERP_TEST_BUG' } },
    capture().output,
  );
  assert.equal(second, 1);
  await waitUntil('the second redrive seen as a duplicate', () => duplicates.length === 1);
  await inbox.stop();
  assert.deepEqual(await effects(), [{ n: 1 }]);
  assert.equal(processed.length, 1);
  assert.deepEqual(deadLettered, ['ERP_TEST_BUG']);
});
