import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ContractError, isContractError, toContractIssues } from '../../src/contract/errors.ts';

test('ContractError has the AppError shape and is never retryable', () => {
  const cause = new Error('root');
  const err = new ContractError('ERP_EVT_INVALID_PAYLOAD', 'bad', {
    issues: [{ path: 'payload.x', message: 'Required' }],
    cause,
    context: { event_id: 'e1' },
  });
  assert.ok(err instanceof Error);
  assert.ok(isContractError(err));
  assert.equal(err.name, 'ContractError');
  assert.equal(err.retryable, false);
  assert.equal(err.status, 400);
  assert.equal(err.cause, cause);
  assert.deepEqual(JSON.parse(JSON.stringify(err)), {
    code: 'ERP_EVT_INVALID_PAYLOAD',
    message: 'bad',
    retryable: false,
    issues: [{ path: 'payload.x', message: 'Required' }],
    event_id: 'e1',
  });
  assert.equal(isContractError(new Error('x')), false);
});

test('toContractIssues joins paths with dots and applies the prefix', () => {
  const result = z.object({ a: z.array(z.object({ b: z.int() })) }).safeParse({ a: [{ b: 'x' }] });
  assert.ok(!result.success);
  const issues = toContractIssues(result.error.issues, ['payload']);
  assert.equal(issues.length, 1);
  assert.equal(issues[0]?.path, 'payload.a.0.b');
  assert.equal(typeof issues[0]?.message, 'string');
});
