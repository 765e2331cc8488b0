import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_TYPES } from '../../src/contract/index.ts';
import type { EventType } from '../../src/contract/index.ts';
import { AppError } from '../../src/platform/errors.ts';
import { EventRouter } from '../../src/messaging/router.ts';

const isCode = (code: string) => (err: unknown) => err instanceof AppError && err.code === code;

test('on() registers one handler per type and handlerFor() returns it', () => {
  const router = new EventRouter<unknown>();
  const lowStock = async () => {};
  const adjusted = async () => {};
  assert.equal(
    router.on(EVENT_TYPES.lowStock, lowStock).on(EVENT_TYPES.stockAdjusted, adjusted),
    router,
  );
  assert.equal(router.handlerFor(EVENT_TYPES.lowStock), lowStock);
  assert.equal(router.handlerFor(EVENT_TYPES.stockAdjusted), adjusted);
  assert.equal(router.handlerFor(EVENT_TYPES.productCreated), undefined);
  assert.deepEqual(router.types(), [EVENT_TYPES.lowStock, EVENT_TYPES.stockAdjusted]);
});

test('a second handler for the same type throws and keeps the first', () => {
  const router = new EventRouter<unknown>();
  const first = async () => {};
  router.on(EVENT_TYPES.lowStock, first);
  assert.throws(
    () => router.on(EVENT_TYPES.lowStock, async () => {}),
    isCode('ERP_MSG_DUPLICATE_HANDLER'),
  );
  assert.equal(router.handlerFor(EVENT_TYPES.lowStock), first);
});

test('a type the contract does not know is refused', () => {
  const router = new EventRouter<unknown>();
  assert.throws(
    () => router.on('inventory.no_such_event' as EventType, async () => {}),
    isCode('ERP_MSG_UNKNOWN_EVENT_TYPE'),
  );
  assert.deepEqual(router.types(), []);
});

test('handlers are typed by the contract', () => {
  const router = new EventRouter<unknown>();
  router.on(EVENT_TYPES.lowStock, (event) => {
    const stock: number = event.payload.current_stock;
    // @ts-expect-error current_stock is a number, not a string
    const wrong: string = event.payload.current_stock;
    void stock;
    void wrong;
    return Promise.resolve();
  });
  router.on(EVENT_TYPES.stockAdjusted, (event) => {
    const change: number = event.payload.quantity_change;
    void change;
    return Promise.resolve();
  });
  assert.equal(router.types().length, 2);
});

test('onBatch() registers one batch handler per type, beside or instead of on()', () => {
  const router = new EventRouter<unknown>();
  const batch = async () => {};
  const single = async () => {};
  router.onBatch(EVENT_TYPES.lowStock, batch).on(EVENT_TYPES.lowStock, single);
  router.onBatch(EVENT_TYPES.stockAdjusted, (items) => {
    const change: number | undefined = items[0]?.event.payload.quantity_change;
    void change;
    return Promise.resolve();
  });
  assert.equal(router.batchHandlerFor(EVENT_TYPES.lowStock), batch);
  assert.equal(router.handlerFor(EVENT_TYPES.lowStock), single);
  assert.equal(router.handlerFor(EVENT_TYPES.stockAdjusted), undefined);
  assert.equal(router.batchHandlerFor(EVENT_TYPES.productCreated), undefined);
  assert.deepEqual(router.types(), [EVENT_TYPES.lowStock, EVENT_TYPES.stockAdjusted]);
  assert.throws(
    () => router.onBatch(EVENT_TYPES.lowStock, async () => {}),
    isCode('ERP_MSG_DUPLICATE_HANDLER'),
  );
  assert.throws(
    () => router.onBatch('inventory.no_such_event' as EventType, async () => {}),
    isCode('ERP_MSG_UNKNOWN_EVENT_TYPE'),
  );
  assert.equal(router.batchHandlerFor(EVENT_TYPES.lowStock), batch);
});
