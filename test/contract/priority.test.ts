import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRIORITIES,
  computePriority,
  maxPriority,
  priorityRank,
} from '../../src/contract/priority.ts';
import type { Priority, PriorityInput } from '../../src/contract/priority.ts';
import { isContractError } from '../../src/contract/errors.ts';

const cases: Array<[string, PriorityInput, Priority]> = [
  ['stock 0 is critical', { currentStock: 0, reorderLevel: 10 }, 'critical'],
  [
    'stock 0 is critical even with days left',
    { currentStock: 0, reorderLevel: 10, daysOfStockRemaining: 30 },
    'critical',
  ],
  ['negative stock is critical', { currentStock: -3, reorderLevel: 10 }, 'critical'],
  ['days 2.99 is high', { currentStock: 50, reorderLevel: 10, daysOfStockRemaining: 2.99 }, 'high'],
  [
    'days 3 is not high (strict <)',
    { currentStock: 50, reorderLevel: 10, daysOfStockRemaining: 3 },
    'low',
  ],
  [
    'days 3.01 is not high',
    { currentStock: 50, reorderLevel: 10, daysOfStockRemaining: 3.01 },
    'low',
  ],
  [
    'days 3 at reorder level falls to medium',
    { currentStock: 10, reorderLevel: 10, daysOfStockRemaining: 3 },
    'medium',
  ],
  ['days undefined ignores the days rule', { currentStock: 50, reorderLevel: 10 }, 'low'],
  [
    'days null ignores the days rule',
    { currentStock: 50, reorderLevel: 10, daysOfStockRemaining: null },
    'low',
  ],
  [
    'days 0 with stock is high',
    { currentStock: 50, reorderLevel: 10, daysOfStockRemaining: 0 },
    'high',
  ],
  ['4 of reorder 10 is high (< 50%)', { currentStock: 4, reorderLevel: 10 }, 'high'],
  ['5 of reorder 10 is medium (5 is not < 5)', { currentStock: 5, reorderLevel: 10 }, 'medium'],
  ['10 of reorder 10 is medium (<=)', { currentStock: 10, reorderLevel: 10 }, 'medium'],
  ['11 of reorder 10 is low', { currentStock: 11, reorderLevel: 10 }, 'low'],
  [
    'document example: 8 of 10 with 3.5 days is medium',
    { currentStock: 8, reorderLevel: 10, daysOfStockRemaining: 3.5 },
    'medium',
  ],
  ['reorder 0, stock 1 is low', { currentStock: 1, reorderLevel: 0 }, 'low'],
  ['reorder 0, stock 0 is critical', { currentStock: 0, reorderLevel: 0 }, 'critical'],
  [
    'reorder 0, stock 1, days 1 is high',
    { currentStock: 1, reorderLevel: 0, daysOfStockRemaining: 1 },
    'high',
  ],
  [
    'infinite days (no outflow) is not high',
    { currentStock: 50, reorderLevel: 10, daysOfStockRemaining: Infinity },
    'low',
  ],
];

for (const [name, input, expected] of cases) {
  void test(`computePriority: ${name}`, () => {
    assert.equal(computePriority(input), expected);
  });
}

test('computePriority refuses NaN instead of answering low', () => {
  for (const input of [
    { currentStock: Number.NaN, reorderLevel: 10 },
    { currentStock: 5, reorderLevel: Number.NaN },
    { currentStock: 5, reorderLevel: 10, daysOfStockRemaining: Number.NaN },
  ]) {
    assert.throws(
      () => computePriority(input),
      (err) => isContractError(err) && err.code === 'ERP_EVT_INVALID_ARGUMENT',
    );
  }
});

test('priorityRank orders low < medium < high < critical', () => {
  assert.deepEqual(
    PRIORITIES.map((p) => priorityRank(p)),
    [0, 1, 2, 3],
  );
});

test('maxPriority returns the more urgent, in either order', () => {
  assert.equal(maxPriority('low', 'high'), 'high');
  assert.equal(maxPriority('high', 'low'), 'high');
  assert.equal(maxPriority('critical', 'medium'), 'critical');
  assert.equal(maxPriority('medium', 'medium'), 'medium');
});
