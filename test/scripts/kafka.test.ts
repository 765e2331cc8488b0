import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { ensureKafka, kafkaClasspath, kafkaStatus } from '../../scripts/kafka.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

function tcpConnect(bootstrap: string): Promise<void> {
  const [host, port] = bootstrap.split(':');
  return new Promise((done, fail) => {
    const socket = connect({ host: host!, port: Number(port) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      fail(new Error(`timeout connecting to ${bootstrap}`));
    });
    socket.once('connect', () => {
      socket.destroy();
      done();
    });
    socket.once('error', fail);
  });
}

// The broker is shared with every other test file: this test starts it if needed and never stops it.
test(
  'ensureKafka starts (or finds) a broker that accepts connections',
  { timeout: 300_000 },
  async () => {
    const first = await ensureKafka();
    assert.match(first.bootstrap, /^127\.0\.0\.1:\d+$/);
    await tcpConnect(first.bootstrap);

    const status = await kafkaStatus();
    assert.equal(status.running, true);
    assert.equal(status.bootstrap, first.bootstrap);

    const second = await ensureKafka();
    assert.deepEqual(second, { bootstrap: first.bootstrap, startedByUs: false });
  },
);

test('status command exits 0 and reports the running broker', { timeout: 120_000 }, async () => {
  await ensureKafka();
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'kafka.ts'), 'status'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /running/);
});

test(
  'kafkaClasspath points at the assembled jars for the Java tools',
  { timeout: 300_000 },
  async () => {
    const cp = await kafkaClasspath();
    assert.ok(cp.endsWith('/libs/*'), cp);
    const libs = dirname(cp);
    assert.ok(existsSync(libs));
    const jars = readdirSync(libs);
    assert.ok(
      jars.some((j) => /^kafka_2\.13-.*\.jar$/.test(j)),
      'broker jar missing',
    );
    assert.ok(
      jars.some((j) => /^kafka-tools-.*\.jar$/.test(j)),
      'tools jar missing',
    );
    assert.ok(
      jars.some((j) => /^log4j-slf4j2?-impl-.*\.jar$/.test(j)),
      'slf4j binding missing',
    );
  },
);
