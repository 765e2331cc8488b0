import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContractError } from '../../src/contract/index.ts';
import {
  AppError,
  backoff,
  createRetryPolicy,
  DEFAULT_RETRY_POLICY,
  delayFor,
  shouldRetry,
  toDatabaseError,
} from '../../src/platform/index.ts';

const noJitter = createRetryPolicy({ jitter: 0 });
const middle = (): number => 0.5;
const retryable = new AppError('ERP_TEST_BUSY', 'busy', { retryable: true });

function rejectsField(overrides: Record<string, unknown>, field: string): void {
  rejectsFieldOf(() => createRetryPolicy(overrides), field, JSON.stringify(overrides));
}

function rejectsFieldOf(create: () => unknown, field: string, what = field): void {
  assert.throws(
    create,
    (err: unknown) =>
      err instanceof AppError &&
      err.code === 'ERP_INVALID_OPTIONS' &&
      err.context['field'] === field &&
      err.message.includes(field) &&
      !err.retryable,
    `${what} should be refused naming ${field}`,
  );
}

test('defaults: 5 attempts, 100 ms doubling up to 10 s, ±20 % jitter', () => {
  const policy = createRetryPolicy();
  assert.deepEqual(
    { ...policy },
    { attempts: 5, initialDelayMs: 100, multiplier: 2, maxDelayMs: 10_000, jitter: 0.2 },
  );
  assert.deepEqual({ ...DEFAULT_RETRY_POLICY }, { ...policy });
  assert.ok(Object.isFrozen(policy));
});

test('overrides replace only their fields; undefined keeps the default', () => {
  const policy = createRetryPolicy({ attempts: 2, maxDelayMs: 500, jitter: undefined });
  assert.deepEqual(
    { ...policy },
    { attempts: 2, initialDelayMs: 100, multiplier: 2, maxDelayMs: 500, jitter: 0.2 },
  );
});

test('each field is validated and named in the error', () => {
  rejectsField({ attempts: 0 }, 'attempts');
  rejectsField({ attempts: 1.5 }, 'attempts');
  rejectsField({ attempts: '3' }, 'attempts');
  rejectsField({ initialDelayMs: -1 }, 'initialDelayMs');
  rejectsField({ initialDelayMs: Number.NaN }, 'initialDelayMs');
  rejectsField({ multiplier: 0.5 }, 'multiplier');
  rejectsField({ multiplier: Number.POSITIVE_INFINITY }, 'multiplier');
  rejectsField({ maxDelayMs: 50 }, 'maxDelayMs'); // below the default initialDelayMs of 100
  rejectsField({ initialDelayMs: 200, maxDelayMs: 150 }, 'maxDelayMs');
  rejectsField({ jitter: -0.1 }, 'jitter');
  rejectsField({ jitter: 1.5 }, 'jitter');
  rejectsField({ attempt: 3 }, 'attempt');
});

test('the edges of each range are accepted', () => {
  const policy = createRetryPolicy({
    attempts: 1,
    initialDelayMs: 0,
    multiplier: 1,
    maxDelayMs: 0,
    jitter: 1,
  });
  assert.equal(policy.attempts, 1);
  assert.equal(
    delayFor(policy, 3, () => 0.99),
    0,
  );
});

test('delays grow exponentially from initialDelayMs', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((attempt) => delayFor(noJitter, attempt)),
    [100, 200, 400, 800, 1600],
  );
  const triple = createRetryPolicy({ initialDelayMs: 10, multiplier: 3, jitter: 0 });
  assert.deepEqual(
    [1, 2, 3].map((attempt) => delayFor(triple, attempt)),
    [10, 30, 90],
  );
});

test('delays stop at maxDelayMs, also after very many attempts', () => {
  assert.equal(delayFor(noJitter, 8), 10_000); // 100 * 2^7 = 12800
  assert.equal(delayFor(noJitter, 5000), 10_000); // 2^4999 is Infinity
  const zero = createRetryPolicy({ initialDelayMs: 0, jitter: 0 });
  assert.equal(delayFor(zero, 5000), 0); // 0 * Infinity would be NaN
});

