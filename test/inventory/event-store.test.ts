import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { AnyEvent } from '../../src/contract/index.ts';
import { createCommandHandler } from '../../src/inventory/commands.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { commitDecision, readStream } from '../../src/inventory/event-store.ts';
import { evolve } from '../../src/inventory/product.ts';
import type { ProductState } from '../../src/inventory/product.ts';
import type { Decision } from '../../src/inventory/event-store.ts';
import { isAppError } from '../../src/platform/index.ts';
import { testDatabase } from '../support/database.ts';
import { stockAdjusted12Schema, upcastersTo12 } from '../contract/minor-version.ts';
import { laptop } from './fixtures.ts';

const meta = { tenantId: 'tenant-1' };

/** A writer that decided on `before` and lost the race: same events, fresh ids. */
function staleDecision(
  before: Decision['before'],
  after: Decision['after'],
  events: readonly AnyEvent[],
): Decision {
  return {
    tenantId: meta.tenantId,
    productId: after.id,
    topic: 'inventory-events',
    events: events.map((e) => ({ ...e, metadata: { ...e.metadata, event_id: randomUUID() } })),
    before,
    after,
    movement: { quantityChange: -1, reason: 'sale' },
    at: new Date(),
  };
}

async function counts(db: InventoryDBHandle) {
  const events = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  const movements = await db
    .selectFrom('stock_movements')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return { events: Number(events.n), movements: Number(movements.n) };
}
type InventoryDBHandle = Awaited<ReturnType<typeof testDatabase<InventoryDB>>>['db'];

const isConflict = (err: unknown) => isAppError(err) && err.code === 'ERP_INV_VERSION_CONFLICT';

test('a write decided on a stale version is refused whole, outside any transaction', async (t) => {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const created = await commands.createProduct(laptop, meta);
  const winner = await commands.adjustStock(
    created.product.id,
    { quantityChange: -1, reason: 'sale' },
    meta,
  );
  const before = await counts(database.db);

  // Another writer already appended the stream's next version: the unique constraint refuses.
  await assert.rejects(
    commitDecision(database.db, staleDecision(created.product, winner.product, winner.events)),
    isConflict,
  );
  assert.deepEqual(await counts(database.db), before);

  // The read model moved on without a matching event version (the guard, not the constraint):
  // the events and the movement, which depend on the read-model write, are not written either.
  await sql`UPDATE products SET version = version + 5`.execute(database.db);
  await assert.rejects(
    commitDecision(
      database.db,
      staleDecision(winner.product, { ...winner.product, version: 3 }, [winner.events[0]!]),
    ),
    isConflict,
  );
  assert.deepEqual(await counts(database.db), before);
});

test('readStream reads the stored 1.0 events through the contract, upcast when asked', async (t) => {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const created = await commands.createProduct(laptop, meta);
  await commands.adjustStock(created.product.id, { quantityChange: -4, reason: 'sale' }, meta);

  const plain = await readStream(database.db, meta.tenantId, created.product.id);
  assert.deepEqual(
    plain.map((e) => [e.metadata.event_type, e.metadata.event_version]),
    [
      ['inventory.product_created', '1.0'],
      ['inventory.stock_adjusted', '1.0'],
    ],
  );
  const upcast = await readStream(database.db, meta.tenantId, created.product.id, upcastersTo12);
  assert.equal(upcast[1]?.metadata.event_version, '1.2');
  assert.deepEqual(stockAdjusted12Schema.parse(upcast[1]?.payload), { direction: 'out', units: 4 });
  // The rows stay as written: upcasting happens on the way in, never in the store.
  const stored = await database.db.selectFrom('events').select('envelope').execute();
  assert.ok(stored.every((r) => (r.envelope as AnyEvent).metadata.event_version === '1.0'));
  // A fold over the upcast stream gives the read model's state.
  const state = upcast.reduce<ProductState | null>(evolve, null);
  assert.equal(state?.quantityOnHand, laptop.quantityOnHand - 4);
  assert.equal(state?.version, 2);
});
