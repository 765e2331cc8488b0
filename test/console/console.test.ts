// The console as an operator uses it: a real headless Chromium against the real system (both
// services, the real broker, a real database), signed in with an ops token of the development
// issuer. It sees the overview's numbers move after a stock adjustment, opens a dead letter the
// test wrote, previews and confirms its redrive, and sees Sales process it (an alert opens); it
// runs a replay dry run (in Sales) over events it produced and sees no difference. A
// screenshot of each page goes to .data/console-screenshots/; any console error or failed
// request in the page fails the test.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createEvent, EVENT_TYPES } from '../../src/contract/index.ts';
import { testIssuer } from '../support/auth.ts';
import { launchBrowser, watchedPage } from '../support/browser.ts';
import { startTestConsole, writeDeadLetter } from '../support/console.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { productWithChanges, startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';
import { laptopBody } from '../inventory/fixtures.ts';

const SCREENSHOTS = join(import.meta.dirname, '../../.data/console-screenshots');
const tenant = uniqueName('tenant');
let browser: Browser;
let system: TestSystem;
let base: string;
const cleanups: Array<() => unknown> = [];

before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
  ({ base } = await startTestConsole({ after: (fn) => cleanups.unshift(fn) }, system, {
    CONSOLE_POLL_MS: '500',
    CONSOLE_STUCK_ORDER_MS: '1',
    CONSOLE_TENANTS: tenant,
  }));
  browser = await launchBrowser();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  for (const fn of cleanups) await fn();
});

