/**
 * Scenario 2: kill -9 the Sales process mid-batch, restart it. To land the kill while batches are
 * being applied but their offsets cannot be committed, the group coordinator is frozen (SIGSTOP)
 * for 1.5 s first. Whatever was applied without its offset committed comes back to the restarted
 * Sales and the inbox makes it a no-op (counted as duplicates).
 */
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pauseNode, resumeNode } from '../../scripts/cluster.ts';
import { coordinatorOf } from './probes.ts';
import { runScenario } from './scenario.ts';

test('2. kill -9 the Sales process mid-batch, restart it', async (t) => {
  await runScenario(t, {
    name: '2-sales-kill',
    loadSeconds: 30,
    async fault({ scenario, sales, at, log }) {
      const victim = sales[0]!;
      await at(10);
      const coordinator = await coordinatorOf(scenario.bootstrap, scenario.group);
      await pauseNode(coordinator);
      try {
        await sleep(1500);
        await victim.kill();
      } finally {
        resumeNode(coordinator);
      }
      log(
        `killed sales (pid ${victim.pid}) while its coordinator (broker ${coordinator}) was frozen`,
      );
      await at(15);
      const restartedAt = Date.now();
      await victim.start();
      log('sales restarted and ready');
      return { healedAt: restartedAt, notes: 'sales down 5 s' };
    },
  });
});
