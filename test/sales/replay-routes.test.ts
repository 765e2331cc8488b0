/**
 * Replay dry runs hosted by Sales, against the real broker and database: the whole system runs,
 * Sales applies some low-stock events, then POST /api/v1/ops/replays runs the CLI's dry run
 * inside Sales (over its own open database) and GET follows it to the summary the CLI's
 * function reports for the same range. One at a time, bounded, ops scope only, stopped with
 * Sales.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { runReplay } from '../../src/cli/replay.ts';
import { topicOffsets } from '../../src/messaging/index.ts';
import { loadServiceConfig } from '../../src/platform/index.ts';
import { salesSettings } from '../../src/sales/index.ts';
import { captureOutput } from '../cli/run.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { productWithChanges, startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

/** The records the before() hook produces: a dry run of all of them fits, one more does not. */
const RECORDS = 11;
/** The topic's end after them, as partition:offset pairs. */
let firstEnds: string;
/** A product of 100 on hand, reorder level 10 (Inventory's HTTP body: no import of its tests). */
const productBody = {
  name: 'Laptop Computer',
  category: 'electronics',
  unit_price: 1200,
  quantity_on_hand: 100,
  reorder_level: 10,
  reorder_quantity: 50,
  location: 'Warehouse A',
};
let system: TestSystem;
let ops: { authorization: string };
const cleanups: Array<() => unknown> = [];
const tenant = uniqueName('tenant');
const other = uniqueName('tenant');

interface ReplayView {
  id: string;
  state: 'running' | 'done' | 'failed';
  progress: { read: number; total: number };
  summary?: {
    read: number;
    filtered: number;
    dead_letters: number;
    published: number;
    differing: number;
    comparison: Record<string, unknown>;
  };
  differences?: Array<Record<string, unknown>>;
  more_differences?: number;
  lines?: string[];
  error?: { code: string; message: string; retryable: boolean };
}

