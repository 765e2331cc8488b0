/**
 * Scenario 5: the whole cluster down (kill -9 of all three brokers) for a while, then back.
 * Inventory keeps accepting adjustments: the outbox holds their events until Kafka returns.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { killNode, NODE_IDS, startNodes, waitInSync } from '../../scripts/cluster.ts';
import { runScenario } from './scenario.ts';

test('5. Kafka entirely down for a while, then back; the outbox holds everything', async (t) => {
  let ackedDuringOutage = 0;
  await runScenario(t, {
    name: '5-kafka-outage',
    loadSeconds: 45,
    async fault({ load, at, log }) {
      await at(10);
      for (const id of NODE_IDS) await killNode(id);
      const before = load.counts().acked;
      log('killed all three brokers');
      await at(25);
      ackedDuringOutage = load.counts().acked - before;
      log(`${ackedDuringOutage} adjustments acknowledged while Kafka was down; starting it again`);
      await startNodes(NODE_IDS);
      const backAt = Date.now();
      log('cluster serving again');
      await waitInSync();
      return {
        healedAt: backAt,
        notes: `kafka down ~15 s (+ restart); ${ackedDuringOutage} acked meanwhile`,
      };
    },
  });
  assert.ok(ackedDuringOutage > 0, 'Inventory accepted adjustments while Kafka was down');
});
