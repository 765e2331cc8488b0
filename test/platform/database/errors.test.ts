import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContractError } from '../../src/contract/index.ts';
import { isOutageError, isRetryableError } from '../../src/messaging/retryable.ts';
import { AppError } from '../../src/platform/errors.ts';

const withCode = (code: string, message = `code ${code}`) =>
  Object.assign(new Error(message), { code });

test('outages: the database unreachable, connection-level SQLSTATEs, errnos, pg connection messages', () => {
  const outages: unknown[] = [
    new AppError('ERP_DB_UNREACHABLE', 'cannot connect', { retryable: true }),
    withCode('08006'),
    withCode('08001'),
    withCode('57P01'),
    withCode('57P03'),
    withCode('ECONNREFUSED'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client has encountered a connection error and is not queryable'),
    new AggregateError([withCode('ECONNREFUSED')], 'all addresses failed'),
    new AppError('ERP_TEST_WRAPPED', 'handler lost its database', {
      retryable: true,
      cause: withCode('57P01'),
    }),
  ];
  for (const err of outages) {
    assert.equal(isOutageError(err), true, String(err));
    assert.equal(isRetryableError(err), true, String(err));
  }
});

test("a record's own transient failure is retryable but no outage", () => {
  for (const err of [
    withCode('40001'),
    withCode('40P01'),
    new AppError('ERP_TEST_BUSY', 'busy', { retryable: true }),
  ]) {
    assert.equal(isRetryableError(err), true, String(err));
    assert.equal(isOutageError(err), false, String(err));
  }
});

test('non-retryable failures are neither, whatever they wrap', () => {
  for (const err of [
    new ContractError('ERP_EVT_MALFORMED_JSON', 'not json'),
    new AppError('ERP_TEST_REFUSED', 'no', { cause: withCode('08006') }),
    withCode('23505'),
    new Error('a bug'),
    undefined,
    'text',
  ]) {
    assert.equal(isRetryableError(err), false, String(err));
    assert.equal(isOutageError(err), false, String(err));
  }
});
