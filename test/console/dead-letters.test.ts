// Dead letters hold tenants' events: through the console, an ops token bound to a tenant (a
// tenant's operator) lists, shows and redrives that tenant's only, and cannot tell another
// tenant's dead letter from a missing one; the platform's operator (a token bound to none)
// sees them all. Real broker, real services, the console's HTTP API (dev issuer).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createEvent, EVENT_TYPES } from '../../src/contract/index.ts';
import { codeOf, consoleClient, startTestConsole, writeDeadLetter } from '../support/console.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const tenantA = uniqueName('tenant-a');
const tenantB = uniqueName('tenant-b');
let system: TestSystem;
let base: string;
const cleanups: Array<() => unknown> = [];
type Row = { partition: number; offset: string; tenant_id: string };

before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
  ({ base } = await startTestConsole({ after: (fn) => cleanups.unshift(fn) }, system));
  for (const tenantId of [tenantA, tenantB]) {
    const productId = randomUUID();
    const event = createEvent(
      EVENT_TYPES.productCreated,
      {
        product_id: productId,
        product_sku: `SKU-${tenantId}`,
        product_name: 'Poisoned',
        category: 'c',
        unit_price: 1,
        quantity_on_hand: 1,
        reorder_level: 0,
        reorder_quantity: 1,
        location: 'A1',
      },
      { tenantId, sourceService: 'inventory-service' },
    );
    await writeDeadLetter(system, event, productId);
  }
});
after(async () => {
  for (const fn of cleanups) await fn();
});

const itemsOf = (res: { body: Record<string, unknown> }) => res.body['items'] as Row[];

test("a tenant's operator sees, shows and redrives its own dead letters only", async () => {
  const operator = await consoleClient(base, undefined);
  const ofA = await consoleClient(base, tenantA);
  let all: Row[] = [];
  await waitUntil('both dead letters are listed for the platform operator', async () => {
    all = itemsOf(await operator('/api/console/dead-letters'));
    return all.length === 2;
  });
  const [a, b] = [tenantA, tenantB].map((t) => all.find((r) => r.tenant_id === t)!);
  assert.ok(a !== undefined && b !== undefined, JSON.stringify(all));

  const listed = await ofA('/api/console/dead-letters');
  assert.equal(listed.status, 200);
  assert.deepEqual(
    itemsOf(listed).map((r) => r.tenant_id),
    [tenantA],
  );
  const other = await ofA(`/api/console/dead-letters?tenant=${tenantB}`);
  assert.equal(other.status, 403);
  assert.equal(codeOf(other), 'ERP_CONSOLE_OTHER_TENANT');

  // Another tenant's dead letter answers exactly as a position that holds nothing.
  const shownB = await ofA(`/api/console/dead-letters/${b.partition}/${b.offset}`);
  const missing = await ofA(`/api/console/dead-letters/${b.partition}/999999`);
  assert.equal(shownB.status, 404);
  assert.equal(codeOf(shownB), codeOf(missing));
  assert.equal((await ofA(`/api/console/dead-letters/${a.partition}/${a.offset}`)).status, 200);
  assert.equal(
    (await operator(`/api/console/dead-letters/${b.partition}/${b.offset}`)).status,
    200,
  );

  // A selection of both redrives (previews) A's only.
  const positions = [a, b].map((r) => `${r.partition}:${r.offset}`);
  const preview = await ofA('/api/console/dead-letters/redrive', { positions, dry_run: true });
  assert.equal(preview.status, 200, JSON.stringify(preview.body));
  assert.equal(preview.body['count'], 1);
  const previewAll = await operator('/api/console/dead-letters/redrive', {
    positions,
    dry_run: true,
  });
  assert.equal(previewAll.body['count'], 2);
});
