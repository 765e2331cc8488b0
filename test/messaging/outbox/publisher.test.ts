/**
 * One publishing pass, without the relay around it: rows in position order in batches, marked
 * once Kafka acknowledged them, the side of a failure reported to the health, and rows Kafka
 * acknowledged but the UPDATE did not mark marked first by the next pass, not sent again.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createProducer, type EventProducer } from '../../../src/messaging/kafka/producer.ts';
import type { RelayHealth, Trouble } from '../../../src/messaging/outbox/health.ts';
import { createPublisher } from '../../../src/messaging/outbox/publisher.ts';
import { AppError, type Database } from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';
import { cleanupStack, type OutboxDB } from '../fixtures.ts';
import {
  append,
  consume,
  kafkaConnection,
  newTopic,
  outboxRow,
  recordingMetrics,
  unpublished,
  unreachableProducer,
} from './fixtures.ts';

function recordingHealth() {
  const failures: [Trouble, unknown][] = [];
  const health: RelayHealth = {
    failed: (side, err) => void failures.push([side, err]),
    succeeded: () => {},
    attempts: 0,
  };
  return { health, failures };
}

async function setup(
  t: TestContext,
  options: {
    batchSize: number;
    producer?: EventProducer;
    table?: string;
    schemaIds?: ReadonlyMap<string, string>;
  },
) {
  const c = cleanupStack(t);
  const database = await testDatabase<OutboxDB>(c, 'sales');
  const producer = options.producer ?? createProducer(await kafkaConnection());
  c.after(() => producer.close().catch(() => {}));
  const { metrics, seen } = recordingMetrics();
  const { health, failures } = recordingHealth();
  const publisher = createPublisher({
    db: database.db,
    table: options.table ?? 'outbox',
    producer,
    batchSize: options.batchSize,
    sendTimeoutMs: 30_000,
    metrics,
    health,
    ...(options.schemaIds === undefined ? {} : { schemaIds: options.schemaIds }),
  });
  return { database, publisher, seen, failures };
}

/** event_ids of the outbox rows in position order, and of the published ones. */
async function outboxIds(database: Database<OutboxDB>) {
  const rows = await database.db
    .selectFrom('outbox')
    .select(['event_id', 'published_at'])
    .orderBy('position')
    .execute();
  return {
    all: rows.map((r) => r.event_id),
    published: rows.filter((r) => r.published_at !== null).map((r) => r.event_id),
  };
}

const always = () => true;

test('a pass publishes every row in position order, in batches of batchSize, and marks them', async (t) => {
  const { database, publisher, seen, failures } = await setup(t, { batchSize: 3 });
  const topic = await newTopic(1);
  // Keys interleaved: on one partition the topic's order is the order of the sends.
  const rows = Array.from({ length: 7 }, (_, i) => outboxRow(topic, `k${i % 3}`, i));
  await append(database, rows.slice(0, 4));
  await append(database, rows.slice(4));

  await publisher.pass(always);
  assert.deepEqual(seen.batches, [3, 3, 1]);
  assert.equal(await unpublished(database), 0);
  const ids = await outboxIds(database);
  assert.deepEqual(ids.published, ids.all);
  assert.deepEqual(failures, []);
  assert.equal(publisher.unmarked(), undefined);
  const records = await consume(t, topic, rows.length);
  assert.deepEqual(
    records.map((r) => r.headers.event_id),
    rows.map((r) => r.eventId),
  );

  // Drained: the next pass sends nothing.
  await publisher.pass(always);
  assert.deepEqual(seen.batches, [3, 3, 1]);
});

test('schema ids: the schema_id header from the map by event type and major; no entry, no header', async (t) => {
  const schemaIds = new Map([['test.happened@1', '42']]);
  const { database, publisher } = await setup(t, { batchSize: 10, schemaIds });
  const topic = await newTopic(1);
  const typed = (seq: number, type: string, version: string) => {
    const row = outboxRow(topic, 'k', seq);
    return { ...row, headers: { ...row.headers, event_type: type, event_version: version } };
  };
  const rows = [
    typed(0, 'test.happened', '1.0'),
    // Any minor of major 1 has major 1's schema.
    typed(1, 'test.happened', '1.7'),
    typed(2, 'test.happened', '2.0'),
    typed(3, 'test.other', '1.0'),
    // Rows with no type headers are sent as they are.
    outboxRow(topic, 'k', 4),
  ];
  await append(database, rows);
  await publisher.pass(always);
  const records = await consume(t, topic, rows.length);
  assert.deepEqual(
    records.map((r) => r.headers['schema_id']),
    ['42', '42', undefined, undefined, undefined],
  );
  assert.deepEqual(records[0]!.headers, { ...rows[0]!.headers, schema_id: '42' });
  assert.deepEqual(records[4]!.headers, rows[4]!.headers);
});

