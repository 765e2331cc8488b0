import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { createEvent, messageKeyOf } from '../../src/contract/index.ts';
import type { AnyEvent, EventOf, EventType, PayloadInputOf } from '../../src/contract/index.ts';
import type { ConsumedEvent, HandlerContext } from '../../src/messaging/index.ts';
import { createCommandHandler } from '../../src/inventory/commands.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { rebuildProducts } from '../../src/inventory/rebuild.ts';
import {
  createOrderHandlers,
  linesByProduct,
  lockOrderProducts,
} from '../../src/inventory/reservations.ts';
import type { Accepted } from '../../src/messaging/inbox/classify.ts';
import { noopConsumerMetrics } from '../../src/messaging/inbox/metrics.ts';
import { applyInTransaction } from '../../src/messaging/inbox/transaction.ts';
import type { EventHandler } from '../../src/messaging/index.ts';
import { pino } from 'pino';
import { testDatabase } from '../support/database.ts';
import { laptop } from './fixtures.ts';

const tenantId = 'tenant-1';
const silentLogger = pino({ level: 'silent' });

function salesEvent<T extends EventType>(type: T, payload: PayloadInputOf<T>): EventOf<T> {
  return createEvent(type, payload, { tenantId, sourceService: 'sales-service' });
}

function consumed<T extends EventType>(...events: EventOf<T>[]): ConsumedEvent<T>[] {
  return events.map((event, i) => ({
    event,
    record: {
      topic: 'sales-events',
      partition: 0,
      offset: BigInt(i),
      key: Buffer.from(messageKeyOf(event as AnyEvent)),
      value: Buffer.from(JSON.stringify(event)),
      headers: {},
      timestamp: Date.parse(event.metadata.timestamp),
    },
  }));
}

