/**
 * The kit's consumer-lag worker against the real broker: `erp_consumer_lag{group,topic,partition}`
 * per partition of the consumed topics, from the group's committed offsets, with or without a
 * running member, following new commits and records, dropping partitions that are gone, and
 * surviving reads that fail.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createGroupLagReader } from '../../../src/messaging/kafka/group-lag.ts';
import type { GroupLagReader } from '../../../src/messaging/kafka/group-lag.ts';
import {
  createConsumer,
  ensureTopics,
  KafkaErrorCodes,
} from '../../../src/messaging/kafka/index.ts';
import type { KafkaConnectionOptions } from '../../../src/messaging/kafka/index.ts';
import { createConsumerLagWorker } from '../../../src/messaging/service/consumer-lag.ts';
import { AppError } from '../../../src/platform/index.ts';
import type { Logger } from '../../../src/platform/index.ts';
import { produceToPartitions, testBootstrap, uniqueName, waitUntil } from '../../support/kafka.ts';

let conn: KafkaConnectionOptions;

before(async () => {
  conn = { clientId: uniqueName('consumer-lag-test'), bootstrapServers: await testBootstrap() };
});

/** The group's series: partition → lag (other groups' series on the registry left out). */
async function lagOf(registry: Registry, group: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric('erp_consumer_lag');
  if (metric === undefined) return {};
  const result: Record<string, number> = {};
  for (const { labels, value } of (await metric.get()).values) {
    if (labels['group'] === group) result[`${labels['topic']}/${labels['partition']}`] = value;
  }
  return result;
}

function logLines(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  return { logger, lines };
}

test('lag per partition, owned or not, follows commits and records, and drops a deleted topic', async (t) => {
  const topic = uniqueName('lag-worker');
  const group = uniqueName('lag-worker-group');
  await ensureTopics(conn, [{ name: topic, partitions: 3, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [4, 2, 3]);
  const admin = new Admin({ clientId: conn.clientId, bootstrapBrokers: conn.bootstrapServers });
  t.after(() => admin.close());
  // Committed by a member that is gone: no member of the group runs.
  await admin.alterConsumerGroupOffsets({
    groupId: group,
    topics: [
      {
        name: topic,
        partitionOffsets: [
          { partition: 0, offset: 1n },
          { partition: 1, offset: 2n },
        ],
      },
    ],
  });
  const registry = new Registry();
  const worker = createConsumerLagWorker({
    openReader: () => createGroupLagReader(conn),
    groupId: group,
    topics: [topic],
    registry,
    logger: pino({ level: 'silent' }),
    intervalMs: 50,
  });
  t.after(() => worker.stop());
  await worker.start();
  const expect = async (what: string, expected: Record<string, number>) => {
    try {
      await waitUntil(what, async () => {
        const actual = await lagOf(registry, group);
        return JSON.stringify(actual) === JSON.stringify(expected);
      });
    } catch (err) {
      // Show the values the worker settled on rather than only the timeout.
      assert.deepEqual(await lagOf(registry, group), expected, String(err));
    }
  };
  // Partition 2: nothing committed, its whole log is lag.
  await expect('lag of the stopped group', {
    [`${topic}/0`]: 3,
    [`${topic}/1`]: 0,
    [`${topic}/2`]: 3,
  });

  // A member joins and commits everything; while it runs, it owns every partition.
  const consumer = createConsumer(conn, {
    groupId: group,
    topics: [topic],
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  });
  t.after(() => consumer.close());
  const running = consumer.run(() => Promise.resolve());
  await expect('no lag once the member caught up', {
    [`${topic}/0`]: 0,
    [`${topic}/1`]: 0,
    [`${topic}/2`]: 0,
  });
  await consumer.close();
  await running;

  // Records arrive while no member runs: the lag of partitions nobody owns grows.
  await produceToPartitions(conn, topic, [0, 5, 1]);
  await expect('lag after new records', {
    [`${topic}/0`]: 0,
    [`${topic}/1`]: 5,
    [`${topic}/2`]: 1,
  });

  // Offsets committed from elsewhere (another instance, an operator's reset) show too.
  await admin.alterConsumerGroupOffsets({
    groupId: group,
    topics: [{ name: topic, partitionOffsets: [{ partition: 1, offset: 5n }] }],
  });
  await expect('lag after a commit', { [`${topic}/0`]: 0, [`${topic}/1`]: 2, [`${topic}/2`]: 1 });

  // A topic that is gone keeps no series behind.
  await admin.deleteTopics({ topics: [topic] });
  await expect('no series for a deleted topic', {});
});

test('a failing read only warns, once per period; the last values stay until stale, then go', async (t) => {
  const topic = uniqueName('lag-failing');
  const group = uniqueName('lag-failing-group');
  await ensureTopics(conn, [{ name: topic, partitions: 1, replicationFactor: 1 }]);
  await produceToPartitions(conn, topic, [2]);
  // The shared broker cannot be stopped under other tests, so the failure is made here: a real
  // reader whose reads fail while `failing` is set, as they would with the cluster unreachable.
  let failing = false;
  let reads = 0;
  const openReader = (): GroupLagReader => {
    const real = createGroupLagReader(conn);
    return {
      read: (g, topics) => {
        reads++;
        if (!failing) return real.read(g, topics);
        return Promise.reject(
          new AppError(KafkaErrorCodes.CONNECTION, 'broker unreachable', { retryable: true }),
        );
      },
      close: () => real.close(),
    };
  };
  const registry = new Registry();
  const { logger, lines } = logLines();
  const worker = createConsumerLagWorker({
    openReader,
    groupId: group,
    topics: [topic],
    registry,
    logger,
    intervalMs: 20,
    staleAfterMs: 600,
    warnEveryMs: 60_000,
  });
  t.after(() => worker.stop());
  await worker.start();
  await waitUntil('a first value', async () => (await lagOf(registry, group))[`${topic}/0`] === 2);

  failing = true;
  const before = reads;
  await waitUntil('several failed reads', () => reads >= before + 5);
  assert.deepEqual(await lagOf(registry, group), { [`${topic}/0`]: 2 }, 'kept while fresh');
  await waitUntil(
    'the stale series removed',
    async () => Object.keys(await lagOf(registry, group)).length === 0,
  );
  const warnings = () => lines.filter((l) => l.level === 40);
  assert.equal(warnings().length, 1, 'one warning per warnEveryMs, however many reads failed');

  failing = false;
  await waitUntil('values again', async () => (await lagOf(registry, group))[`${topic}/0`] === 2);
  assert.ok(lines.some((l) => l.msg === 'reading consumer lag works again'));

  await worker.stop();
  assert.deepEqual(await lagOf(registry, group), {}, 'a stopped worker leaves no frozen values');
});