test('when goOn() turns false the pass ends after the batch in hand; the next pass goes on from there', async (t) => {
  const { database, publisher, seen } = await setup(t, { batchSize: 3 });
  const topic = await newTopic(1);
  const rows = Array.from({ length: 8 }, (_, i) => outboxRow(topic, 'k', i));
  await append(database, rows);

  let asked = 0;
  await publisher.pass(() => ++asked === 1);
  assert.deepEqual(seen.batches, [3]);
  const ids = await outboxIds(database);
  assert.deepEqual(
    ids.published,
    rows.slice(0, 3).map((r) => r.eventId),
  );

  await publisher.pass(always);
  assert.deepEqual(seen.batches, [3, 3, 2]);
  const records = await consume(t, topic, rows.length);
  assert.deepEqual(
    records.map((r) => r.headers.event_id),
    rows.map((r) => r.eventId),
    'each row once, in position order',
  );
});

test("a send failure is reported as Kafka's, thrown, and leaves the rows unpublished", async (t) => {
  const { database, publisher, seen, failures } = await setup(t, {
    batchSize: 10,
    producer: unreachableProducer(t),
  });
  await append(database, [outboxRow('never-created', 'k', 0), outboxRow('never-created', 'k', 1)]);
  const rejected = await publisher.pass(always).then(
    () => assert.fail('the pass should fail'),
    (err: unknown) => err,
  );
  assert.ok(rejected instanceof AppError && rejected.code === 'ERP_KAFKA_CONNECTION');
  assert.deepEqual(failures, [['kafka', rejected]]);
  assert.deepEqual(seen.batches, []);
  assert.equal(await unpublished(database), 2);
  assert.equal(publisher.unmarked(), undefined, 'nothing was acknowledged');
});

test("a read failure is reported as the database's", async (t) => {
  const { publisher, failures } = await setup(t, { batchSize: 10, table: 'no_such_outbox' });
  await assert.rejects(
    publisher.pass(always),
    (err) => err instanceof AppError && err.code === 'ERP_DB_STATEMENT_FAILED',
  );
  assert.deepEqual(
    failures.map(([side]) => side),
    ['database'],
  );
});

test('rows Kafka acknowledged but the UPDATE did not mark are marked by the next pass, not sent again', async (t) => {
  const { database, publisher, seen, failures } = await setup(t, { batchSize: 10 });
  const topic = await newTopic(1);
  // Marking fails while the switch is on: the database refuses the UPDATE after Kafka acknowledged.
  await database.exec(`
    CREATE TABLE refuse_marks (active boolean NOT NULL);
    INSERT INTO refuse_marks VALUES (true);
    CREATE FUNCTION refuse_mark() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT active FROM refuse_marks) THEN RAISE EXCEPTION 'marking refused'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_mark BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_mark();
  `);
  const rows = Array.from({ length: 3 }, (_, i) => outboxRow(topic, 'k', i));
  await append(database, rows);

  await assert.rejects(publisher.pass(always), /marking refused/);
  assert.deepEqual(
    failures.map(([side]) => side),
    ['database'],
  );
  assert.equal(publisher.unmarked(), 3);
  assert.equal(await unpublished(database), 3);
  assert.deepEqual(seen.batches, []);

  await database.exec('UPDATE refuse_marks SET active = false');
  await publisher.pass(always);
  assert.equal(publisher.unmarked(), undefined);
  assert.equal(await unpublished(database), 0);
  assert.deepEqual(seen.batches, [3], 'the published count includes rows marked late');
  // Marked without a second send: Kafka holds each row once.
  const records = await consume(t, topic, rows.length, 1000);
  assert.deepEqual(
    records.map((r) => r.headers.event_id),
    rows.map((r) => r.eventId),
  );
});
