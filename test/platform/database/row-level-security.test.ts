/**
 * Row-level security on both engines: inside Database.inTenant a statement with no tenant filter
 * sees, changes and inserts only the tenant's rows, while the owner's handle (the cross-tenant
 * workers') sees every tenant. Every table of both services that has a tenant_id is under the
 * policy, so a new table without one fails here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { InventoryDB } from '../../../src/inventory/db.ts';
import { AppError, openDatabase, PlatformErrorCodes } from '../../../src/platform/index.ts';
import type { Database } from '../../../src/platform/index.ts';
import type { SalesDB } from '../../../src/sales/db.ts';
import { databaseUrl, testDatabase } from '../../support/database.ts';

const at = new Date('2026-01-01T00:00:00Z');

function product(tenantId: string, id: string) {
  return {
    id,
    tenant_id: tenantId,
    sku: `SKU-${id}`,
    name: 'Laptop',
    category: 'electronics',
    unit_price: 10,
    quantity_on_hand: 5,
    reorder_level: 1,
    reorder_quantity: 2,
    location: 'A',
    version: 1,
    created_at: at,
    updated_at: at,
  };
}

/** Products a1, a2 of tenant a and b1 of tenant b, written as the owner. */
async function inventoryWithTwoTenants(t: Parameters<typeof testDatabase>[0]) {
  const database = await testDatabase<InventoryDB>(t, 'inventory');
  await database.db
    .insertInto('products')
    .values([product('a', 'a1'), product('a', 'a2'), product('b', 'b1')])
    .execute();
  return database;
}

const ids = (rows: readonly { id: string }[]) => rows.map((r) => r.id).sort();

/** The tables of the database's schema that have a tenant_id column, and whether each is isolated. */
async function tenantTables(db: Kysely<unknown>) {
  const { rows } = await sql<{ table: string; rls: boolean; policies: number }>`
    SELECT c.relname AS table, c.relrowsecurity AS rls,
      (SELECT count(*)::int FROM pg_policy p
        WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation') AS policies
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
    WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
    ORDER BY 1`.execute(db);
  return rows;
}

for (const service of ['inventory', 'sales'] as const) {
  test(`${service}: every table with a tenant_id is under the tenant policy`, async (t) => {
    const database = await testDatabase<unknown>(t, service);
    const tables = await tenantTables(database.db);
    assert.ok(tables.some((r) => r.table === 'idempotency_keys'));
    assert.ok(tables.some((r) => r.table === 'products'));
    assert.ok(tables.length >= (service === 'sales' ? 11 : 4), JSON.stringify(tables));
    for (const row of tables) {
      assert.deepEqual(row, { table: row.table, rls: true, policies: 1 });
    }
  });
}

test('a query without a tenant filter sees only the tenant; the owner sees every tenant', async (t) => {
  const database = await inventoryWithTwoTenants(t);
  const unfiltered = (db: Kysely<InventoryDB>) => db.selectFrom('products').selectAll().execute();
  assert.deepEqual(ids(await database.inTenant('a', unfiltered)), ['a1', 'a2']);
  assert.deepEqual(ids(await database.inTenant('b', unfiltered, { transaction: false })), ['b1']);
  assert.deepEqual(ids(await database.inTenant('c', unfiltered)), []);
  // The cross-tenant workers' handle: the tables' owner, not held to the policy.
  assert.deepEqual(ids(await unfiltered(database.db)), ['a1', 'a2', 'b1']);
  // Whatever the engine, a scope runs as the tenant role and the owner's handle does not.
  const role = async (db: Kysely<InventoryDB>) =>
    (await sql<{ role: string }>`SELECT current_user AS role`.execute(db)).rows[0]?.role;
  assert.equal(await database.inTenant('a', role), 'erp_tenant');
  assert.notEqual(await role(database.db), 'erp_tenant');
});

