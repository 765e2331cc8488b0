import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { createEvent } from '../../src/contract/index.ts';
import type { EventOf, EventType, PayloadInputOf } from '../../src/contract/index.ts';
import type { SalesDB } from '../../src/sales/db.ts';
import {
  handleStockReleased,
  handleStockReservationRejected,
  handleStockReserved,
} from '../../src/sales/handlers/order-replies.ts';
import { canDo, createOrderSaga } from '../../src/sales/order-saga.ts';
import { getOrder, getOrderHistory } from '../../src/sales/orders-repository.ts';
import { testDatabase } from '../support/database.ts';
import { consumed, inTransaction } from './fixtures.ts';

const tenantId = 'tenant-1';

function reply<T extends EventType>(type: T, payload: PayloadInputOf<T>): EventOf<T> {
  return createEvent(type, payload, { tenantId, sourceService: 'inventory-service' });
}

async function setup(t: TestContext, timeoutMs = 60_000) {
  const database = await testDatabase<SalesDB>(t, 'sales');
  let clock = Date.parse('2024-03-10T12:00:00Z');
  const advance = (ms: number) => (clock += ms);
  const saga = createOrderSaga({
    database,
    salesTopic: 'sales-events',
    timeoutMs,
    now: () => new Date((clock += 1)),
  });
  const place = () =>
    database.inTenant(tenantId, (trx) =>
      saga.place(tenantId, { customer: 'ACME', lines: [{ product_id: 'P-1', quantity: 2 }] }, trx),
    );
  const line = [{ product_id: 'P-1', quantity: 2 }];
  const reserved = (orderId: string) =>
    inTransaction(database, (ctx) =>
      handleStockReserved(
        consumed(reply('inventory.stock_reserved', { order_id: orderId, lines: line })),
        ctx,
      ),
    );
  const rejected = (orderId: string) =>
    inTransaction(database, (ctx) =>
      handleStockReservationRejected(
        consumed(
          reply('inventory.stock_reservation_rejected', {
            order_id: orderId,
            reason: 'insufficient_stock',
            lines_short: [
              { product_id: 'P-1', requested: 2, available: 1, reason: 'insufficient_stock' },
            ],
          }),
        ),
        ctx,
      ),
    );
  const released = (orderId: string, reason: string) =>
    inTransaction(database, (ctx) =>
      handleStockReleased(
        consumed(reply('inventory.stock_released', { order_id: orderId, reason, lines: line })),
        ctx,
      ),
    );
  const status = async (id: string) => (await getOrder(database.db, tenantId, id))?.status;
  const steps = async (id: string) =>
    (await getOrderHistory(database.db, tenantId, id)).map((h) => [h.step, h.status]);
  const outbox = async () =>
    database.db
      .selectFrom('outbox')
      .select(['event_type', 'message_key', 'topic'])
      .orderBy('position')
      .execute();
  return { database, saga, place, reserved, rejected, released, status, steps, outbox, advance };
}

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
  const s = await setup(t);
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
  const fulfilled = await s.saga.fulfil(tenantId, order.id);
  assert.equal(fulfilled.status, 'FULFILLED');
  await assert.rejects(s.saga.fulfil(tenantId, order.id), {
    code: 'ERP_SALES_ORDER_INVALID_TRANSITION',
  });
  await assert.rejects(s.saga.cancel(tenantId, order.id), {
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

test('rejected keeps the reason; an answer for an unknown order is skipped', async (t) => {
  const s = await setup(t);
  const order = await s.place();
  await s.rejected(order.id);
  const o = await getOrder(s.database.db, tenantId, order.id);
  assert.deepEqual([o?.status, o?.reason], ['REJECTED', 'insufficient_stock']);
  await s.reserved('no-such-order');
  await assert.rejects(s.saga.cancel(tenantId, order.id), {
    code: 'ERP_SALES_ORDER_INVALID_TRANSITION',
  });
});

test('cancel from PENDING: a reservation that comes later changes nothing but the history', async (t) => {
  const s = await setup(t);
  const order = await s.place();
  assert.equal((await s.saga.cancel(tenantId, order.id)).status, 'CANCELLED');
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

test('the sweep rejects orders PENDING past the timeout, once, and sends order_cancelled', async (t) => {
  const s = await setup(t, 1_000);
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
