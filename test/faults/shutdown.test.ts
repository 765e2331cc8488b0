/**
 * Graceful shutdown of the real processes under load (issue 3, section 3): SIGTERM makes a
 * service refuse new HTTP work with 503, finish what it holds, flush and exit 0 within
 * SHUTDOWN_TIMEOUT_MS; Inventory leaves no committed event unpublished; Sales' committed offsets
 * cover its inbox (nothing to redeliver) and lose nothing; a second signal exits at once.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { createConsumer } from '../../src/messaging/kafka/index.ts';
import { createProducts, createScenario, duplicatesOf, say } from './harness.ts';
import type { Exit, Scenario } from './harness.ts';
import { startLoad } from './load.ts';
import { assertSound } from './scenario.ts';
import { printFigures, saveFigures, verify, waitForConvergence } from './verify.ts';

const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * A fresh scenario with both services as processes and 100 adjustments/s running. Its schemas
 * are dropped at the end only once the test set `done.passed` (a failure keeps them to inspect).
 */
async function underLoad(t: TestContext, name: string) {
  const s = await createScenario(name);
  const done = { passed: false };
  t.after(() => s.cleanup(done.passed));
  const inventory = await s.inventory();
  const sales = await s.sales();
  const products = await createProducts(inventory);
  const load = startLoad({ url: inventory.url, products, ratePerSecond: 100 });
  return { s, inventory, sales, load, done };
}

/**
 * Until the port refuses connections, sends a GET every 5 ms, each on a connection of its own
 * (the load's keep-alive connections may be closed under it), and tallies the answers.
 */