async function signIn(page: Page): Promise<void> {
  const issuer = await testIssuer();
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Token').fill(await issuer.token(undefined, ['ops']));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

const metric = async (page: Page, name: string): Promise<number> =>
  Number(await page.locator(`[data-metric="${name}"]`).innerText());

test('an operator follows a stock change, redrives a dead letter and sees it processed', async () => {
  const watched = await watchedPage(browser);
  const { page } = watched;
  const headers = await system.headers(tenant);

  // Nothing without a session: the API needs the ops scope.
  const refused = await fetch(`${base}/api/console/overview`);
  assert.equal(refused.status, 401);
  const noOps = await fetch(`${base}/api/console/overview`, {
    headers: await system.headers(tenant, ['inventory:read', 'sales:read']),
  });
  assert.equal(noOps.status, 403);

  await signIn(page);
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: laptopBody,
  });
  assert.equal(created.statusCode, 201);
  const productId: string = created.json().id;
  await waitUntil(
    'the overview shows the product_created published',
    async () => (await metric(page, 'inventory-published')) >= 1,
  );
  const published = await metric(page, 'inventory-published');
  const consumed = await metric(page, 'sales-consumed');
  const adjusted = await system.inventory.http.inject({
    method: 'POST',
    url: `/api/v1/products/${productId}/stock-adjustments`,
    headers,
    payload: { quantity_change: -5, reason: 'sale' },
  });
  assert.equal(adjusted.statusCode, 201);
  await waitUntil(
    'the overview counts the adjustment',
    async () =>
      (await metric(page, 'inventory-published')) > published &&
      (await metric(page, 'sales-consumed')) > consumed,
  );
  await page.locator('.chart .uplot').waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });

  // A low-stock event Sales never saw, dead-lettered as the inbox consumer would.
  const event = createEvent(
    EVENT_TYPES.lowStock,
    {
      product_id: productId,
      product_sku: laptopBody.sku,
      product_name: laptopBody.name,
      current_stock: 3,
      reorder_level: 10,
      reorder_quantity: 50,
      unit_price: 12.5,
      category: 'electronics',
      location: 'Warehouse A',
    },
    { tenantId: tenant, sourceService: 'inventory-service' },
  );
  const inventoryTopic = system.config.kafka.inventoryTopic;
  await writeDeadLetter(system, event, productId);

  await page.getByRole('link', { name: 'Dead letters' }).click();
  await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('1 dead letter(s) in').waitFor();
  await page.locator('[data-show]').first().click();
  await page.locator('pre.value').getByText(event.metadata.event_id).waitFor();
  assert.match(await page.locator('#dl-detail').innerText(), /ERP_TEST_POISONED/);
  await page.locator('input[data-position]').first().check();
  await page.getByRole('button', { name: 'Preview redrive of selected' }).click();
  await page.getByText('1 dead letter(s) would be redriven (dry run, nothing sent)').waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'dead-letters.png'), fullPage: true });
  await page.getByRole('button', { name: 'Confirm redrive of 1' }).click();
  await page.getByText('1 dead letter(s) redriven').waitFor();

  // Processed: Sales opened the alert the event asks for.
  await page.getByRole('link', { name: 'Alerts' }).click();
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
  await page.getByRole('button', { name: 'Show' }).click();
  await page.locator('#list').getByText(productId).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'History' }).first().click();
  await page.locator('#history').getByText('opened').first().waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'alerts.png'), fullPage: true });

  const order = await system.sales.http.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers,
    payload: { customer: 'ACME', lines: [{ product_id: productId, quantity: 2 }] },
  });
  assert.equal(order.statusCode, 201);
  await page.getByRole('link', { name: 'Orders' }).click();
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
  await page.getByRole('button', { name: 'Show' }).click();
  // CONSOLE_STUCK_ORDER_MS is 1 ms here: an order still in the saga (PENDING, or CONFIRMED and
  // waiting to be fulfilled; the product has stock for it) is stuck at once.
  await page
    .locator('tr.stuck')
    .getByText(/^(PENDING|CONFIRMED) \(stuck\)$/)
    .waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'orders.png'), fullPage: true });

  await page.getByRole('link', { name: 'Topics' }).click();
  await page.getByRole('heading', { name: 'Topics' }).waitFor();
  await page.getByText(inventoryTopic, { exact: true }).first().waitFor();
  // The shared test broker holds many topics: the filter keeps this system's.
  await page.getByLabel('Filter topics and groups').fill(inventoryTopic);
  await waitUntil('only the inventory topic and its dead letters are listed', async () => {
    const captions = await page.locator('#topics caption').allInnerTexts();
    return captions.join('|') === `Brokers|${inventoryTopic}|${inventoryTopic}.dlq|Consumer groups`;
  });
  await page.getByText(system.consumerGroup).first().waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'topics.png'), fullPage: true });

  // Back on the overview, the redriven alert is counted among the open ones (the README's picture).
  await page.getByRole('link', { name: 'Overview' }).click();
  // The link waits for the page's requests in flight before it navigates: reading the old page
  // meanwhile fails when the navigation destroys it.
  await page.waitForURL(`${base}/`);
  await waitUntil('the overview counts the open alert', async () => {
    const counts = await page.locator('[data-open]').allInnerTexts();
    return counts.map(Number).reduce((a, b) => a + b, 0) >= 1;
  });
  await page.screenshot({ path: join(SCREENSHOTS, 'overview-final.png') });

  assert.deepEqual(watched.problems(), []);
  await page.close();
});