test('jitter spreads a delay within ±jitter, and the cap holds with jitter too', () => {
  const policy = createRetryPolicy(); // ±20 %
  assert.equal(
    delayFor(policy, 3, () => 0),
    320,
  );
  assert.equal(delayFor(policy, 3, middle), 400);
  assert.equal(
    delayFor(policy, 3, () => 0.999999),
    480,
  );
  for (let i = 0; i < 1000; i++) {
    const delay = delayFor(policy, 3);
    assert.ok(delay >= 320 && delay <= 480, `delay ${delay}`);
  }
  assert.equal(
    delayFor(policy, 20, () => 0.999999),
    10_000,
  );
  assert.equal(
    delayFor(policy, 20, () => 0),
    8_000,
  );
});

test('attempts: a retryable failure is retried until `attempts` were made', () => {
  const policy = createRetryPolicy({ attempts: 3 });
  assert.equal(shouldRetry(policy, 1, retryable), true);
  assert.equal(shouldRetry(policy, 2, retryable), true);
  assert.equal(shouldRetry(policy, 3, retryable), false);
  assert.equal(shouldRetry(createRetryPolicy({ attempts: 1 }), 1, retryable), false);
});

test('a non-retryable failure is never retried', () => {
  const policy = createRetryPolicy({ attempts: 100 });
  assert.equal(shouldRetry(policy, 1, new AppError('ERP_TEST_REFUSED', 'no')), false);
  assert.equal(shouldRetry(policy, 1, new ContractError('ERP_EVT_MALFORMED_JSON', 'x')), false);
  assert.equal(shouldRetry(policy, 1, new Error('a bug')), false);
  assert.equal(shouldRetry(policy, 1, 'a string'), false);
});

test('retryability comes from `retryable` alone: driver errors are coded at the database boundary', () => {
  const policy = createRetryPolicy();
  const pgError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });
  // Raw, a driver error is not ours to judge...
  assert.equal(shouldRetry(policy, 1, pgError('40001')), false);
  // ...coded, it says what it is.
  assert.equal(shouldRetry(policy, 1, toDatabaseError(pgError('40001'))), true); // serialization
  assert.equal(shouldRetry(policy, 1, toDatabaseError(pgError('40P01'))), true); // deadlock
  assert.equal(shouldRetry(policy, 1, toDatabaseError(pgError('08006'))), true); // connection
  assert.equal(shouldRetry(policy, 1, toDatabaseError(pgError('23505'))), false); // unique
  // Our own verdict wins over what is inside it.
  const refused = new AppError('ERP_TEST_REFUSED', 'no', { cause: pgError('08006') });
  assert.equal(shouldRetry(policy, 1, refused), false);
});

test('a policy can be based on another: overrides are checked against the merged value', () => {
  const base = createRetryPolicy({ initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.5 });
  const derived = createRetryPolicy({ attempts: 2 }, base);
  assert.deepEqual(
    { ...derived },
    { attempts: 2, initialDelayMs: 500, multiplier: 2, maxDelayMs: 10_000, jitter: 0.5 },
  );
  rejectsFieldOf(() => createRetryPolicy({ maxDelayMs: 100 }, base), 'maxDelayMs');
});

test('backoff waits the policy delay, and returns false at once when aborted', async () => {
  const policy = createRetryPolicy({ initialDelayMs: 30, jitter: 0 });
  let started = Date.now();
  assert.equal(await backoff(policy, 1), true);
  assert.ok(Date.now() - started >= 25, 'waited about 30 ms');
  const controller = new AbortController();
  started = Date.now();
  const waiting = backoff(createRetryPolicy({ initialDelayMs: 5_000 }), 1, controller.signal);
  controller.abort();
  assert.equal(await waiting, false);
  assert.ok(Date.now() - started < 1_000, 'the abort ends the wait');
  assert.equal(await backoff(policy, 1, controller.signal), false, 'already aborted: no wait');
});
