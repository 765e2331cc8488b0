import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_TYPES } from '../../src/contract/index.ts';
import type { EventType } from '../../src/contract/index.ts';
import { EventRouter, type ConsumedEvent } from '../../src/messaging/router.ts';
import { AppError } from '../../src/platform/index.ts';

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
  assert.deepEqual(router.types(), [EVENT_TYPES.lowStock]);
});

test('a type the contract does not know is refused', () => {
  const router = new EventRouter<unknown>();
  assert.throws(
    () => router.on('inventory.no_such_event' as EventType, async () => {}),
    isCode('ERP_MSG_UNKNOWN_EVENT_TYPE'),
  );
  assert.deepEqual(router.types(), []);
});

test('handlers receive runs of events typed by the contract, each with its record', () => {
  const router = new EventRouter<unknown>();
  router.on(EVENT_TYPES.lowStock, (events) => {
    for (const { event, record } of events) {
      const stock: number = event.payload.current_stock;
      // @ts-expect-error current_stock is a number, not a string
      const wrong: string = event.payload.current_stock;
      const offset: bigint = record.offset;
      void stock;
      void wrong;
      void offset;
    }
    return Promise.resolve();
  });
  router.on(EVENT_TYPES.stockAdjusted, (events) => {
    const change: number | undefined = events[0]?.event.payload.quantity_change;
    // @ts-expect-error a run of stock_adjusted events is not a run of low_stock ones
    const wrong: readonly ConsumedEvent<'inventory.low_stock'>[] = events;
    void change;
    void wrong;
    return Promise.resolve();
  });
  assert.equal(router.types().length, 2);
});

test('beforeRuns() sets one hook; a second throws and keeps the first', () => {
  const router = new EventRouter<unknown>();
  assert.equal(router.beforeRunsHook, undefined);
  const first = async () => {};
  assert.equal(router.beforeRuns(first), router);
  assert.throws(() => router.beforeRuns(async () => {}), isCode('ERP_MSG_DUPLICATE_HANDLER'));
  assert.equal(router.beforeRunsHook, first);
});
