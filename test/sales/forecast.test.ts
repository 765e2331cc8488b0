import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeForecast, expectedDailyDemand, windowStart } from '../../src/sales/forecast.ts';

const DAY = 86_400_000;
const now = new Date('2024-03-10T12:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * DAY);

test('demand is the window total over the span since the first outflow', () => {
  assert.equal(expectedDailyDemand({ total: 30, firstAt: daysAgo(10) }, now), 3);
});

test('a span under one day counts as one day', () => {
  assert.equal(
    expectedDailyDemand({ total: 10, firstAt: new Date(now.getTime() - 3_600_000) }, now),
    10,
  );
});

test('no outflow means no demand', () => {
  assert.equal(expectedDailyDemand({ total: 0, firstAt: null }, now), 0);
});

test('stockout date counts whole days of stock net of pending orders', () => {
  const f = computeForecast({
    outflow: { total: 30, firstAt: daysAgo(10) },
    now,
    currentStock: 12,
    pendingOrderQuantity: 3,
  });
  assert.deepEqual(f, {
    expectedDailyDemand: 3,
    daysOfStockRemaining: 3,
    stockoutDate: '2024-03-13',
  });
});

test('a fractional day rounds down', () => {
  const f = computeForecast({
    outflow: { total: 20, firstAt: daysAgo(10) },
    now,
    currentStock: 5,
    pendingOrderQuantity: 0,
  });
  assert.equal(f.daysOfStockRemaining, 2.5);
  assert.equal(f.stockoutDate, '2024-03-12');
});

test('without history, demand comes from the reported days of stock', () => {
  const f = computeForecast({
    outflow: { total: 0, firstAt: null },
    now,
    currentStock: 8,
    pendingOrderQuantity: 0,
    reportedDaysOfStockRemaining: 4,
  });
  assert.deepEqual(f, {
    expectedDailyDemand: 2,
    daysOfStockRemaining: 4,
    stockoutDate: '2024-03-14',
  });
});

test('history wins over the reported days', () => {
  const f = computeForecast({
    outflow: { total: 10, firstAt: daysAgo(10) },
    now,
    currentStock: 8,
    pendingOrderQuantity: 0,
    reportedDaysOfStockRemaining: 2,
  });
  assert.equal(f.expectedDailyDemand, 1);
});

test('without any demand there is no stockout date', () => {
  const f = computeForecast({
    outflow: { total: 0, firstAt: null },
    now,
    currentStock: 8,
    pendingOrderQuantity: 2,
    reportedDaysOfStockRemaining: null,
  });
  assert.deepEqual(f, { expectedDailyDemand: 0, daysOfStockRemaining: null, stockoutDate: null });
});

test('stock already promised to pending orders runs out today, with or without demand', () => {
  for (const outflow of [
    { total: 0, firstAt: null },
    { total: 10, firstAt: daysAgo(5) },
  ]) {
    const f = computeForecast({ outflow, now, currentStock: 5, pendingOrderQuantity: 5 });
    assert.equal(f.stockoutDate, '2024-03-10');
    assert.equal(f.daysOfStockRemaining, 0);
  }
});

test('the window is 30 days', () => {
  assert.equal(windowStart(now).toISOString(), '2024-02-09T12:00:00.000Z');
});
