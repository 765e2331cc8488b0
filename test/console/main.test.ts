/**
 * `npm run start:console` as a process: it listens where CONSOLE_HOST says, warns loudly when
 * that is not the loopback interface, serves its pages, and stops gracefully on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { testBootstrap, waitUntil } from '../support/kafka.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

async function runConsole(t: { after(fn: () => unknown): void }, host: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'erp-console-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [join(ROOT, 'src', 'console', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
      DATA_DIR: dataDir,
      CONSOLE_HOST: host,
      CONSOLE_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil('the console listens', () => /console listening on (\S+)"/.test(output), 30_000);
  const address = /console listening on (http:\/\/[^"]+)"/.exec(output)![1]!;
  return { child, address, output: () => output };
}

test('on 127.0.0.1 by default: pages served, no warning, graceful stop on SIGTERM', async (t) => {
  const { child, address, output } = await runConsole(t, '127.0.0.1');
  assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
  const page = await fetch(`${address}/dead-letters`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /erp-events console/);
  assert.equal((await fetch(`${address}/api/console/overview`)).status, 401);
  assert.doesNotMatch(output(), /CONSOLE BOUND TO/);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(output(), /console stopped/);
});

test('bound elsewhere: a loud warning at start', async (t) => {
  const { child, output } = await runConsole(t, '0.0.0.0');
  assert.match(output(), /"level":40.*CONSOLE BOUND TO 0\.0\.0\.0, NOT 127\.0\.0\.1/);
  child.kill('SIGTERM');
});
