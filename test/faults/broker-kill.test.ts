/**
 * Scenario 1: kill -9 the broker that leads partition 0 of the inventory topic mid-stream, restart
 * it later. Producers and the consumer fail over to the new leaders; nothing is lost or doubled.
 */
import { test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { isNodeId, killNode, restartNode } from '../../scripts/cluster.ts';
import type { NodeId } from '../../scripts/cluster.ts';
import { runScenario } from './scenario.ts';

async function leaderOf(bootstrap: string[], topic: string): Promise<NodeId> {
  const admin = new Admin({ clientId: 'faults-probe', bootstrapBrokers: bootstrap });
  try {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const leader = md.topics.get(topic)?.partitions[0]?.leader;
    return isNodeId(leader) ? leader : 1;
  } finally {
    await admin.close();
  }
}

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
