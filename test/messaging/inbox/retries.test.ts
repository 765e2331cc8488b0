/**
 * When applying fails: a failed batch falls back to runs of one, retryable failures are retried
 * per the policy then dead-lettered, a handler's bug is dead-lettered at once, and outages are
 * waited out without spending attempts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { encodeEvent, EVENT_TYPES } from '../../../src/contract/index.ts';
import type { AnyEvent } from '../../../src/contract/index.ts';
import { AppError, PlatformErrorCodes } from '../../../src/platform/index.ts';
import { waitUntil } from '../../support/kafka.ts';
import {
  applyEach,
  applyEffect,
  harness,
  idOf,
  lowStock,
  productCreated,
  recordOf,
  type Harness,
} from './fixtures.ts';

/** Makes the database raise `errcode`: a real driver error, coded by the database boundary. */
async function raiseInDatabase(trx: Kysely<unknown>, errcode: string, message: string) {
  const block = `DO $$ BEGIN RAISE EXCEPTION '${message}' USING ERRCODE = '${errcode}'; END $$`;
  await sql.raw(block).execute(trx);
}

/**
 * `flaky` between two events of another type, so that it is a run of one, whatever the Kafka
 * batches: its failure in a batch is charged to it, as an attempt.
 */
async function sendBetweenOthers(h: Harness, flaky: AnyEvent): Promise<void> {
  h.router.on(EVENT_TYPES.productCreated, applyEach);
  await h.send(
    [productCreated('P1'), flaky, productCreated('P3')].map((e) => recordOf(h.topic, e)),
  );
}

test('a handler failing transiently twice is retried: effects once, no dead letter', async (t) => {
  const h = await harness(t);
  const flaky = lowStock('P2');
  let flakyCalls = 0;
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    await applyEach(events, ctx);
    flakyCalls++;
    if (flakyCalls === 1) {
      throw new AppError('ERP_TEST_TRANSIENT', 'try again', { retryable: true });
    }
    // A real serialization failure through the transaction: the boundary codes it, retryable.
    if (flakyCalls === 2) {
      await raiseInDatabase(ctx.trx, 'serialization_failure', 'could not serialize access');
    }
  });
  await sendBetweenOthers(h, flaky);
  const inbox = await h.start();
  await waitUntil('all events', () => h.calls.processed.length === 3);
  await inbox.stop();

  assert.equal(flakyCalls, 3);
  assert.deepEqual(h.calls.retries, ['ERP_TEST_TRANSIENT', 'ERP_DB_CONFLICT']);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1]);
});

test('a handler failing retryably 3 times with attempts=5 is retried: effects once, no dead letter', async (t) => {
  const h = await harness(t);
  const flaky = lowStock('P2');
  let flakyCalls = 0;
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    await applyEach(events, ctx);
    if (++flakyCalls <= 3) {
      throw new AppError('ERP_TEST_TRANSIENT', 'try again', { retryable: true });
    }
  });
  await sendBetweenOthers(h, flaky);
  const inbox = await h.start({ retryPolicy: { attempts: 5 } });
  await waitUntil('all events', () => h.calls.processed.length === 3);
  await inbox.stop();

  assert.equal(flakyCalls, 4);
  assert.deepEqual(h.calls.retries, Array(3).fill('ERP_TEST_TRANSIENT'));
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual([...(await h.effects()).values()], [1, 1, 1]);
});

