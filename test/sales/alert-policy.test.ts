import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alertPriority,
  decideAlert,
  escalateOnce,
  shouldNotify,
  shouldPublish,
} from '../../src/sales/alert-policy.ts';
import type { Priority } from '../../src/contract/index.ts';

test('escalateOnce moves one level up and stops at critical', () => {
  assert.equal(escalateOnce('low'), 'medium');
  assert.equal(escalateOnce('medium'), 'high');
  assert.equal(escalateOnce('high'), 'critical');
  assert.equal(escalateOnce('critical'), 'critical');
});

const cases: [string, Parameters<typeof alertPriority>[0], Priority][] = [
  [
    'stock 0 is critical',
    { currentStock: 0, reorderLevel: 10, pendingOrderQuantity: 0 },
    'critical',
  ],
  [
    'at or under reorder level is medium',
    { currentStock: 8, reorderLevel: 10, pendingOrderQuantity: 0 },
    'medium',
  ],
  [
    'pending equal to stock does not escalate',
    { currentStock: 8, reorderLevel: 10, pendingOrderQuantity: 8 },
    'medium',
  ],
  [
    'pending above stock escalates medium to high',
    { currentStock: 8, reorderLevel: 10, pendingOrderQuantity: 9 },
    'high',
  ],
  [
    'under half the reorder level is high',
    { currentStock: 4, reorderLevel: 10, pendingOrderQuantity: 0 },
    'high',
  ],
  [
    'pending above stock escalates high to critical',
    { currentStock: 4, reorderLevel: 10, pendingOrderQuantity: 5 },
    'critical',
  ],
  [
    'critical stays critical with pending',
    { currentStock: 0, reorderLevel: 10, pendingOrderQuantity: 3 },
    'critical',
  ],
  [
    'under 3 days is high',
    { currentStock: 9, reorderLevel: 10, daysOfStockRemaining: 2.5, pendingOrderQuantity: 0 },
    'high',
  ],
  [
    'above the reorder level is low',
    { currentStock: 20, reorderLevel: 10, pendingOrderQuantity: 0 },
    'low',
  ],
  [
    'low escalates to medium with pending above stock',
    { currentStock: 20, reorderLevel: 10, pendingOrderQuantity: 21 },
    'medium',
  ],
];

for (const [name, input, expected] of cases) {
  test(`alertPriority: ${name}`, () => {
    assert.equal(alertPriority(input), expected);
  });
}

test('decideAlert opens, escalates, and never lowers an open alert', () => {
  assert.deepEqual(decideAlert(null, 'medium'), {
    change: 'opened',
    priority: 'medium',
    previousPriority: null,
  });
  assert.deepEqual(decideAlert('medium', 'high'), {
    change: 'escalated',
    priority: 'high',
    previousPriority: 'medium',
  });
  assert.deepEqual(decideAlert('high', 'medium'), {
    change: 'updated',
    priority: 'high',
    previousPriority: 'high',
  });
  assert.deepEqual(decideAlert('high', 'high'), {
    change: 'updated',
    priority: 'high',
    previousPriority: 'high',
  });
});

test('only opened or escalated alerts are published, and only high or critical ones notify', () => {
  assert.equal(shouldPublish(decideAlert(null, 'low')), true);
  assert.equal(shouldPublish(decideAlert('medium', 'medium')), false);
  assert.equal(shouldNotify(decideAlert(null, 'medium')), false);
  assert.equal(shouldNotify(decideAlert(null, 'high')), true);
  assert.equal(shouldNotify(decideAlert('medium', 'critical')), true);
  assert.equal(shouldNotify(decideAlert('critical', 'high')), false);
});