test('an operator runs a replay dry run over what the test produced and sees no difference', async () => {
  const watched = await watchedPage(browser);
  const { page } = watched;
  const replayTenant = uniqueName('tenant');
  const headers = await system.headers(replayTenant);
  // Kafka's timestamps come from the producers' clocks on this machine: a second's margin.
  const from = new Date(Date.now() - 1000).toISOString();
  await productWithChanges(system, replayTenant, laptopBody, [-95]);
  await waitUntil('Sales opened the low-stock alert', async () => {
    const alerts = await system.sales.http.inject({
      method: 'GET',
      url: '/api/v1/alerts',
      headers,
    });
    return alerts.json().items.length === 1;
  });

  await signIn(page);
  await page.getByRole('link', { name: 'Replay' }).click();
  await page.getByRole('heading', { name: 'Replay (dry run)' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Nothing is changed/);
  await page.getByLabel('From').fill(from);
  await page.getByLabel('Tenant').fill(replayTenant);
  await page.getByRole('button', { name: 'Dry run' }).click();
  // Progress while it runs (the answer to the POST is the first), then the summary.
  await page.getByRole('heading', { name: /: running$/ }).waitFor();
  assert.match(
    await page.locator('[data-replay-progress]').innerText(),
    /^\d+ \/ \d+ records read$/,
  );
  await page.getByRole('heading', { name: /: done$/ }).waitFor({ timeout: 60_000 });
  await page.getByText('0 difference(s) from live Sales (dry run, nothing changed)').waitFor();
  const summary = await page.locator('pre.summary').innerText();
  assert.match(summary, /low-stock events: 1 applied by the replay, 0 differ from live/);
  assert.match(summary, /alerts: replay 1 opened, 0 escalated, 0 updated; live 1 opened/);
  assert.equal(await page.locator('#replay table tbody td.empty').innerText(), 'none');
  await page.screenshot({ path: join(SCREENSHOTS, 'replay.png'), fullPage: true });

  // At phone width the result still fits the screen (its tables scroll by themselves).
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - window.innerWidth',
  );
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await page.screenshot({ path: join(SCREENSHOTS, 'replay-phone.png'), fullPage: true });
  assert.deepEqual(watched.problems(), []);
  await page.close();
});

test('at phone width the overview fits the screen and the keyboard reaches every page', async () => {
  const watched = await watchedPage(browser, { width: 390, height: 844 });
  const { page } = watched;
  await signIn(page);
  await page.locator('[data-metric="inventory-published"]').waitFor();
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - window.innerWidth',
  );
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await page.screenshot({ path: join(SCREENSHOTS, 'overview-phone.png'), fullPage: true });
  // Tab from the top: the skip link, then the pages in order.
  await page.keyboard.press('Tab');
  assert.equal(
    await page.evaluate<string>('document.activeElement?.textContent'),
    'Skip to content',
  );
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate<string>('document.activeElement?.textContent'), 'Dead letters');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
  assert.deepEqual(watched.problems(), []);
  await page.close();
});

test('bad input is a coded 400, a wrong confirmation a coded 409, and nothing is sent', async () => {
  const issuer = await testIssuer();
  const auth = { authorization: `Bearer ${await issuer.token(undefined, ['ops'])}` };
  const bad = await fetch(`${base}/api/console/alerts?tenant=${encodeURIComponent('no spaces')}`, {
    headers: auth,
  });
  assert.equal(bad.status, 400);
  assert.equal(
    ((await bad.json()) as { error: { code: string } }).error.code,
    'ERP_HTTP_INVALID_INPUT',
  );
  const redrive = await fetch(`${base}/api/console/dead-letters/redrive`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ positions: ['0:999999'], dry_run: false, expected: 1 }),
  });
  assert.equal(redrive.status, 409);
  const body = (await redrive.json()) as { error: { code: string; retryable: boolean } };
  assert.equal(body.error.code, 'ERP_CONSOLE_PREVIEW_MISMATCH');
  const missing = await fetch(`${base}/api/console/dead-letters/0/999999`, { headers: auth });
  assert.equal(missing.status, 404);

  // Sales' own refusals of a dry run pass through with their status and code.
  const badFrom = await fetch(`${base}/api/console/replays`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'yesterday' }),
  });
  assert.equal(badFrom.status, 400);
  const badBody = (await badFrom.json()) as { error: { code: string; message: string } };
  assert.equal(badBody.error.code, 'ERP_HTTP_INVALID_INPUT');
  assert.match(badBody.error.message, /ISO-8601/);
  const noReplay = await fetch(`${base}/api/console/replays/00000000-0000-4000-8000-000000000000`, {
    headers: auth,
  });
  assert.equal(noReplay.status, 404);
  assert.equal(
    ((await noReplay.json()) as { error: { code: string } }).error.code,
    'ERP_SALES_REPLAY_NOT_FOUND',
  );
});
