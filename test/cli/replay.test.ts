/**
 * Replay against the real broker: the whole system runs, Sales applies some low-stock events,
 * then a shadow Sales re-consumes the topic and is compared with live Sales; --apply moves the
 * live group, refusing while Sales runs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { runCli } from '../../src/cli/main.ts';
import { runReplay } from '../../src/cli/replay.ts';
import type { ReplayOptions } from '../../src/cli/replay.ts';
import { createGroupLagReader } from '../../src/messaging/kafka/group-lag.ts';
import { topicOffsets } from '../../src/messaging/index.ts';
import { loadServiceConfig } from '../../src/platform/index.ts';
import { salesSettings } from '../../src/sales/index.ts';
import { laptopBody } from '../inventory/fixtures.ts';
import { uniqueName, waitUntil } from '../support/kafka.ts';
import { productWithChanges, startSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';
import { captureOutput as capture } from './run.ts';

let system: TestSystem;
let env: Record<string, string>;
const cleanups: Array<() => unknown> = [];
const tenant = uniqueName('tenant');
const other = uniqueName('tenant');

before(async () => {
  system = await startSystem({ after: (fn) => cleanups.push(fn) });
  env = {
    KAFKA_BOOTSTRAP_SERVERS: system.config.kafka.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: system.config.kafka.inventoryTopic,
    KAFKA_SALES_TOPIC: system.config.kafka.salesTopic,
    KAFKA_CONSUMER_GROUP: system.consumerGroup,
  };
  // Two products of one tenant go low (one of them twice: opened, then updated), one product
  // of another tenant goes low once.
  for (const [who, sku, changes] of [
    [tenant, 'A-1', [-92, -7]],
    [tenant, 'A-2', [-95]],
    [other, 'B-1', [-91]],
  ] as const) {
    await productWithChanges(system, who, { ...laptopBody, sku }, changes);
  }
  await waitUntil('live Sales applied the four low-stock events', async () => {
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM alert_history`.execute(
      system.salesDb.db,
    );
    return rows.rows[0]?.n === 4;
  });
  // And published what it raised: the test compares the sales topic's end with the replay's count.
  await waitUntil('live Sales published its outbox', async () => {
    const rows = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`.execute(system.salesDb.db);
    return rows.rows[0]?.n === 0;
  });
});
after(async () => {
  for (const fn of cleanups) await fn();
});

function replayOptions(overrides: Partial<ReplayOptions> = {}): ReplayOptions {
  const { config, settings } = loadServiceConfig(salesSettings, env);
  return {
    conn: system.conn,
    config,
    settings,
    topic: config.kafka.inventoryTopic,
    from: new Date(0),
    live: system.salesDb,
    ...overrides,
  };
}

async function committed(): Promise<Array<bigint | undefined>> {
  const reader = createGroupLagReader(system.conn);
  try {
    const lag = await reader.read(system.consumerGroup, [system.config.kafka.inventoryTopic]);
    return lag.map((p) => p.committed);
  } finally {
    await reader.close();
  }
}

test('a dry run from the start agrees with live Sales, moves no live offset and sends nothing', async () => {
  const offsetsBefore = await committed();
  const salesTopicBefore = await topicOffsets(
    system.conn,
    system.config.kafka.salesTopic,
    'latest',
  );
  const output = capture();
  const result = await runReplay(replayOptions(), output);
  // 3 created + 4 adjusted + 4 low stock.
  assert.equal(result.read, 11);
  assert.equal(result.deadLetters, 0);
  const c = result.comparison;
  assert.equal(c.events, 4);
  // The second low-stock event of A-1 keeps its priority: the alert is updated, not escalated.
  assert.deepEqual(c.shadowChanges, { opened: 3, updated: 1 });
  assert.deepEqual(c.liveChanges, c.shadowChanges);
  assert.equal(c.shadowNotifications, c.liveNotifications);
  assert.ok(c.shadowNotifications > 0);
  assert.equal(c.differing, 0, output.lines.out.join('\n'));
  assert.ok(c.forecastsCompared >= 3);
  assert.equal(c.forecastsDiffering, 0, output.lines.out.join('\n'));
  // As many sales events as live Sales published for the same events.
  const livePublished = [...salesTopicBefore.values()].reduce((n, o) => n + Number(o), 0);
  assert.ok(livePublished > 0);
  assert.equal(result.published, livePublished);
  assert.ok(
    output.lines.out.includes(
      'low-stock events: 4 applied by the replay, 0 differ from live (0 not applied live)',
    ),
  );
  assert.match(output.lines.err[0]!, /^replay .*\(11 records\)$/);
  // Nothing live moved: the group's offsets and the sales topic are as they were.
  assert.deepEqual(await committed(), offsetsBefore);
  assert.deepEqual(
    await topicOffsets(system.conn, system.config.kafka.salesTopic, 'latest'),
    salesTopicBefore,
  );
});

test('what live Sales did differently is printed per event; filters and positions narrow the run', async () => {
  // Live Sales "missed" one event and recorded another at a different priority.
  const history = await sql<{ event_id: string; id: number }>`
    SELECT h.event_id, h.id FROM alert_history h JOIN alerts a ON a.id = h.alert_id
    WHERE a.tenant_id = ${tenant} ORDER BY h.id`.execute(system.salesDb.db);
  const [first, second] = history.rows as [
    { event_id: string; id: number },
    { event_id: string; id: number },
  ];
  await sql`DELETE FROM alert_history WHERE id = ${first.id}`.execute(system.salesDb.db);
  await sql`UPDATE alert_history SET priority = 'low' WHERE id = ${second.id}`.execute(
    system.salesDb.db,
  );
  {
    const output = capture();
    const result = await runReplay(replayOptions({ tenant }), output);
    assert.equal(result.comparison.events, 3);
    assert.equal(result.comparison.differing, 2);
    assert.equal(result.comparison.missingLive, 1);
    assert.ok(result.filtered >= 3, "the other tenant's records were left out");
    assert.ok(
      output.lines.out.some(
        (l) =>
          l.startsWith(`event ${first.event_id} ${tenant}/`) &&
          l.includes('live has no trace of it → replay opened'),
      ),
      output.lines.out.join('\n'),
    );
    assert.ok(
      output.lines.out.some(
        (l) =>
          l.startsWith(`event ${second.event_id}`) &&
          /live \w+ low .* → replay \w+ (high|critical)/.test(l),
      ),
      output.lines.out.join('\n'),
    );

    const lowOnly = await runReplay(
      replayOptions({ eventType: 'inventory.low_stock', tenant: other }),
      capture(),
    );
    assert.equal(lowOnly.read - lowOnly.filtered, 1);
    assert.equal(lowOnly.comparison.events, 1);
    assert.equal(lowOnly.comparison.differing, 0);

    // partition:offset positions: from every partition's start up to the end is the whole run.
    const ends = await topicOffsets(system.conn, system.config.kafka.inventoryTopic, 'latest');
    const starts = new Map([...ends.keys()].map((p) => [p, 0n]));
    const byPosition = await runReplay(replayOptions({ from: starts, to: ends }), capture());
    assert.equal(byPosition.read, 11);
    // A --from after every record replays nothing.
    const none = await runReplay(replayOptions({ from: new Date(Date.now() + 60_000) }), capture());
    assert.equal(none.read, 0);
  }
});

test('a replay from a time in the middle starts from the alerts open then, at their priority then', async () => {
  const third = uniqueName('tenant');
  const headers = await system.headers(third);
  const created = await system.inventory.http.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers,
    payload: { ...laptopBody, sku: 'C-1' },
  });
  assert.equal(created.statusCode, 201, created.body);
  const adjust = async (change: number) => {
    const adjusted = await system.inventory.http.inject({
      method: 'POST',
      url: `/api/v1/products/${created.json().id}/stock-adjustments`,
      headers,
      payload: { quantity_change: change, reason: 'sale' },
    });
    assert.equal(adjusted.statusCode, 201, adjusted.body);
  };
  const changes = async () =>
    (
      await sql<{ change: string }>`
        SELECT h.change FROM alert_history h JOIN alerts a ON a.id = h.alert_id
        WHERE a.tenant_id = ${third} ORDER BY h.id`.execute(system.salesDb.db)
    ).rows.map((r) => r.change);
  await adjust(-92);
  await waitUntil('live Sales opened the alert', async () => (await changes()).length === 1);
  // Later than the alert's opening by Sales' clock and earlier than the next record.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const from = new Date();
  await adjust(-7);
  await waitUntil('live Sales changed the alert again', async () => (await changes()).length === 2);
  const live = await changes();
  const output = capture();
  const result = await runReplay(replayOptions({ from, tenant: third }), output);
  assert.equal(result.seeded.alerts, 1, 'the alert open at --from');
  assert.equal(result.comparison.events, 1);
  assert.deepEqual(result.comparison.shadowChanges, { [live[1]!]: 1 });
  assert.equal(result.comparison.differing, 0, output.lines.out.join('\n'));
  assert.match(output.lines.err.join('\n'), /1 open alerts/);

  // From a time before the alert opened, it is not seeded: the replay opens it as live did.
  const whole = await runReplay(replayOptions({ from: new Date(0), tenant: third }), capture());
  assert.equal(whole.seeded.alerts, 0);
  assert.deepEqual(whole.comparison.shadowChanges, { opened: 1, [live[1]!]: 1 });
  assert.equal(whole.comparison.differing, 0);
});

test('replay usage errors exit 2', async () => {
  for (const [args, message] of [
    [['replay'], /replay needs --from/],
    [['replay', '--from', 'yesterday'], /--from must be an ISO-8601 time/],
    [['replay', '--from', '0:1,0:2'], /partition:offset pairs/],
    [['replay', '--from', '0:0', '--apply', '--tenant', 't'], /--tenant does not apply to --apply/],
    [['replay', '--from', '0:0', 'extra'], /extra/],
  ] as const) {
    const output = capture();
    assert.equal(await runCli([...args], output, env), 2, args.join(' '));
    assert.match(output.lines.err[0]!, /^error ERP_CLI_USAGE: /);
    assert.match(output.lines.err[0]!, message);
  }
});

test('--apply refuses while live Sales is in the group, then moves the group to the start', async () => {
  const refused = capture();
  assert.equal(
    await runCli(['replay', '--from', '1970-01-01T00:00:00Z', '--apply'], refused, env),
    1,
  );
  assert.match(
    refused.lines.err.at(-1)!,
    /^error ERP_KAFKA_GROUP_NOT_EMPTY: consumer group .* live member/,
  );
  assert.notDeepEqual(await committed(), [0n, 0n, 0n]);

  await system.sales.stop();
  // The broker drops a member that left at once; wait for the group to be empty.
  const done = capture();
  await waitUntil('the group is empty and the reset went through', async () => {
    done.lines.out.length = 0;
    return (await runCli(['replay', '--from', '1970-01-01T00:00:00Z', '--apply'], done, env)) === 0;
  });
  assert.match(
    done.lines.out[0]!,
    /^group .* moved to 0:0, 1:0, 2:0; Sales re-consumes from there/,
  );
  assert.deepEqual(await committed(), [0n, 0n, 0n]);
});
