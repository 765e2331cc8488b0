import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canDo } from '../../src/sales/order-saga.ts';
import { orderSagaFixture } from './fixtures.ts';

test('the transitions a caller may ask for', () => {
  assert.equal(canDo('cancel', 'PENDING'), true);
  assert.equal(canDo('cancel', 'CONFIRMED'), true);
  assert.equal(canDo('fulfil', 'CONFIRMED'), true);
  for (const s of ['REJECTED', 'CANCELLED', 'FULFILLED'] as const) {
    assert.equal(canDo('cancel', s), false);
    assert.equal(canDo('fulfil', s), false);
  }
  assert.equal(canDo('fulfil', 'PENDING'), false);
});

test('place → PENDING with sales.order_placed keyed by the order; reserved → CONFIRMED; fulfil', async (t) => {
  const s = await orderSagaFixture(t);
  const order = await s.place();
  assert.equal(order.status, 'PENDING');
  assert.deepEqual(await s.outbox(), [
    { event_type: 'sales.order_placed', message_key: order.id, topic: 'sales-events' },
  ]);
  await s.reserved(order.id);
  assert.equal(await s.status(order.id), 'CONFIRMED');
  await assert.rejects(s.saga.fulfil('other-tenant', order.id), {
    code: 'ERP_SALES_ORDER_NOT_FOUND',
  });
  const fulfilled = await s.saga.fulfil(s.tenantId, order.id);
  assert.equal(fulfilled.status, 'FULFILLED');
  await assert.rejects(s.saga.fulfil(s.tenantId, order.id), {
    code: 'ERP_SALES_ORDER_INVALID_TRANSITION',
  });
  await assert.rejects(s.saga.cancel(s.tenantId, order.id), {
    code: 'ERP_SALES_ORDER_INVALID_TRANSITION',
  });
  await s.released(order.id, 'fulfilled');
  assert.deepEqual(await s.steps(order.id), [
    ['placed', 'PENDING'],
    ['reserved', 'CONFIRMED'],
    ['fulfilled', 'FULFILLED'],
    ['released', 'FULFILLED'],
  ]);
  assert.deepEqual(
    (await s.outbox()).map((r) => r.event_type),
    ['sales.order_placed', 'sales.order_fulfilled'],
  );
});

test('cancel from PENDING or CONFIRMED sends sales.order_cancelled keyed by the order', async (t) => {
  const s = await orderSagaFixture(t);
  const pending = await s.place();
  const confirmed = await s.place();
  await s.reserved(confirmed.id);
  assert.equal((await s.saga.cancel(s.tenantId, pending.id)).status, 'CANCELLED');
  assert.equal((await s.saga.cancel(s.tenantId, confirmed.id)).status, 'CANCELLED');
  assert.deepEqual(
    (await s.outbox())
      .filter((r) => r.event_type === 'sales.order_cancelled')
      .map((r) => r.message_key),
    [pending.id, confirmed.id],
  );
  assert.deepEqual(await s.steps(confirmed.id), [
    ['placed', 'PENDING'],
    ['reserved', 'CONFIRMED'],
    ['cancelled', 'CANCELLED'],
  ]);
});

test('the sweep rejects orders PENDING past the timeout, once, and sends order_cancelled', async (t) => {
  const s = await orderSagaFixture(t, 1_000);
  const old = await s.place();
  const confirmed = await s.place();
  await s.reserved(confirmed.id);
  s.advance(2_000);
  const fresh = await s.place();
  assert.equal(await s.saga.sweep(), 1);
  assert.equal(await s.saga.sweep(), 0);
  assert.equal(await s.status(old.id), 'REJECTED');
  assert.equal(await s.status(confirmed.id), 'CONFIRMED');
  assert.equal(await s.status(fresh.id), 'PENDING');
  const cancelled = (await s.outbox()).filter((r) => r.event_type === 'sales.order_cancelled');
  assert.deepEqual(
    cancelled.map((r) => r.message_key),
    [old.id],
  );
  // The late reservation: recorded, not confirmed (the order_cancelled above releases it).
  await s.reserved(old.id);
  assert.equal(await s.status(old.id), 'REJECTED');
  assert.deepEqual(await s.steps(old.id), [
    ['placed', 'PENDING'],
    ['timed_out', 'REJECTED'],
    ['late_reservation', 'REJECTED'],
  ]);
});