test('a handler always failing retryably: dead-lettered after `attempts`, the others applied', async (t) => {
  const h = await harness(t);
  const doomed = lowStock('P2');
  let doomedCalls = 0;
  h.router.on(EVENT_TYPES.lowStock, async (events, ctx) => {
    await applyEach(events, ctx);
    doomedCalls++;
    throw new AppError('ERP_TEST_TRANSIENT', `still busy (${doomedCalls})`, { retryable: true });
  });
  await sendBetweenOthers(h, doomed);
  const inbox = await h.start({ retryPolicy: { attempts: 4 } });
  await waitUntil('the dead letter', () => h.calls.deadLettered.length === 1);
  await waitUntil('the others', () => h.calls.processed.length === 2);
  await inbox.stop();

  assert.equal(doomedCalls, 4);
  assert.deepEqual(h.calls.deadLettered, ['ERP_TEST_TRANSIENT']);
  assert.deepEqual(h.calls.retries, Array(3).fill('ERP_TEST_TRANSIENT'));
  const effects = await h.effects();
  assert.equal(effects.get(idOf(doomed)), undefined);
  assert.equal(effects.size, 2);
  const [letter] = await h.readDeadLetters(1);
  assert.equal(letter!.headers['dlq.attempts'], '4');
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_TEST_TRANSIENT');
  assert.equal(letter!.headers['dlq.error.retryable'], 'true');
  assert.equal(letter!.headers['dlq.error.message'], 'still busy (4)');
  assert.deepEqual(letter!.value, encodeEvent(doomed));
  const first = Date.parse(letter!.headers['dlq.first.failure']!);
  const last = Date.parse(letter!.headers['dlq.last.failure']!);
  // Three waits of at least 10 ms * 0.8 (jitter) each lie between the first and the last failure.
  assert.ok(last - first >= 24, `first ${first}, last ${last}`);
});

test('an error a handler throws itself, not through the database, is a bug: dead-lettered, never retried', async (t) => {
  const h = await harness(t);
  const buggy = lowStock('P2');
  let calls = 0;
  h.router.on(EVENT_TYPES.lowStock, () => {
    calls++;
    // Shaped like a driver's serialization failure, but not from the driver: not trusted.
    return Promise.reject(
      Object.assign(new Error('could not serialize access'), { code: '40001' }),
    );
  });
  await sendBetweenOthers(h, buggy);
  const inbox = await h.start({ retryPolicy: { attempts: 5 } });
  await waitUntil('the dead letter', () => h.calls.deadLettered.length === 1);
  await waitUntil('the others', () => h.calls.processed.length === 2);
  await inbox.stop();

  // Once in its batch, once alone (the batch may have been to blame): no retry after that.
  assert.equal(calls, 2);
  assert.deepEqual(h.calls.retries, []);
  assert.deepEqual(h.calls.deadLettered, ['ERP_MSG_UNEXPECTED']);
  const [letter] = await h.readDeadLetters(1);
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_MSG_UNEXPECTED');
  assert.equal(letter!.headers['dlq.error.retryable'], 'false');
  assert.equal(letter!.headers['dlq.attempts'], '2');
  assert.equal(letter!.headers['dlq.error.message'], 'could not serialize access (code 40001)');
  assert.equal(letter!.headers.event_id, idOf(buggy));
});

