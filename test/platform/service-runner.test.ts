/**
 * The process shell with its output gone and its supervisor gone, on real processes
 * (fixtures/service.ts: runService, the logger and the HTTP shell, as every service runs them).
 * A service whose stdout and stderr pipes were closed neither spins nor crashes and still stops
 * gracefully on SIGTERM; one started with an IPC channel stops gracefully on its own when the
 * process that started it is killed with -9.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'service.ts');

function tempMarker(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'erp-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'marker.txt');
}

/** The first JSON log line of `stream` with a `port`: where the service listens. */
function portFrom(stream: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    const timer = setTimeout(() => reject(new Error('no port logged within 10 s')), 10_000);
    lines.on('line', (line) => {
      const port = (JSON.parse(line.slice(line.indexOf('{'))) as { port?: number }).port;
      if (port === undefined) return;
      clearTimeout(timer);
      lines.close();
      resolve(port);
    });
  });
}

function exited(child: ChildProcess, withinMs: number): Promise<number | string | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pid ${child.pid} still running ${withinMs} ms after SIGTERM`));
    }, withinMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

async function until(what: string, check: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(50);
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** CPU seconds (user + system) the process used so far, from /proc; undefined elsewhere. */
const ticksPerSecond = existsSync('/proc/self/stat')
  ? Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
  : undefined;
function cpuSeconds(pid: number): number | undefined {
  if (ticksPerSecond === undefined) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

for (const mode of ['chatty', 'quiet'] as const) {
  const when =
    mode === 'chatty'
      ? 'logging all the while, to the logger, process.stdout and console.error'
      : 'first failing to write its log lines on the way out';
  test(`stdout and stderr closed, ${when}: no spinning, and SIGTERM stops it gracefully`, async (t) => {
    const marker = tempMarker(t);
    const child = spawn(process.execPath, [FIXTURE, marker, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const port = await portFrom(child.stdout);
    // Whoever read its output is gone: its next write fails with EPIPE.
    child.stdout.destroy();
    child.stderr.destroy();
    await sleep(300);

    const before = cpuSeconds(child.pid!);
    await sleep(1_000);
    const after = cpuSeconds(child.pid!);
    if (before !== undefined && after !== undefined) {
      assert.ok(after - before < 0.7, `used ${(after - before).toFixed(2)} s of CPU in 1 s`);
    }
    assert.equal(await refused(port), false, 'still serving');

    child.kill('SIGTERM');
    assert.equal(await exited(child, 5_000), 0);
    assert.deepEqual(readFileSync(marker, 'utf8').split('\n'), ['stopped', 'exit 0', '']);
    assert.equal(await refused(port), true, 'its port is free');
  });
}

test('started with an IPC channel, it stops gracefully on its own when its supervisor is killed -9', async (t) => {
  const marker = tempMarker(t);
  // A supervisor like `npm start`'s: the service in its own process group, its output piped, an
  // IPC channel; it forwards the service's output and tells its pid.
  const supervisor = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { spawn } from 'node:child_process';
       const child = spawn(process.execPath, process.argv.slice(1), {
         stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
         detached: true,
       });
       child.stdout.pipe(process.stdout);
       console.log(JSON.stringify({ servicePid: child.pid }));`,
      FIXTURE,
      marker,
      'quiet',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let servicePid: number | undefined;
  const lines = createInterface({ input: supervisor.stdout });
  lines.on('line', (line) => {
    servicePid ??= (JSON.parse(line.slice(line.indexOf('{'))) as { servicePid?: number })
      .servicePid;
  });
  t.after(() => {
    supervisor.kill('SIGKILL');
    if (
      servicePid !== undefined &&
      !(existsSync(marker) && readFileSync(marker, 'utf8').includes('exit'))
    ) {
      process.kill(servicePid, 'SIGKILL');
    }
  });
  const port = await portFrom(supervisor.stdout);
  assert.equal(await refused(port), false, 'serving while its supervisor lives');
  await sleep(500);
  assert.equal(existsSync(marker), false, 'an open channel changes nothing');

  supervisor.kill('SIGKILL');
  await until(
    'the service exits',
    () => existsSync(marker) && readFileSync(marker, 'utf8').includes('exit'),
    5_000,
  );
  assert.deepEqual(readFileSync(marker, 'utf8').split('\n'), ['stopped', 'exit 0', '']);
  assert.equal(await refused(port), true, 'its port is free');
});
