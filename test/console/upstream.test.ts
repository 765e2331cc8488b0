// What the console asks the services for on an operator's behalf (src/console/upstream.ts). In
// AUTH_MODE=dev it signs its own tokens, so it must itself keep an operator bound to a tenant
// to that tenant: alerts and orders of another tenant are refused, and a replay dry run it relays
// is signed for the operator's tenant (Sales then replays that tenant only). The platform's
// operator (a token bound to none) still reads any tenant. Real services, real broker.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { codeOf, consoleClient, startTestConsole } from '../support/console.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const tenantA = uniqueName('tenant-a');
const tenantB = uniqueName('tenant-b');
let system: TestSystem;
let base: string;
const cleanups: Array<() => unknown> = [];

before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
  ({ base } = await startTestConsole({ after: (fn) => cleanups.unshift(fn) }, system));
});
after(async () => {
  for (const fn of cleanups) await fn();
});

test("a tenant's operator reads its tenant's alerts and orders only", async () => {
  const ofA = await consoleClient(base, tenantA);
  const operator = await consoleClient(base, undefined);
  for (const path of ['/api/console/alerts', '/api/console/orders']) {
    const other = await ofA(`${path}?tenant=${tenantB}`);
    assert.equal(other.status, 403, path);
    assert.equal(codeOf(other), 'ERP_CONSOLE_OTHER_TENANT');
    assert.equal((await ofA(`${path}?tenant=${tenantA}`)).status, 200, path);
    assert.equal((await operator(`${path}?tenant=${tenantB}`)).status, 200, path);
  }
});

test("a replay a tenant's operator asks for through the console replays that tenant", async () => {
  const ofA = await consoleClient(base, tenantA);
  const other = await ofA('/api/console/replays', { from: '1970-01-01', tenant: tenantB });
  assert.equal(other.status, 403);
  assert.equal(codeOf(other), 'ERP_CONSOLE_OTHER_TENANT');

  const started = await ofA('/api/console/replays', { from: '1970-01-01' });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const id = started.body['id'] as string;
  assert.equal((started.body['request'] as { tenant?: string }).tenant, tenantA);
  await waitUntil('the dry run to end', async () => {
    const view = await ofA(`/api/console/replays/${id}`);
    assert.equal(view.status, 200);
    return view.body['state'] !== 'running';
  });
  // Another tenant's operator cannot see it (Sales answers as for a missing one).
  const ofB = await consoleClient(base, tenantB);
  const seen = await ofB(`/api/console/replays/${id}`);
  assert.equal(seen.status, 404);
  assert.equal(codeOf(seen), 'ERP_SALES_REPLAY_NOT_FOUND');
});