test('a run failing on one event is applied again as runs of one: only that event is dead-lettered', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2', 'P3', 'P4', 'P5'].map((p) => lowStock(p));
  const culprit = events[2]!;
  const sizes: number[] = [];
  const handled = new Map<string, number>();
  const afterCommits = new Map<string, number>();
  h.router.on(EVENT_TYPES.lowStock, async (run, ctx) => {
    sizes.push(run.length);
    for (const { event } of run) {
      const id = idOf(event);
      handled.set(id, (handled.get(id) ?? 0) + 1);
      await applyEffect(ctx.trx, id);
      ctx.afterCommit(() => void afterCommits.set(id, (afterCommits.get(id) ?? 0) + 1));
      if (id === idOf(culprit)) {
        throw new AppError('ERP_TEST_REJECTED', `product ${event.payload.product_id} refused`);
      }
    }
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start();
  await waitUntil('the dead letter', () => h.calls.deadLettered.length === 1);
  await waitUntil('the others', () => h.calls.processed.length === 4);
  await inbox.stop();

  const effects = await h.effects();
  for (const event of events) {
    const id = idOf(event);
    assert.equal(effects.get(id), event === culprit ? undefined : 1, id);
    assert.equal(afterCommits.get(id), event === culprit ? undefined : 1, id);
  }
  const inboxIds = await h.inbox();
  assert.ok(!inboxIds.includes(idOf(culprit)));
  assert.equal(inboxIds.length, 4);
  assert.deepEqual(h.calls.deadLettered, ['ERP_TEST_REJECTED']);
  assert.deepEqual(h.calls.retries, []);

  const [letter] = await h.readDeadLetters(1);
  assert.equal(letter!.headers['dlq.error.code'], 'ERP_TEST_REJECTED');
  assert.equal(letter!.headers['dlq.error.message'], 'product P3 refused');
  assert.equal(letter!.headers.event_id, idOf(culprit));
  assert.deepEqual(letter!.value, encodeEvent(culprit));
  assert.ok(
    letter!.headers['dlq.first.failure']! <= letter!.headers['dlq.last.failure']!,
    'failure times in order',
  );
  if (h.calls.batches.length === 1) {
    // The run of five failed (nobody to blame in it), then each event ran alone, as a run of one.
    assert.deepEqual(sizes, [5, 1, 1, 1, 1, 1]);
    assert.equal(handled.get(idOf(events[0]!)), 2);
    assert.equal(handled.get(idOf(events[4]!)), 1);
    assert.equal(letter!.headers['dlq.attempts'], '1');
  }
});

test('a lost database connection is an outage: retried past `attempts`, never dead-lettered', async (t) => {
  const h = await harness(t);
  const events = ['P1', 'P2'].map((p) => lowStock(p));
  const failFor = 5;
  let failures = 0;
  h.router.on(EVENT_TYPES.lowStock, async (run, ctx) => {
    if (failures < failFor) {
      failures++;
      if (h.database.kind === 'postgres') {
        // A real lost connection: the server ends this session (SQLSTATE 57P01).
        await sql`SELECT pg_terminate_backend(pg_backend_pid())`.execute(ctx.trx);
      } else {
        // PGlite runs in-process and cannot lose its connection: the driver reports the same SQLSTATE.
        const message = 'terminating connection due to administrator command';
        await raiseInDatabase(ctx.trx, 'admin_shutdown', message);
      }
      assert.fail('the statement above fails');
    }
    await applyEach(run, ctx);
  });
  await h.send(events.map((e) => recordOf(h.topic, e)));
  const inbox = await h.start({ retryPolicy: { attempts: 2 } });
  await waitUntil('both events', () => h.calls.processed.length === 2);
  await inbox.stop();

  assert.equal(failures, failFor);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual(h.calls.retries, []);
  assert.deepEqual(h.calls.outages, Array(failFor).fill('ERP_DB_CONNECTION_LOST'));
  assert.deepEqual([...(await h.effects()).values()], [1, 1]);
});

test('stop() during an outage abandons the retrying batch uncommitted: nothing is skipped', async (t) => {
  const h = await harness(t);
  let attempts = 0;
  h.router.on(EVENT_TYPES.lowStock, () => {
    attempts++;
    // What the database boundary raises when PostgreSQL cannot be reached.
    return Promise.reject(
      new AppError(PlatformErrorCodes.DB_UNREACHABLE, 'database down', { outage: true }),
    );
  });
  const fatal: unknown[] = [];
  const event = lowStock('P1');
  await h.send([recordOf(h.topic, event)]);
  const inbox = await h.start({ onFatal: (err) => fatal.push(err) });
  await waitUntil('a few retries', () => attempts >= 3);
  await inbox.stop();
  assert.deepEqual(fatal, []);
  assert.deepEqual(h.calls.deadLettered, []);
  assert.deepEqual(h.calls.retries, []);
  assert.ok(h.calls.outages.length >= 2, `outages counted: ${h.calls.outages.length}`);
  assert.ok(h.calls.outages.every((code) => code === 'ERP_DB_UNREACHABLE'));
  const [again] = await h.readAgain(1);
  assert.equal(again!.headers.event_id, idOf(event));
});
