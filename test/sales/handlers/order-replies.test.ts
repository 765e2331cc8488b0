import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getOrder } from '../../../src/sales/orders-repository.ts';
import { orderSagaFixture } from '../fixtures.ts';

test('stock_reserved confirms a PENDING order; stock_released is recorded and changes nothing', async (t) => {
  const s = await orderSagaFixture(t);
  const order = await s.place();
  await s.reserved(order.id);
  assert.equal(await s.status(order.id), 'CONFIRMED');
  await s.released(order.id, 'cancelled');
  assert.equal(await s.status(order.id), 'CONFIRMED');
  assert.deepEqual(await s.steps(order.id), [
    ['placed', 'PENDING'],
    ['reserved', 'CONFIRMED'],
    ['released', 'CONFIRMED'],
  ]);
  // Answers send nothing: only the placement is in the outbox.
  assert.deepEqual(
    (await s.outbox()).map((r) => r.event_type),
    ['sales.order_placed'],
  );
});

test('rejected keeps the reason; an answer for an unknown order is skipped', async (t) => {
  const s = await orderSagaFixture(t);
  const order = await s.place();
  await s.rejected(order.id);
  const o = await getOrder(s.database.db, s.tenantId, order.id);
  assert.deepEqual([o?.status, o?.reason], ['REJECTED', 'insufficient_stock']);
  await s.reserved('no-such-order');
  await assert.rejects(s.saga.cancel(s.tenantId, order.id), {
    code: 'ERP_SALES_ORDER_INVALID_TRANSITION',
  });
});

test('cancel from PENDING: a reservation that comes later changes nothing but the history', async (t) => {
  const s = await orderSagaFixture(t);
  const order = await s.place();
  assert.equal((await s.saga.cancel(s.tenantId, order.id)).status, 'CANCELLED');
  await s.reserved(order.id);
  await s.released(order.id, 'cancelled');
  assert.equal(await s.status(order.id), 'CANCELLED');
  assert.deepEqual(await s.steps(order.id), [
    ['placed', 'PENDING'],
    ['cancelled', 'CANCELLED'],
    ['late_reservation', 'CANCELLED'],
    ['released', 'CANCELLED'],
  ]);
});

test('a rejection after the order left PENDING is recorded as late and keeps the state and reason', async (t) => {
  const s = await orderSagaFixture(t);
  const order = await s.place();
  await s.saga.cancel(s.tenantId, order.id);
  await s.rejected(order.id);
  const o = await getOrder(s.database.db, s.tenantId, order.id);
  assert.deepEqual([o?.status, o?.reason], ['CANCELLED', 'customer']);
  assert.deepEqual(await s.steps(order.id), [
    ['placed', 'PENDING'],
    ['cancelled', 'CANCELLED'],
    ['late_rejection', 'CANCELLED'],
  ]);
});
