/**
 * Scenario 3: kill -9 Inventory between commit and publish, restart it. To be sure that events
 * are committed but unpublished at the kill, the three brokers are frozen (SIGSTOP) for 1.5 s
 * first: Inventory keeps committing adjustments while its relay waits for Kafka. The restarted
 * relay publishes them; what Kafka had already taken is published twice and deduplicated by Sales.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_IDS, pauseNode, resumeNode } from '../../scripts/cluster.ts';
import { runScenario } from './scenario.ts';

test('3. kill -9 Inventory between commit and publish, restart it', async (t) => {
  let unpublishedAtKill = -1;
  await runScenario(t, {
    name: '3-inventory-kill',
    loadSeconds: 30,
    async fault({ scenario, inventory, at, log }) {
      await at(10);
      for (const id of NODE_IDS) await pauseNode(id);
      try {
        await sleep(1500);
        await inventory.kill();
      } finally {
        for (const id of NODE_IDS) resumeNode(id);
      }
      const r = await scenario.inventoryDb.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM events WHERE published_at IS NULL',
      );
      unpublishedAtKill = r.rows[0]!.n;
      log(`killed inventory with ${unpublishedAtKill} committed events unpublished`);
      await at(15);
      const restartedAt = Date.now();
      await inventory.start();
      log('inventory restarted and ready');
      return {
        healedAt: restartedAt,
        notes: `${unpublishedAtKill} events unpublished at the kill; inventory down 5 s`,
      };
    },
  });
  assert.ok(unpublishedAtKill > 0, 'the kill happened between commit and publish');
});
