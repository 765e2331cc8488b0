import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { describeTopics, ensureTopics } from '../../../src/messaging/kafka/admin.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/options.ts';
import { testBootstrap, uniqueName } from '../../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('admin-test'), bootstrapServers: await testBootstrap() };
});

test('ensureTopics creates a 3-partition topic with leaders, and a second call changes nothing', async () => {
  const name = uniqueName('admin-create');
  await ensureTopics(conn, [
    { name, partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' } },
  ]);
  assert.deepEqual(await describeTopics(conn, [name]), [{ name, partitions: 3, ready: true }]);

  await ensureTopics(conn, [{ name, partitions: 3, replicationFactor: 1 }]);
  assert.deepEqual(await describeTopics(conn, [name]), [{ name, partitions: 3, ready: true }]);
});

test('ensureTopics tolerates concurrent creation of the same topics', async () => {
  const a = uniqueName('admin-race-a');
  const b = uniqueName('admin-race-b');
  const specs = [
    { name: a, partitions: 2, replicationFactor: 1 },
    { name: b, partitions: 1, replicationFactor: 1 },
  ];
  await Promise.all([
    ensureTopics(conn, specs),
    ensureTopics(conn, specs),
    ensureTopics(conn, specs),
  ]);
  assert.deepEqual(await describeTopics(conn, [a, b]), [
    { name: a, partitions: 2, ready: true },
    { name: b, partitions: 1, ready: true },
  ]);
});

test('ensureTopics rejects an existing topic with fewer partitions than declared', async () => {
  const name = uniqueName('admin-mismatch');
  await ensureTopics(conn, [{ name, partitions: 1, replicationFactor: 1 }]);
  await assert.rejects(ensureTopics(conn, [{ name, partitions: 3, replicationFactor: 1 }]), {
    code: 'ERP_KAFKA_TOPIC_MISMATCH',
    retryable: false,
  });
});

test('ensureTopics reports a broker refusal as a non-retryable broker error', async () => {
  const name = uniqueName('admin-badrf');
  // One broker cannot hold three replicas.
  await assert.rejects(ensureTopics(conn, [{ name, partitions: 1, replicationFactor: 3 }]), {
    code: 'ERP_KAFKA_BROKER',
    retryable: false,
  });
});

test('ensureTopics validates specs before connecting', async () => {
  const offline = { clientId: 'x', bootstrapServers: ['127.0.0.1:1'] };
  await assert.rejects(
    ensureTopics(offline, [{ name: 'bad name', partitions: 1, replicationFactor: 1 }]),
    {
      code: 'ERP_KAFKA_CONFIG',
    },
  );
  await assert.rejects(
    ensureTopics(offline, [{ name: 'ok', partitions: 0, replicationFactor: 1 }]),
    {
      code: 'ERP_KAFKA_CONFIG',
    },
  );
});

test('describeTopics leaves out unknown topics', async () => {
  assert.deepEqual(await describeTopics(conn, [uniqueName('admin-missing')]), []);
});