async function setup(t: TestContext) {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const handlers = createOrderHandlers({ topic: 'inventory-events', commands });
  const run = async (fn: (ctx: HandlerContext<InventoryDB>) => Promise<void>) =>
    database.db.transaction().execute(async (trx: Kysely<InventoryDB>) => {
      await fn({ trx, log: silentLogger, afterCommit: () => {} });
    });
  const place = (orderId: string, lines: { product_id: string; quantity: number }[]) =>
    run((ctx) =>
      handlers.placed(
        consumed(salesEvent('sales.order_placed', { order_id: orderId, customer: 'c', lines })),
        ctx,
      ),
    );
  const cancel = (orderId: string) =>
    run((ctx) =>
      handlers.cancelled(
        consumed(salesEvent('sales.order_cancelled', { order_id: orderId, reason: 'customer' })),
        ctx,
      ),
    );
  const fulfil = (orderId: string, lines: { product_id: string; quantity: number }[]) =>
    run((ctx) =>
      handlers.fulfilled(
        consumed(salesEvent('sales.order_fulfilled', { order_id: orderId, lines })),
        ctx,
      ),
    );
  const product = async (onHand: number, sku = `SKU-${Math.random()}`) =>
    (
      await commands.createProduct(
        { ...laptop, sku, quantityOnHand: onHand, reorderLevel: 0 },
        { tenantId },
      )
    ).product.id;
  const stock = async (id: string) => {
    const row = await database.db
      .selectFrom('products')
      .select(['quantity_on_hand', 'quantity_reserved'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return { onHand: row.quantity_on_hand, reserved: row.quantity_reserved };
  };
  const orderEvents = async (orderId: string) =>
    (
      await database.db
        .selectFrom('events')
        .select(['event_type', 'envelope', 'message_key', 'stream_version'])
        .where('stream_id', '=', `order:${orderId}`)
        .orderBy('stream_version')
        .execute()
    ).map((r) => {
      const envelope = (typeof r.envelope === 'string' ? JSON.parse(r.envelope) : r.envelope) as {
        payload: Record<string, unknown>;
      };
      return { type: r.event_type, key: r.message_key, payload: envelope.payload };
    });
  return { database, commands, handlers, place, cancel, fulfil, product, stock, orderEvents };
}

test('linesByProduct sums an order’s lines per product, sorted', () => {
  assert.deepEqual(
    linesByProduct([
      { product_id: 'b', quantity: 1 },
      { product_id: 'a', quantity: 2 },
      { product_id: 'b', quantity: 3 },
    ]),
    [
      { product_id: 'a', quantity: 2 },
      { product_id: 'b', quantity: 4 },
    ],
  );
});

test('an order reserves every line or none, and says which lines were short and why', async (t) => {
  const s = await setup(t);
  const [p1, p2] = [await s.product(10), await s.product(3)];
  await s.place('o-1', [
    { product_id: p1, quantity: 4 },
    { product_id: p2, quantity: 3 },
  ]);
  assert.deepEqual(await s.stock(p1), { onHand: 10, reserved: 4 });
  assert.deepEqual(await s.stock(p2), { onHand: 3, reserved: 3 });
  const [reserved] = await s.orderEvents('o-1');
  assert.equal(reserved?.type, 'inventory.stock_reserved');
  assert.equal(reserved?.key, 'o-1');

  // p2 has nothing left, and one product is unknown: nothing is reserved, p1 included.
  await s.place('o-2', [
    { product_id: p1, quantity: 1 },
    { product_id: p2, quantity: 1 },
    { product_id: 'nope', quantity: 1 },
  ]);
  assert.deepEqual(await s.stock(p1), { onHand: 10, reserved: 4 });
  const [rejected] = await s.orderEvents('o-2');
  assert.equal(rejected?.type, 'inventory.stock_reservation_rejected');
  assert.equal(rejected?.payload.reason, 'unknown_product');
  assert.deepEqual(
    (rejected?.payload.lines_short as { product_id: string; available: number; reason: string }[])
      .map((l) => [l.product_id === p2 ? 'p2' : l.product_id, l.available, l.reason])
      .sort(),
    [
      ['nope', 0, 'unknown_product'],
      ['p2', 0, 'insufficient_stock'],
    ],
  );
});

test('a redelivered order_placed has no second effect', async (t) => {
  const s = await setup(t);
  const p = await s.product(10);
  await s.place('o-1', [{ product_id: p, quantity: 2 }]);
  await s.place('o-1', [{ product_id: p, quantity: 2 }]);
  assert.deepEqual(await s.stock(p), { onHand: 10, reserved: 2 });
  assert.equal((await s.orderEvents('o-1')).length, 1);
});

test('cancel releases; fulfil turns the reservation into an outflow; each once', async (t) => {
  const s = await setup(t);
  const p = await s.product(10);
  await s.place('o-1', [{ product_id: p, quantity: 3 }]);
  await s.place('o-2', [{ product_id: p, quantity: 5 }]);
  await s.cancel('o-1');
  await s.cancel('o-1');
  assert.deepEqual(await s.stock(p), { onHand: 10, reserved: 5 });
  assert.deepEqual(
    (await s.orderEvents('o-1')).map((e) => [e.type, e.payload.reason ?? null]),
    [
      ['inventory.stock_reserved', null],
      ['inventory.stock_released', 'cancelled'],
    ],
  );
  await s.fulfil('o-2', [{ product_id: p, quantity: 5 }]);
  await s.fulfil('o-2', [{ product_id: p, quantity: 5 }]);
  assert.deepEqual(await s.stock(p), { onHand: 5, reserved: 0 });
  const productEvents = await s.database.db
    .selectFrom('events')
    .select(['event_type'])
    .where('stream_id', '=', p)
    .orderBy('stream_version')
    .execute();
  assert.deepEqual(
    productEvents.map((e) => e.event_type),
    ['inventory.product_created', 'inventory.stock_adjusted'],
  );
  // A cancelled order cannot be fulfilled: nothing leaves stock.
  await s.fulfil('o-1', [{ product_id: p, quantity: 3 }]);
  assert.deepEqual(await s.stock(p), { onHand: 5, reserved: 0 });
});

test('a cancellation seen before its placement makes the placement reserve nothing', async (t) => {
  const s = await setup(t);
  const p = await s.product(10);
  await s.cancel('o-late');
  await s.place('o-late', [{ product_id: p, quantity: 2 }]);
  assert.deepEqual(await s.stock(p), { onHand: 10, reserved: 0 });
});

test('an adjustment may not take on hand below the reserved units', async (t) => {
  const s = await setup(t);
  const p = await s.product(10);
  await s.place('o-1', [{ product_id: p, quantity: 8 }]);
  await assert.rejects(
    s.commands.adjustStock(p, { quantityChange: -3, reason: 'lost' }, { tenantId }),
    (err: { code: string; context: Record<string, unknown> }) =>
      err.code === 'ERP_INV_INSUFFICIENT_STOCK' && err.context['quantity_reserved'] === 8,
  );
  await s.commands.adjustStock(p, { quantityChange: -2, reason: 'lost' }, { tenantId });
  assert.deepEqual(await s.stock(p), { onHand: 8, reserved: 8 });
});

test('concurrent orders and adjustments never take available below zero', async (t) => {
  const s = await setup(t);
  const p = await s.product(50);
  const results = await Promise.allSettled([
    ...Array.from({ length: 60 }, (_, i) => s.place(`o-${i}`, [{ product_id: p, quantity: 1 }])),
    ...Array.from({ length: 10 }, () =>
      s.commands.adjustStock(p, { quantityChange: -1, reason: 'lost' }, { tenantId }),
    ),
  ]);
  const { onHand, reserved } = await s.stock(p);
  assert.ok(reserved <= onHand, `reserved ${reserved} > on hand ${onHand}`);
  const adjusted = results.slice(60).filter((r) => r.status === 'fulfilled').length;
  assert.equal(onHand, 50 - adjusted);
  const confirmed = await s.database.db
    .selectFrom('reservations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'reserved')
    .executeTakeFirstOrThrow();
  assert.equal(Number(confirmed.n), reserved);
  // Every unit is accounted for: 60 orders of 1 against 50, less what adjustments took.
  assert.equal(reserved, Math.min(60, onHand));
});

test('inventory rebuild reproduces quantity_reserved from the order streams', async (t) => {
  const s = await setup(t);
  const p = await s.product(10);
  await s.place('o-1', [{ product_id: p, quantity: 3 }]);
  await s.place('o-2', [{ product_id: p, quantity: 2 }]);
  await s.place('o-3', [{ product_id: p, quantity: 4 }]);
  await s.cancel('o-2');
  await s.fulfil('o-3', [{ product_id: p, quantity: 4 }]);
  assert.deepEqual(await s.stock(p), { onHand: 6, reserved: 3 });
  assert.deepEqual(await rebuildProducts(s.database, { verifyOnly: true }), {
    checked: 1,
    differences: 0,
    fixed: 0,
  });
  await sql`UPDATE products SET quantity_reserved = 0 WHERE id = ${p}`.execute(s.database.db);
  const summary = await rebuildProducts(s.database);
  assert.deepEqual(summary, { checked: 1, differences: 1, fixed: 1 });
  assert.deepEqual(await s.stock(p), { onHand: 6, reserved: 3 });
});

test('two consumer transactions whose runs name the same products in crossing orders both commit', async (t) => {
  // On PostgreSQL the two transactions run at once: a placement run then a cancellation run in
  // each, crossing over two products. Locked per run only, each held its first run's product and
  // waited for the other's: a deadlock (ERP_DB_CONFLICT; the fault suite's saga scenario saw
  // several a minute). With the beforeRuns hook, the second waits for the first's locks before
  // its first run. On PGlite (one connection) they run one after the other.
  const s = await setup(t);
  const [pA, pB] = [await s.product(10), await s.product(10)].sort();
  await s.place('held-a', [{ product_id: pA!, quantity: 1 }]);
  await s.place('held-b', [{ product_id: pB!, quantity: 1 }]);

  // Each transaction waits after its first run until the other finished its first run too, or
  // 1 s passed (with the hook the other is still waiting for our locks, so it never arrives).
  let arrived = 0;
  let release = () => {};
  const bothArrived = new Promise<void>((done) => (release = done));
  const afterFirstRun = async () => {
    if (++arrived === 2) release();
    await Promise.race([bothArrived, new Promise((done) => setTimeout(done, 1_000))]);
  };
  const transaction = (placed: string, productId: string, cancelled: string) => {
    let runs = 0;
    const wrap =
      (handler: EventHandler<EventType, InventoryDB>): EventHandler<EventType, InventoryDB> =>
      async (events, ctx) => {
        await handler(events, ctx);
        if (++runs === 1) await afterFirstRun();
      };
    const events = consumed<EventType>(
      salesEvent('sales.order_placed', {
        order_id: placed,
        customer: 'c',
        lines: [{ product_id: productId, quantity: 1 }],
      }),
      salesEvent('sales.order_cancelled', { order_id: cancelled, reason: 'customer' }),
    );
    const items: Accepted<InventoryDB>[] = events.map(({ event, record }) => ({
      kind: 'accepted',
      record,
      type: event.metadata.event_type as EventType,
      event,
      handler: wrap(
        (event.metadata.event_type === 'sales.order_placed'
          ? s.handlers.placed
          : s.handlers.cancelled) as EventHandler<EventType, InventoryDB>,
      ),
      failures: 0,
    }));
    return applyInTransaction(
      {
        database: s.database,
        inboxTable: 'inbox',
        ordering: 'key',
        logger: silentLogger,
        metrics: noopConsumerMetrics,
        beforeRuns: lockOrderProducts,
      },
      items,
    );
  };
  const results = await Promise.allSettled([
    transaction('o-1', pB!, 'held-a'),
    transaction('o-2', pA!, 'held-b'),
  ]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? 'committed' : (r.reason as Error).message)),
    ['committed', 'committed'],
  );
  assert.deepEqual(await s.stock(pA!), { onHand: 10, reserved: 1 });
  assert.deepEqual(await s.stock(pB!), { onHand: 10, reserved: 1 });
});