before(async () => {
  system = await startSystem(
    { after: (fn) => cleanups.push(fn) },
    { SALES_REPLAY_MAX_EVENTS: String(RECORDS) },
  );
  // The platform's operator: an ops token bound to no tenant may replay every tenant.
  ops = await system.headers(undefined, ['ops']);
  // As test/cli/replay.test.ts: 3 products created, 4 adjustments, 4 low-stock events.
  for (const [who, sku, changes] of [
    [tenant, 'A-1', [-92, -7]],
    [tenant, 'A-2', [-95]],
    [other, 'B-1', [-91]],
  ] as const) {
    await product(who, sku, changes);
  }
  await waitUntil('live Sales applied the four low-stock events', async () => {
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM alert_history`.execute(
      system.salesDb.db,
    );
    return rows.rows[0]?.n === 4;
  });
  const ends = await topicOffsets(system.conn, system.config.kafka.inventoryTopic, 'latest');
  firstEnds = [...ends].map(([p, o]) => `${p}:${o}`).join(',');
});
after(async () => {
  for (const fn of cleanups) await fn();
});

async function product(who: string, sku: string, changes: readonly number[]): Promise<void> {
  await productWithChanges(system, who, { ...productBody, sku }, changes);
}

const post = (payload: Record<string, unknown>, headers: Record<string, string> = ops) =>
  system.sales.http.inject({ method: 'POST', url: '/api/v1/ops/replays', headers, payload });
const get = (id: string, headers: Record<string, string> = ops) =>
  system.sales.http.inject({ method: 'GET', url: `/api/v1/ops/replays/${id}`, headers });

/** Polls until the dry run is no longer running; every view seen on the way. */
async function follow(id: string): Promise<ReplayView[]> {
  const seen: ReplayView[] = [];
  await waitUntil(
    `dry run ${id} to finish`,
    async () => {
      const res = await get(id);
      assert.equal(res.statusCode, 200, res.body);
      seen.push(res.json<ReplayView>());
      return seen.at(-1)!.state !== 'running';
    },
    60_000,
  );
  return seen;
}

test('a dry run from the start answers what the CLI reports: nothing differs', async () => {
  const started = await post({ from: '1970-01-01T00:00:00Z' });
  assert.equal(started.statusCode, 202, started.body);
  const view = started.json<ReplayView>();
  assert.equal(view.state, 'running');
  assert.deepEqual(view.progress, { read: 0, total: RECORDS });
  assert.equal(started.headers['location'], `/api/v1/ops/replays/${view.id}`);

  const seen = await follow(view.id);
  const done = seen.at(-1)!;
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  assert.ok(seen.every((v) => v.progress.total === RECORDS));
  assert.equal(done.progress.read, RECORDS);
  assert.equal(done.summary!.read, RECORDS);
  assert.equal(done.summary!.differing, 0, done.lines!.join('\n'));
  assert.deepEqual(done.differences, []);
  assert.equal(done.more_differences, 0);

  // The CLI's function over the same range reports the same numbers and prints the same lines.
  const { config, settings } = loadServiceConfig(salesSettings, {
    KAFKA_BOOTSTRAP_SERVERS: system.config.kafka.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: system.config.kafka.inventoryTopic,
    KAFKA_SALES_TOPIC: system.config.kafka.salesTopic,
    KAFKA_CONSUMER_GROUP: system.consumerGroup,
  });
  const output = captureOutput();
  const cli = await runReplay(
    {
      conn: system.conn,
      config,
      settings,
      topic: config.kafka.inventoryTopic,
      from: new Date(0),
      live: system.salesDb,
    },
    output,
  );
  assert.equal(done.summary!.read, cli.read);
  assert.equal(done.summary!.filtered, cli.filtered);
  assert.equal(done.summary!.dead_letters, cli.deadLetters);
  assert.equal(done.summary!.published, cli.published);
  assert.deepEqual(done.summary!.comparison, cli.comparison);
  assert.deepEqual(done.lines, output.lines.out);
  assert.ok(
    done.lines.includes(
      'low-stock events: 4 applied by the replay, 0 differ from live (0 not applied live)',
    ),
  );
});

test('a difference from live Sales is listed as the CLI prints it; a tenant narrows the run', async () => {
  // Live Sales recorded one event at another priority than the replay computes.
  const history = await sql<{ event_id: string; id: number }>`
    SELECT h.event_id, h.id FROM alert_history h JOIN alerts a ON a.id = h.alert_id
    WHERE a.tenant_id = ${other} ORDER BY h.id`.execute(system.salesDb.db);
  const row = history.rows[0]!;
  const { rows } = await sql<{ priority: string }>`
    SELECT priority FROM alert_history WHERE id = ${row.id}`.execute(system.salesDb.db);
  await sql`UPDATE alert_history SET priority = 'low' WHERE id = ${row.id}`.execute(
    system.salesDb.db,
  );
  try {
    const started = await post({ from: '0:0,1:0,2:0', tenant: other });
    assert.equal(started.statusCode, 202, started.body);
    const done = (await follow(started.json<ReplayView>().id)).at(-1)!;
    assert.equal(done.state, 'done', JSON.stringify(done.error));
    // The other tenant's product: created, adjusted, low.
    assert.equal(done.summary!.read - done.summary!.filtered, 3);
    assert.equal(done.summary!.differing, 1, done.lines!.join('\n'));
    assert.equal(done.differences!.length, 1);
    assert.deepEqual(
      { kind: done.differences![0]!['kind'], eventId: done.differences![0]!['eventId'] },
      { kind: 'event', eventId: row.event_id },
    );
    assert.match(done.lines![0]!, new RegExp(`^event ${row.event_id} ${other}/.*: live \\w+ low`));
  } finally {
    await sql`UPDATE alert_history SET priority = ${rows[0]!.priority} WHERE id = ${row.id}`.execute(
      system.salesDb.db,
    );
  }
});

test('one dry run at a time: a second one while it runs is 409 ERP_SALES_REPLAY_BUSY', async () => {
  const first = await post({ from: '1970-01-01' });
  assert.equal(first.statusCode, 202, first.body);
  const second = await post({ from: '1970-01-01' });
  assert.equal(second.statusCode, 409, second.body);
  const error = second.json<{ error: { code: string; retryable: boolean } }>().error;
  assert.equal(error.code, 'ERP_SALES_REPLAY_BUSY');
  assert.equal(error.retryable, true);
  assert.equal((await follow(first.json<ReplayView>().id)).at(-1)!.state, 'done');
  // Once it is done, the next one starts.
  const third = await post({ from: '1970-01-01' });
  assert.equal(third.statusCode, 202, third.body);
  await follow(third.json<ReplayView>().id);
});

test('bad positions are 400 with the field named; an unknown dry run 404', async () => {
  for (const payload of [
    { from: 'yesterday' },
    { from: '0:1,0:2' },
    { from: '1970-01-01', to: '1' },
    {},
    { from: '1970-01-01', apply: true },
    { from: '1970-01-01', tenant: 'no spaces' },
  ]) {
    const res = await post(payload);
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'ERP_HTTP_INVALID_INPUT');
  }
  const missing = await get('00000000-0000-4000-8000-000000000000');
  assert.equal(missing.statusCode, 404);
  assert.equal(
    missing.json<{ error: { code: string } }>().error.code,
    'ERP_SALES_REPLAY_NOT_FOUND',
  );
});

test('a range over SALES_REPLAY_MAX_EVENTS is refused before anything starts', async () => {
  await product(tenant, 'A-3', [-1]);
  await waitUntil('the two new records are in the topic', async () => {
    const ends = await topicOffsets(system.conn, system.config.kafka.inventoryTopic, 'latest');
    return [...ends.values()].reduce((n, o) => n + Number(o), 0) === RECORDS + 2;
  });
  const res = await post({ from: '1970-01-01' });
  assert.equal(res.statusCode, 422, res.body);
  const error = res.json<{
    error: { code: string; records: number; max: number; retryable: boolean };
  }>().error;
  assert.equal(error.code, 'ERP_SALES_REPLAY_TOO_LARGE');
  assert.equal(error.max, RECORDS);
  assert.equal(error.records, RECORDS + 2);
  assert.equal(error.retryable, false);
  // Nothing is running: a range that fits (the first records, up to `to`) starts at once.
  const fits = await post({ from: '1970-01-01', to: firstEnds });
  assert.equal(fits.statusCode, 202, fits.body);
  const done = (await follow(fits.json<ReplayView>().id)).at(-1)!;
  assert.equal(done.state, 'done');
  assert.equal(done.summary!.read, RECORDS);
});

test('only the ops scope may ask: 401 without a token, 403 without ops', async () => {
  const none = await post({ from: '1970-01-01' }, {});
  assert.equal(none.statusCode, 401);
  const sales = await system.headers(tenant, ['sales:read', 'sales:write']);
  const forbidden = await post({ from: '1970-01-01' }, sales);
  assert.equal(forbidden.statusCode, 403);
  assert.equal(
    forbidden.json<{ error: { code: string } }>().error.code,
    'ERP_AUTH_INSUFFICIENT_SCOPE',
  );
  assert.equal((await get('00000000-0000-4000-8000-000000000000', sales)).statusCode, 403);
});

test("a tenant's ops token replays that tenant only and sees only its own dry runs", async () => {
  const [asTenant, asOther] = [
    await system.headers(tenant, ['ops']),
    await system.headers(other, ['ops']),
  ];
  const refused = await post({ from: '1970-01-01', to: firstEnds, tenant: other }, asTenant);
  assert.equal(refused.statusCode, 403, refused.body);
  assert.equal(
    refused.json<{ error: { code: string } }>().error.code,
    'ERP_SALES_REPLAY_OTHER_TENANT',
  );

  // No tenant named: its own, as if it had named it.
  const own = await post({ from: '1970-01-01', to: firstEnds }, asTenant);
  assert.equal(own.statusCode, 202, own.body);
  const id = own.json<ReplayView>().id;
  const notTheirs = await get(id, asOther);
  assert.equal(notTheirs.statusCode, 404, 'another tenant cannot tell it from a missing one');
  assert.equal(
    notTheirs.json<{ error: { code: string } }>().error.code,
    'ERP_SALES_REPLAY_NOT_FOUND',
  );
  const done = (await follow(id)).at(-1)!;
  assert.equal(done.state, 'done');
  assert.equal((done as { request?: { tenant?: string } }).request?.tenant, tenant);
  // The tenant's two products (A-1: created, 2 adjusted, 2 low; A-2: created, adjusted, low).
  assert.equal(done.summary!.read - done.summary!.filtered, 8, done.lines!.join('\n'));
  const mine = await get(id, asTenant);
  assert.equal(mine.statusCode, 200);

  // A dry run of every tenant is the platform operator's: a tenant does not see it.
  const all = await post({ from: '1970-01-01', to: firstEnds });
  assert.equal(all.statusCode, 202, all.body);
  const allId = all.json<ReplayView>().id;
  await follow(allId);
  assert.equal((await get(allId, asTenant)).statusCode, 404);
});

// Last: it stops Sales.
test('stopping Sales stops a running dry run and waits for it', async () => {
  const started = await post({ from: '1970-01-01', to: firstEnds });
  assert.equal(started.statusCode, 202, started.body);
  const id = started.json<ReplayView>().id;
  // At once: the shadow is still being made (a database, migrations) when the stop comes.
  await system.sales.stop();
  const view = system.sales.exposed.replays.get(id) as ReplayView | undefined;
  assert.equal(view?.state, 'failed', JSON.stringify(view));
  assert.equal(view.error?.code, 'ERP_SALES_REPLAY_FAILED');
  assert.equal(view.error?.retryable, true);
});
