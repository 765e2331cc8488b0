import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createCommandHandler } from '../../src/inventory/commands.ts';
import type { InventoryDB } from '../../src/inventory/db.ts';
import { inventoryService } from '../../src/inventory/index.ts';
import { migrate, openDatabase } from '../../src/platform/index.ts';
import { laptop } from '../inventory/fixtures.ts';
import { migrationsOf } from '../support/database.ts';
import { runCapturing } from './run.ts';

const run = runCapturing;

test('inventory rebuild: --verify-only reports and exits 1, rebuild fixes, then all agree', async (t) => {
  // The PGlite folder the service would use (DATA_DIR/inventory/pglite), made and filled here.
  const dataDir = await mkdtemp(join(tmpdir(), 'erp-cli-inventory-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir };
  const database = await openDatabase<InventoryDB>({
    dataDir: join(dataDir, 'inventory', 'pglite'),
  });
  await migrate(database, migrationsOf(inventoryService));
  const commands = createCommandHandler({ database, topic: 'inventory-events' });
  const a = await commands.createProduct(laptop, { tenantId: 'acme' });
  await commands.createProduct({ ...laptop, sku: 'OTHER' }, { tenantId: 'acme' });
  await sql`UPDATE products SET quantity_on_hand = 3 WHERE id = ${a.product.id}`.execute(
    database.db,
  );
  await database.close();

  const verify = await run(['inventory', 'rebuild', '--verify-only'], env);
  assert.equal(verify.status, 1, verify.err.join('\n'));
  assert.deepEqual(verify.out, ['products checked: 2, differences: 1, fixed: 0 (--verify-only)']);
  assert.ok(
    verify.err.includes(
      `differs: acme/${a.product.id}: quantityOnHand 3 → ${laptop.quantityOnHand}`,
    ),
    verify.err.join('\n'),
  );
  assert.match(verify.err.at(-1)!, /^error ERP_CLI_READ_MODEL_DIFFERS: 1 product/);

  const other = await run(['inventory', 'rebuild', '--tenant', 'globex'], env);
  assert.deepEqual(other.out, ['products checked: 0, differences: 0, fixed: 0']);

  const fix = await run(['inventory', 'rebuild'], env);
  assert.equal(fix.status, 0, fix.err.join('\n'));
  assert.deepEqual(fix.out, ['products checked: 2, differences: 1, fixed: 1']);
  const again = await run(['inventory', 'rebuild', '--verify-only', '--tenant', 'acme'], env);
  assert.equal(again.status, 0, again.err.join('\n'));
  assert.deepEqual(again.out, ['products checked: 2, differences: 0, fixed: 0 (--verify-only)']);
});

test('inventory: bad usage exits 2 with ERP_CLI_USAGE', async () => {
  for (const [args, message] of [
    [['inventory'], /inventory needs "rebuild"/],
    [['inventory', 'rebuild', 'now'], /got "rebuild now"/],
    [['inventory', 'rebuild', '--bogus'], /--bogus/],
    [['inventory', 'rebuild', '--tenant', 'a b'], /not a tenant id/],
  ] as const) {
    const { status, err } = await run([...args], {});
    assert.equal(status, 2, args.join(' '));
    assert.match(err[0]!, /^error ERP_CLI_USAGE: /);
    assert.match(err[0]!, message);
  }
  const help = await run(['inventory', '--help'], {});
  assert.equal(help.status, 0);
  assert.match(help.out[0]!, /^Usage: npm run cli -- inventory rebuild/);
});
