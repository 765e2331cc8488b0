import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleSettings, isLoopback } from '../../src/console/settings.ts';
import { isAppError, loadServiceConfig } from '../../src/platform/index.ts';

test('defaults: port 3000 on 127.0.0.1, the services on their default ports, stuck after 15 min', () => {
  const { settings } = loadServiceConfig(consoleSettings, {});
  assert.equal(settings.port, 3000);
  assert.equal(settings.host, '127.0.0.1');
  assert.equal(settings.inventoryUrl, 'http://127.0.0.1:3001');
  assert.equal(settings.salesUrl, 'http://127.0.0.1:3002');
  assert.equal(settings.pollMs, 3000);
  assert.equal(settings.stuckOrderMs, 900_000);
  assert.deepEqual(settings.tenants, []);
});

test('follows the services ports, trims URLs, lists tenants once', () => {
  const { settings } = loadServiceConfig(consoleSettings, {
    INVENTORY_PORT: '4001',
    CONSOLE_SALES_URL: 'http://sales.internal:8080/',
    CONSOLE_TENANTS: 'a, b,,a',
  });
  assert.equal(settings.inventoryUrl, 'http://127.0.0.1:4001');
  assert.equal(settings.salesUrl, 'http://sales.internal:8080');
  assert.deepEqual(settings.tenants, ['a', 'b']);
});

test('bad values stop the start with ERP_CFG_INVALID naming each variable', () => {
  assert.throws(
    () =>
      loadServiceConfig(consoleSettings, {
        CONSOLE_PORT: 'x',
        CONSOLE_SALES_URL: 'ftp://nope',
        CONSOLE_POLL_MS: '0',
      }),
    (err: unknown) => {
      assert.ok(isAppError(err));
      assert.equal(err.code, 'ERP_CFG_INVALID');
      assert.deepEqual([...(err.context['variables'] as string[])].sort(), [
        'CONSOLE_POLL_MS',
        'CONSOLE_PORT',
        'CONSOLE_SALES_URL',
      ]);
      return true;
    },
  );
});

test('only loopback addresses count as private', () => {
  for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1'])
    assert.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '10.0.0.5', '::', 'console.example'])
    assert.ok(!isLoopback(host), host);
});
