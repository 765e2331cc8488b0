/** The relay's health: every failure counted, each transition logged once, recovery logged once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRelayHealth } from '../../../src/messaging/outbox/health.ts';
import { AppError } from '../../../src/platform/index.ts';
import { captureLogs, INFO, recordingMetrics, WARN } from './fixtures.ts';

const KAFKA_DOWN = 'Kafka is not acknowledging outbox batches; retrying with backoff';
const DATABASE_DOWN = 'outbox table unreachable; retrying with backoff';
const RECOVERED = 'outbox publishing recovered';

function setup() {
  const { logger, lines } = captureLogs();
  const { metrics, seen } = recordingMetrics();
  const clock = { now: 1_000 };
  let pending: number | undefined = 7;
  const health = createRelayHealth(
    logger,
    metrics,
    () => pending,
    () => clock.now,
  );
  const setPending = (n: number | undefined) => (pending = n);
  return { health, lines, seen, clock, setPending };
}

const kafkaError = (n: number) =>
  new AppError('ERP_KAFKA_CONNECTION', `refused ${n}`, { outage: true });

test('a healthy relay has no attempts and logs nothing', () => {
  const { health, lines, seen } = setup();
  assert.equal(health.attempts, 0);
  health.succeeded();
  assert.equal(health.attempts, 0);
  assert.deepEqual(lines, []);
  assert.deepEqual(seen.failures, []);
});

test('every failure counts an attempt and a metric; the trouble is logged once per side', () => {
  const { health, lines, seen } = setup();
  const errors = [1, 2, 3].map(kafkaError);
  for (const err of errors) health.failed('kafka', err);
  assert.equal(health.attempts, 3);
  assert.deepEqual(seen.failures, errors);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [[WARN, KAFKA_DOWN]],
  );
  const warning = lines[0]!;
  assert.equal(warning['pendingPositions'], 7, 'how many acknowledged rows are unmarked');
  assert.equal((warning['err'] as { message: string }).message, 'refused 1');

  // The other side failing is a transition too: logged, once.
  const dbError = new AppError('ERP_DB_CONNECTION_LOST', 'gone', { outage: true });
  health.failed('database', dbError);
  health.failed('database', dbError);
  assert.equal(health.attempts, 5);
  assert.equal(seen.failures.length, 5);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      [WARN, KAFKA_DOWN],
      [WARN, DATABASE_DOWN],
    ],
  );
});

test('a success after trouble resets the attempts and logs the recovery once, with how long it took', () => {
  const { health, lines, clock, setPending } = setup();
  clock.now = 10_000;
  health.failed('kafka', kafkaError(1));
  clock.now = 12_000;
  health.failed('database', kafkaError(2));
  clock.now = 13_500;
  health.failed('database', kafkaError(3));
  clock.now = 16_000;
  health.succeeded();
  assert.equal(health.attempts, 0);
  const recovered = lines.filter((l) => l.msg === RECOVERED);
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0]!.level, INFO);
  // Down since the first failure, whichever side failed after it.
  assert.equal(recovered[0]!['downForMs'], 6_000);
  assert.equal(recovered[0]!['attempts'], 3);

  health.succeeded();
  assert.equal(lines.filter((l) => l.msg === RECOVERED).length, 1, 'not logged again');

  // A new outage is a new transition: logged again, counted from one, timed from its start.
  setPending(undefined);
  clock.now = 20_000;
  health.failed('kafka', kafkaError(4));
  assert.equal(health.attempts, 1);
  assert.equal(lines.at(-1)!.msg, KAFKA_DOWN);
  assert.equal(lines.at(-1)!['pendingPositions'], undefined);
  clock.now = 20_250;
  health.succeeded();
  assert.equal(lines.at(-1)!.msg, RECOVERED);
  assert.equal(lines.at(-1)!['downForMs'], 250);
  assert.equal(lines.at(-1)!['attempts'], 1);
  assert.equal(lines.filter((l) => l.level >= WARN).length, 3);
});