async function probeUntilClosed(url: string, authorization: string): Promise<Map<string, number>> {
  const tally = new Map<string, number>();
  const once = () =>
    new Promise<string>((done) => {
      const req = request(
        `${url}/api/v1/products?limit=1`,
        { agent: false, headers: { authorization }, timeout: 300 },
        (res) => {
          let body = '';
          res.on('data', (b: Buffer) => (body += b.toString()));
          res.on('end', () => {
            const code = (JSON.parse(body || '{}') as { error?: { code?: string } }).error?.code;
            done(`${res.statusCode}${code === undefined ? '' : ` ${code}`}`);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await once();
    tally.set(answer, (tally.get(answer) ?? 0) + 1);
    if (answer === 'ECONNREFUSED' || Date.now() > deadline) return tally;
    await sleep(5);
  }
}

async function committedOffsets(s: Scenario): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'faults-offsets', bootstrapBrokers: s.bootstrap });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [s.group] });
    const topic = group?.topics.find((x) => x.name === s.inventoryTopic);
    return new Map((topic?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
  } finally {
    await admin.close();
  }
}

/** event_id -> lowest (partition, offset) it was published at, for every record of the topic. */
async function topicIndex(
  s: Scenario,
  expected: number,
): Promise<Map<string, { partition: number; offset: bigint }>> {
  const index = new Map<string, { partition: number; offset: bigint }>();
  const reader = createConsumer(
    { clientId: 'faults-index', bootstrapServers: s.bootstrap },
    {
      groupId: `${s.group}-index`,
      topics: [s.inventoryTopic],
      autoOffsetReset: 'earliest',
      maxWaitMs: 200,
    },
  );
  const running = reader.run((batch) => {
    for (const r of batch.records) {
      const id = r.headers['event_id'];
      if (id !== undefined && !index.has(id))
        index.set(id, { partition: r.partition, offset: r.offset });
    }
    return Promise.resolve();
  });
  const deadline = Date.now() + 60_000;
  while (index.size < expected && Date.now() < deadline) await sleep(250);
  await reader.close();
  await running.catch(() => undefined);
  return index;
}

test('SIGTERM to Inventory under load: new requests refused (503 or at connect), exit 0 in time, no committed event left unpublished', async (t) => {
  const { s, inventory, sales, load, done } = await underLoad(t, 'shutdown-inventory');
  await sleep(8000);
  const authorization = await inventory.authorization('tenant-1');
  const signalledAt = Date.now();
  const exiting = inventory.signal('SIGTERM');
  const probes = await probeUntilClosed(inventory.url, authorization);
  const exit = await exiting;
  const tookMs = exit!.at - signalledAt;
  // What the outbox holds right after the exit, before anything could publish it.
  const left = await s.inventoryDb.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM events WHERE published_at IS NULL',
  );
  await sleep(1000);
  const adjustments = await load.stop();
  const after = adjustments.filter((a) => a.sentAt >= signalledAt);
  const draining = after.filter((a) => a.error === 'ERP_HTTP_DRAINING').length;
  const ackedLate = after.filter(
    (a) => a.outcome === 'acked' && a.sentAt > signalledAt + 500,
  ).length;
  const errors = new Map<string, number>();
  for (const a of after)
    errors.set(a.error ?? String(a.status), (errors.get(a.error ?? String(a.status)) ?? 0) + 1);
  const summary =
    `exit code ${exit!.code} after ${tookMs} ms; ${left.rows[0]!.n} events unpublished at exit; ` +
    `probes while stopping: ${JSON.stringify(Object.fromEntries(probes))}; load answers after the signal: ${JSON.stringify(Object.fromEntries(errors))}; ` +
    `after the signal: ${after.length} requests, ${draining} answered 503 ERP_HTTP_DRAINING, ` +
    `${after.filter((a) => a.outcome === 'acked').length} acknowledged (${ackedLate} sent > 500 ms after it), ` +
    `${after.filter((a) => a.outcome === 'unknown').length} refused at connect or unanswered`;
  say(`shutdown-inventory: ${summary}`);
  t.diagnostic(summary);

  assert.equal(exit!.code, 0, 'Inventory exits 0 on SIGTERM');
  assert.ok(tookMs < SHUTDOWN_TIMEOUT_MS, `Inventory stopped within ${SHUTDOWN_TIMEOUT_MS} ms`);
  assert.equal(left.rows[0]!.n, 0, 'the relay flushed every committed event before the exit');
  assert.equal(ackedLate, 0, 'no request is accepted once the drain began');
  // What a request that arrives after the signal meets depends on how long the drain lasts (the
  // last flush: 143 ms once, 62 ms after the commands got faster): 503 ERP_HTTP_DRAINING on a
  // kept-alive socket while it runs, a refused connection once the listener closed. Either is a
  // correct answer; being served is not (checked above and below). The 503 itself is asserted
  // deterministically in test/platform/http.test.ts; here its count is printed.
  const answered503 =
    after.filter((a) => a.status === 503).length +
    [...probes].filter(([answer]) => answer.startsWith('503')).reduce((n, [, c]) => n + c, 0);
  t.diagnostic(`answered 503 while draining: ${answered503}`);
  const served = after.filter(
    (a) => a.sentAt > signalledAt + 500 && a.status !== undefined && a.status !== 503,
  );
  assert.deepEqual(served, [], 'a request sent after the drain began is refused, never served');
  assert.equal(probes.get('200') ?? 0, 0, 'no new request is served once the drain began');

  // Everything Inventory committed still reaches Sales, once.
  await waitForConvergence(s, 60_000);
  await sales.scrape();
  const figures = await verify(s, {
    adjustments,
    duplicates: duplicatesOf(sales),
    healedAt: null,
    unplannedExits: s.services.reduce((sum, p) => sum + p.unplannedExits.length, 0),
    notes: `SIGTERM: exit ${exit!.code} in ${tookMs} ms, ${draining} x 503`,
  });
  figures.scenario = 'shutdown-inventory';
  printFigures(figures);
  saveFigures(figures);
  assertSound(figures);
  done.passed = true;
});

