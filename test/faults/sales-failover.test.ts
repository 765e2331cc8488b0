/**
 * Scenario 4: two Sales processes share the group; kill -9 one. The survivor takes its
 * partitions once the group coordinator expires the dead member, and processes everything.
 */
import { test } from 'node:test';
import { runScenario } from './scenario.ts';

test('4. two Sales instances; kill -9 one; the survivor takes its partitions', async (t) => {
  await runScenario(t, {
    name: '4-sales-failover',
    salesInstances: 2,
    loadSeconds: 30,
    async fault({ sales, at, log }) {
      await at(10);
      const victim = sales[1]!;
      const killedAt = Date.now();
      await victim.kill();
      log(`killed ${victim.name} (pid ${victim.pid}); ${sales[0]!.name} carries on alone`);
      return { healedAt: killedAt, notes: 'no restart' };
    },
  });
});
