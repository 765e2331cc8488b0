import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PartitionQueues,
  type PartitionBatch,
  type QueuedRecord,
} from '../../../src/messaging/kafka/partition-queues.ts';

const T = 'orders';
const all = () => true;

const rec = (partition: number, offset: number, topic = T): QueuedRecord => ({
  topic,
  partition,
  offset: BigInt(offset),
});

function queuesWith(maxBatchSize: number, concurrency: number, records: QueuedRecord[] = []) {
  const queues = new PartitionQueues<QueuedRecord>({ maxBatchSize, concurrency });
  for (const r of records) queues.push(r);
  return queues;
}

const range = (partition: number, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => rec(partition, from + i));

/** `partition:offset,offset` of a batch, or 'none'. */
const show = (batch: PartitionBatch<QueuedRecord> | undefined): string =>
  batch === undefined
    ? 'none'
    : `${batch.partition}:${batch.records.map((r) => r.offset).join(',')}`;

/** Takes and releases one batch at a time until none is left. */
function drain(queues: PartitionQueues<QueuedRecord>): string[] {
  const taken: string[] = [];
  for (let batch = queues.take(all); batch !== undefined; batch = queues.take(all)) {
    taken.push(show(batch));
    queues.release(batch);
  }
  return taken;
}

test('records below the next expected offset of their partition are dropped', () => {
  const queues = queuesWith(10, 1);
  assert.deepEqual(
    range(0, 0, 3).map((r) => queues.push(r)),
    [true, true, true],
  );
  // A rebalance makes the library fetch again from the committed offset.
  assert.equal(queues.push(rec(0, 1)), false);
  assert.equal(queues.push(rec(0, 2)), false);
  assert.equal(queues.push(rec(0, 3)), true);
  // Offsets may jump (transaction markers, compaction); only going back is a redelivery.
  assert.equal(queues.push(rec(0, 7)), true);
  // Other partitions and topics have their own expected offsets.
  assert.equal(queues.push(rec(1, 0)), true);
  assert.equal(queues.push(rec(0, 0, 'payments')), true);
  assert.equal(queues.buffered, 7);
  assert.deepEqual(drain(queues), ['0:0,1,2,3,7', '1:0', '0:0']);
});

test('a batch holds at most maxBatchSize records, oldest first', () => {
  const queues = queuesWith(3, 1, range(0, 0, 7));
  assert.deepEqual(drain(queues), ['0:0,1,2', '0:3,4,5', '0:6']);
  assert.equal(queues.buffered, 0);
});

test('partitions take turns: a partition that got a batch goes behind the others', () => {
  const queues = queuesWith(2, 1, [...range(0, 0, 6), ...range(1, 0, 4), ...range(2, 0, 2)]);
  assert.deepEqual(drain(queues), ['0:0,1', '1:0,1', '2:0,1', '0:2,3', '1:2,3', '0:4,5']);
});

test('a partition with a batch out is skipped until that batch is released', () => {
  const queues = queuesWith(2, 3, range(0, 0, 4));
  const first = queues.take(all);
  assert.equal(show(first), '0:0,1');
  assert.equal(queues.take(all), undefined, 'one partition is always sequential');
  queues.push(rec(1, 0));
  assert.equal(show(queues.take(all)), '1:0', 'another partition is not held up');
  queues.push(rec(0, 4));
  queues.release(first!);
  assert.equal(show(queues.take(all)), '0:2,3', 'records pushed meanwhile wait their turn');
});

test('no more than `concurrency` batches are out at once', () => {
  const queues = queuesWith(5, 2, [rec(0, 0), rec(1, 0), rec(2, 0)]);
  const a = queues.take(all);
  const b = queues.take(all);
  assert.deepEqual([show(a), show(b)], ['0:0', '1:0']);
  assert.equal(queues.inFlight, 2);
  assert.equal(queues.take(all), undefined);
  assert.equal(queues.buffered, 1);
  queues.release(b!);
  assert.equal(queues.inFlight, 1);
  assert.equal(show(queues.take(all)), '2:0');
});

test('pause thresholds follow maxBatchSize and concurrency (at least two batches deep)', () => {
  assert.deepEqual(
    [queuesWith(2, 1), queuesWith(2, 2), queuesWith(5, 3)].map((q) => [q.pauseAt, q.resumeBelow]),
    [
      [8, 4],
      [8, 4],
      [30, 15],
    ],
  );
});

test('pause once the buffer reaches pauseAt, resume once it is below half', () => {
  // maxBatchSize 1, concurrency 1: pauseAt 4, resumeBelow 2.
  const queues = queuesWith(1, 1, range(0, 0, 3));
  assert.equal(queues.pauseIfFull(), false, '3 of 4');
  assert.equal(queues.resumeIfDrained(), false, 'not paused');
  queues.push(rec(0, 3));
  assert.equal(queues.pauseIfFull(), true, '4 of 4');
  queues.push(rec(0, 4));
  assert.equal(queues.pauseIfFull(), false, 'already paused');

  const buffered: number[] = [];
  const resumed: boolean[] = [];
  for (let i = 0; i < 4; i++) {
    queues.release(queues.take(all)!);
    buffered.push(queues.buffered);
    resumed.push(queues.resumeIfDrained());
  }
  assert.deepEqual(buffered, [4, 3, 2, 1]);
  assert.deepEqual(resumed, [false, false, false, true], 'once, and only below 2');
});

test('a revoked partition is dropped, and its expected offset forgotten', () => {
  const queues = queuesWith(10, 2, [...range(0, 0, 3), ...range(1, 0, 3), ...range(2, 0, 3)]);
  const revoked = new Set([0, 2]);
  const assigned = (topic: string, partition: number) => topic === T && !revoked.has(partition);
  const batch = queues.take(assigned);
  assert.equal(show(batch), '1:0,1,2');
  assert.equal(queues.buffered, 3, 'partition 2 is only looked at on a later take');
  assert.equal(queues.take(assigned), undefined);
  assert.equal(queues.buffered, 0);
  // Assigned again later: it starts over from the committed offset, which is not a redelivery.
  assert.equal(queues.push(rec(0, 0)), true);
  assert.equal(queues.push(rec(1, 2)), false, 'the assigned partition still deduplicates');
});

test('clear forgets queued records, expected offsets and the paused state', () => {
  const queues = queuesWith(1, 1, [...range(0, 0, 3), ...range(1, 0, 2)]);
  assert.equal(queues.pauseIfFull(), true);
  const out = queues.take(all)!;
  queues.clear();
  assert.equal(queues.buffered, 0);
  assert.equal(queues.resumeIfDrained(), false, 'no longer paused');
  assert.equal(queues.inFlight, 1, 'the batch out stays busy until released');
  assert.equal(queues.push(rec(0, 0)), true, 'offsets start over');
  assert.equal(queues.take(all), undefined);
  queues.release(out);
  assert.deepEqual(drain(queues), ['0:0']);
  for (const r of range(1, 0, 3)) queues.push(r);
  assert.equal(queues.pauseIfFull(), false, '3 of 4');
  queues.push(rec(1, 3));
  assert.equal(queues.pauseIfFull(), true, 'pauses again');
});

test('take hands out nothing from empty queues', () => {
  const queues = queuesWith(5, 1);
  assert.equal(queues.take(all), undefined);
  assert.equal(queues.inFlight, 0);
});