test('updates and deletes without a tenant filter touch only the tenant rows', async (t) => {
  const database = await inventoryWithTwoTenants(t);
  const updated = await database.inTenant('a', (db) =>
    db.updateTable('products').set({ name: 'changed' }).executeTakeFirst(),
  );
  assert.equal(updated.numUpdatedRows, 2n);
  const deleted = await database.inTenant('b', (db) =>
    db.deleteFrom('products').where('name', '=', 'changed').executeTakeFirst(),
  );
  assert.equal(deleted.numDeletedRows, 0n);
  const rows = await database.db.selectFrom('products').select(['id', 'name']).execute();
  assert.deepEqual(
    rows.sort((x, y) => x.id.localeCompare(y.id)),
    [
      { id: 'a1', name: 'changed' },
      { id: 'a2', name: 'changed' },
      { id: 'b1', name: 'Laptop' },
    ],
  );
});

/** The refusal of a statement the tenant role may not run: coded, SQLSTATE 42501. */
async function assertRefused(promise: Promise<unknown>) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, PlatformErrorCodes.DB_STATEMENT_FAILED);
    assert.equal(err.context['sqlstate'], '42501');
    return true;
  });
}

test("another tenant's row cannot be inserted or moved to another tenant (WITH CHECK)", async (t) => {
  const database = await inventoryWithTwoTenants(t);
  await assertRefused(
    database.inTenant('a', (db) => db.insertInto('products').values(product('b', 'b2')).execute()),
  );
  await assertRefused(
    database.inTenant('a', (db) =>
      db.updateTable('products').set({ tenant_id: 'b' }).where('id', '=', 'a1').execute(),
    ),
  );
  const rows = await database.db.selectFrom('products').select(['id', 'tenant_id']).execute();
  assert.deepEqual(rows.map((r) => `${r.tenant_id}:${r.id}`).sort(), ['a:a1', 'a:a2', 'b:b1']);
});

test('a tenant scope cannot read tables outside the policy', async (t) => {
  const database = await testDatabase<unknown>(t, 'inventory');
  await assertRefused(
    database.inTenant('a', (db) => sql`SELECT name FROM schema_migrations`.execute(db)),
  );
});

test("sales: another tenant's orders and inbox rows are invisible to a tenant", async (t) => {
  const database = await testDatabase<SalesDB>(t, 'sales');
  for (const tenant of ['a', 'b']) {
    await database.db
      .insertInto('orders')
      .values({
        id: `o-${tenant}`,
        tenant_id: tenant,
        customer: 'ACME',
        status: 'PENDING',
        created_at: at,
        updated_at: at,
      })
      .execute();
    await database.db
      .insertInto('inbox')
      .values({ event_id: `e-${tenant}`, event_type: 'inventory.low_stock', tenant_id: tenant })
      .execute();
  }
  const seen = await database.inTenant('b', async (db) => ({
    orders: ids(await db.selectFrom('orders').select('id').execute()),
    inbox: (await db.selectFrom('inbox').select('event_id').execute()).map((r) => r.event_id),
  }));
  assert.deepEqual(seen, { orders: ['o-b'], inbox: ['e-b'] });
});

if (databaseUrl !== undefined) {
  test('one connection serving tenants in turn sees only the current one, also after a rollback', async (t) => {
    const migrated = await inventoryWithTwoTenants(t);
    // Same schema, one connection per pool: every scope below reuses the same session.
    const database: Database<InventoryDB> = await openDatabase<InventoryDB>({
      url: databaseUrl,
      schema: migrated.schema ?? '',
      poolSize: 1,
    });
    t.after(() => database.close());
    const unfiltered = (db: Kysely<InventoryDB>) =>
      db.selectFrom('products').select('id').execute();
    for (const tenant of ['a', 'b', 'a', 'a', 'b']) {
      assert.deepEqual(
        ids(await database.inTenant(tenant, unfiltered)),
        tenant === 'a' ? ['a1', 'a2'] : ['b1'],
      );
    }
    await assert.rejects(
      database.inTenant('a', async (db) => {
        await db.updateTable('products').set({ name: 'x' }).execute();
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.deepEqual(ids(await database.inTenant('b', unfiltered)), ['b1']);
    assert.deepEqual(ids(await database.inTenant('a', unfiltered)), ['a1', 'a2']);
    assert.deepEqual(ids(await unfiltered(database.db)), ['a1', 'a2', 'b1']);
  });
}
