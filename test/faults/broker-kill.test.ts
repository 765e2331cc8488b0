/**
 * Scenario 1: kill -9 the broker that leads partition 0 of the inventory topic mid-stream, restart
 * it later. Producers and the consumer fail over to the new leaders; nothing is lost or doubled.
 */
import { test } from 'node:test';
import { killNode, restartNode } from '../../scripts/cluster.ts';
import { leaderOf } from './probes.ts';
import { runScenario } from './scenario.ts';

test('1. kill -9 one broker mid-stream, restart it later', async (t) => {
  await runScenario(t, {
    name: '1-broker-kill',
    loadSeconds: 30,
    async fault({ scenario, at, log }) {
      await at(10);
      const node = await leaderOf(scenario.bootstrap, scenario.inventoryTopic);
      const killedAt = Date.now();
      await killNode(node);
      log(`killed broker ${node} (leader of ${scenario.inventoryTopic}-0)`);
      await at(20);
      await restartNode(node);
      log(`broker ${node} restarted and back in every ISR`);
      return { healedAt: killedAt, notes: `broker ${node} down ~10 s` };
    },
  });
});