test('SIGTERM to Sales under load: exit 0 in time; committed offsets cover the inbox and lose nothing', async (t) => {
  const { s, sales, load, done } = await underLoad(t, 'shutdown-sales');
  await sleep(8000);
  await sales.scrape();
  const signalledAt = Date.now();
  const exit = await sales.signal('SIGTERM');
  const tookMs = exit!.at - signalledAt;
  await sleep(2000);
  const adjustments = await load.stop();

  assert.equal(exit!.code, 0, 'Sales exits 0 on SIGTERM');
  assert.ok(tookMs < SHUTDOWN_TIMEOUT_MS, `Sales stopped within ${SHUTDOWN_TIMEOUT_MS} ms`);

  // Compare the group's committed offsets with the inbox, record by record.
  const committed = await committedOffsets(s);
  const inbox = new Set(
    (await s.salesDb.pool.query<{ event_id: string }>('SELECT event_id FROM inbox')).rows.map(
      (r) => r.event_id,
    ),
  );
  const events = await s.inventoryDb.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM events',
  );
  const index = await topicIndex(s, events.rows[0]!.n);
  let uncovered = 0;
  let lost = 0;
  for (const [id, at] of index) {
    const below = at.offset < (committed.get(at.partition) ?? 0n);
    if (inbox.has(id) && !below) uncovered++;
    if (!inbox.has(id) && below) lost++;
  }
  const summary =
    `exit code ${exit!.code} after ${tookMs} ms; committed offsets ${JSON.stringify(Object.fromEntries([...committed].map(([p, o]) => [p, String(o)])))}; ` +
    `${inbox.size} events in the inbox, ${uncovered} of them beyond the committed offsets, ${lost} records below them missing from the inbox`;
  say(`shutdown-sales: ${summary}`);
  t.diagnostic(summary);
  assert.equal(lost, 0, 'no record below the committed offsets is missing from the inbox');
  assert.equal(uncovered, 0, 'the committed offsets cover every event in the inbox');

  // A restarted Sales finds nothing to redo and catches up.
  await sales.start();
  await waitForConvergence(s, 90_000);
  await sales.scrape();
  const figures = await verify(s, {
    adjustments,
    duplicates: duplicatesOf(sales),
    healedAt: null,
    unplannedExits: s.services.reduce((sum, p) => sum + p.unplannedExits.length, 0),
    notes: `SIGTERM: exit ${exit!.code} in ${tookMs} ms; ${uncovered} uncovered, ${lost} lost`,
  });
  figures.scenario = 'shutdown-sales';
  printFigures(figures);
  saveFigures(figures);
  assertSound(figures);
  assert.equal(figures.duplicates, 0, 'a clean stop leaves nothing to redeliver');
  done.passed = true;
});

test('a second signal during the graceful stop exits at once', async (t) => {
  const { s, sales, load, done } = await underLoad(t, 'shutdown-second-signal');
  t.after(() => load.stop());
  await sleep(5000);
  // Hold the inbox so that Sales' batch in hand cannot commit: the graceful stop waits for it (as
  // it would for a stuck database), and the second signal surely arrives while it does. Without
  // this the stop may finish before the second signal (it took under 50 ms).
  const blocker = await s.salesDb.pool.connect();
  let exit: Exit | undefined;
  let secondAt: number;
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE');
    await sleep(500);
    await sales.signal('SIGTERM', false);
    await sleep(300);
    assert.ok(sales.running, 'the graceful stop is still waiting for the batch');
    secondAt = Date.now();
    exit = await sales.signal('SIGTERM');
  } finally {
    // Before the scenario's cleanup, which ends this pool (and waits for its clients).
    await blocker.query('ROLLBACK').catch(() => {});
    blocker.release();
  }
  const tookMs = exit!.at - secondAt;
  say(`shutdown-second-signal: exit code ${exit!.code} ${tookMs} ms after the second SIGTERM`);
  assert.equal(
    exit!.code,
    1,
    'the second signal takes the immediate exit (code 1), not the graceful one',
  );
  assert.ok(tookMs < 1000, 'exits within a second of the second signal');
  assert.match(sales.logTail(50), /second signal/);
  done.passed = true;
});
