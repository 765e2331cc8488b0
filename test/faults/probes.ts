/**
 * Where a fault should land: which broker leads a partition, which one coordinates a group. Read
 * with a throwaway admin client, so that probing never joins a group.
 */
import { Admin, FindCoordinatorKeyTypes } from '@platformatic/kafka';
import { isNodeId } from '../../scripts/cluster.ts';
import type { NodeId } from '../../scripts/cluster.ts';

/** The leader of `topic`'s partition 0; node 1 when the metadata names none (an election). */
export async function leaderOf(bootstrap: string[], topic: string): Promise<NodeId> {
  const admin = new Admin({ clientId: 'faults-probe', bootstrapBrokers: bootstrap });
  try {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const leader = md.topics.get(topic)?.partitions[0]?.leader;
    return isNodeId(leader) ? leader : 1;
  } finally {
    await admin.close();
  }
}

/** The broker coordinating consumer group `group` (where its offsets are committed). */
export async function coordinatorOf(bootstrap: string[], group: string): Promise<NodeId> {
  const admin = new Admin({ clientId: 'faults-probe', bootstrapBrokers: bootstrap });
  try {
    const [found] = await admin.findCoordinator({
      keyType: FindCoordinatorKeyTypes.GROUP,
      keys: [group],
    });
    if (!isNodeId(found?.nodeId)) throw new Error(`no coordinator for ${group}`);
    return found.nodeId;
  } finally {
    await admin.close();
  }
}
