/**
 * `npm start` killed with -9 (no Ctrl-C, no SIGTERM for anyone): both services notice through
 * their IPC channel that their supervisor is gone and stop gracefully on their own, their output
 * pipes broken: they close their databases (the PGlite lock files go) and free their ports. Real
 * processes on the real broker, PGlite in a temporary DATA_DIR.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../support/ports.ts';
import { testBootstrap, uniqueName } from '../support/kafka.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

function refused(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(true));
  });
}

/** Live (not zombie) children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === pid && state !== 'Z';
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

test(
  'npm start killed with -9: both services and the console stop gracefully on their own',
  // Finds the services through /proc: Linux only, like the CI that runs it.
  { timeout: 60_000 },
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'erp-start-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const [inventoryPort, salesPort, consolePort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const supervisor = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(','),
        KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
        KAFKA_SALES_TOPIC: uniqueName('sales-events'),
        KAFKA_CONSUMER_GROUP: uniqueName('sales-service-group'),
        DATA_DIR: dataDir,
        INVENTORY_PORT: String(inventoryPort),
        SALES_PORT: String(salesPort),
        CONSOLE_PORT: String(consolePort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let services: number[] = [];
    t.after(() => {
      supervisor.kill('SIGKILL');
      for (const pid of services) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    let output = '';
    supervisor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    supervisor.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (!output.includes('[start] ready:')) {
      assert.ok(supervisor.exitCode === null, `npm start exited:\n${output}`);
      assert.ok(Date.now() < deadline, `not ready within 90 s:\n${output}`);
      await sleep(100);
    }
    services = childrenOf(supervisor.pid!);
    assert.equal(
      services.length,
      3,
      `the two services and the console are its children:\n${output}`,
    );
    const locks = ['inventory', 'sales'].map((id) => join(dataDir, id, 'pglite.lock'));
    assert.ok(
      locks.every((lock) => existsSync(lock)),
      'each service holds its PGlite folder',
    );

    supervisor.kill('SIGKILL');
    const stopBy = Date.now() + 10_000;
    while (services.some(alive)) {
      assert.ok(
        Date.now() < stopBy,
        `still running 10 s after npm start died: ${services.join(', ')}`,
      );
      await sleep(100);
    }
    assert.deepEqual(
      locks.filter((lock) => existsSync(lock)),
      [],
      'each closed its database (a graceful stop)',
    );
    assert.deepEqual(
      [await refused(inventoryPort), await refused(salesPort), await refused(consolePort)],
      [true, true, true],
    );
  },
);
