import assert from 'node:assert/strict';
import { test } from 'node:test';
import { daysOfStockRemaining, windowDays } from '../../src/inventory/consumption.ts';

const now = new Date('2026-01-31T00:00:00Z');

test('no outflow means no projection', () => {
  assert.equal(daysOfStockRemaining(8, { outflow: 0, days: 30 }), undefined);
});

test('stock divided by the average daily outflow, rounded to hundredths', () => {
  assert.equal(daysOfStockRemaining(8, { outflow: 60, days: 30 }), 4);
  assert.equal(daysOfStockRemaining(10, { outflow: 30, days: 10 }), 3.33);
  assert.equal(daysOfStockRemaining(0, { outflow: 30, days: 10 }), 0);
});

test('the window spans from the first movement, at least one day and at most thirty', () => {
  assert.equal(windowDays(new Date('2026-01-30T12:00:00Z'), now), 1);
  assert.equal(windowDays(new Date('2026-01-21T00:00:00Z'), now), 10);
  assert.equal(windowDays(new Date('2025-06-01T00:00:00Z'), now), 30);
  assert.equal(windowDays(undefined, now), 1);
});
