// The API docs page as a reader sees it: Swagger UI at /docs of a running service, rendered by a
// real headless Chromium, offline (the bundle comes from the service), with every route of the
// OpenAPI document listed and no console error or failed request on the way.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, watchedPage } from '../support/browser.ts';
import { startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const SCREENSHOTS = join(import.meta.dirname, '../../.data/docs-screenshots');
let browser: Browser;
let system: TestSystem;
const cleanups: Array<() => unknown> = [];

before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
  browser = await launchBrowser();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  for (const fn of cleanups.reverse()) await fn();
});

for (const name of ['inventory', 'sales'] as const) {
  test(`${name}: Swagger UI at /docs renders every documented operation`, async () => {
    const http = system[name].http;
    const base = await http.listen({ host: '127.0.0.1', port: 0 });
    const doc = (await (await fetch(`${base}/docs/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    assert.ok(operations.length >= 5, operations.join(', '));

    const watched = await watchedPage(browser);
    const { page } = watched;
    await page.goto(`${base}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    assert.equal(
      await page
        .locator('.info .title')
        .first()
        .innerText()
        .then((t) => t.includes(doc.info.title)),
      true,
    );
    const shown = await page
      .locator('.opblock-summary')
      .evaluateAll((blocks) =>
        blocks.map(
          (b) =>
            `${b.querySelector('.opblock-summary-method')?.textContent ?? ''} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? ''}`,
        ),
      );
    assert.deepEqual([...shown].sort(), [...operations].sort());
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    assert.deepEqual(watched.problems(), []);
    await page.close();
  });
}
