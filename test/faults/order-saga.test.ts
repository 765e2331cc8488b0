/**
 * Scenario 6: the order saga under faults (issue 12). Orders, cancels and fulfilments stream into
 * Sales while, one after the other, Inventory, Sales and a broker are killed with kill -9 and
 * restarted. Each process kill is landed while its consumer group's coordinator is frozen for
 * 1.5 s (as in scenarios 2 and 3), so that batches were applied whose offsets were not committed
 * and events were committed that were not published: both come back after the restart, and the
 * inboxes and the order-decided-once rule must make them no-ops. The broker is the leader of the
 * sales topic's partition 0, which carries orders' commands. ORDER_SAGA_TIMEOUT_MS is 20 s, so
 * the outages also time orders out and exercise the compensation of a late reservation.
 */
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { killNode, pauseNode, restartNode, resumeNode } from '../../scripts/cluster.ts';
import type { ServiceProcess } from './harness.ts';
import { coordinatorOf, leaderOf } from './probes.ts';
import { runSagaScenario } from './saga-scenario.ts';

/** kill -9 `victim` while the coordinator of `group` is frozen; returns a line for the report. */
async function killMidBatch(
  bootstrap: string[],
  group: string,
  victim: ServiceProcess,
): Promise<string> {
  const coordinator = await coordinatorOf(bootstrap, group);
  await pauseNode(coordinator);
  try {
    await sleep(1500);
    await victim.kill();
  } finally {
    resumeNode(coordinator);
  }
  return `kill -9 ${victim.name} (coordinator broker ${coordinator} frozen 1.5 s)`;
}

test('6. the order saga: kill -9 Inventory, Sales and a broker mid-saga, restart each', async (t) => {
  await runSagaScenario(t, {
    name: '6-order-saga',
    loadSeconds: 60,
    async fault({ scenario, inventory, sales, inventoryGroup, at, log }) {
      const done: string[] = [];
      await at(8);
      done.push(await killMidBatch(scenario.bootstrap, inventoryGroup, inventory));
      const unpublished = await scenario.inventoryDb.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM events WHERE published_at IS NULL',
      );
      log(`${done.at(-1)}; ${unpublished.rows[0]!.n} of its events unpublished`);
      await at(14);
      await inventory.start();
      log('inventory restarted and ready');

      await at(26);
      done.push(await killMidBatch(scenario.bootstrap, scenario.group, sales));
      log(done.at(-1)!);
      await at(32);
      await sales.start();
      log('sales restarted and ready');

      await at(44);
      const node = await leaderOf(scenario.bootstrap, scenario.salesTopic);
      await killNode(node);
      done.push(`kill -9 broker ${node} (leader of the sales topic's partition 0)`);
      log(done.at(-1)!);
      await at(54);
      await restartNode(node);
      log(`broker ${node} restarted and back in every ISR`);
      return done;
    },
  });
});
