/**
 * Positions in a topic and a consumer group's committed offsets, through the admin API: where a
 * replay starts (ListOffsets by timestamp) and moving a stopped group there (OffsetCommit on its
 * behalf). Reading never joins a group, so it cannot cause a rebalance.
 */
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { AppError } from '../../platform/index.ts';
import { KafkaErrorCodes, toKafkaError } from './errors.ts';
import { partitionCounts } from './group-lag.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

/** Offset per partition. */
export type PartitionOffsets = Map<number, bigint>;

/** Where: the log start, the end (high watermark), or the first record at or after a time. */
export type OffsetSpec = 'earliest' | 'latest' | Date;

async function withAdmin<T>(
  conn: KafkaConnectionOptions,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  let admin: Admin;
  try {
    admin = new Admin(toLibraryConnectionOptions(conn));
  } catch (err) {
    throw toKafkaError(err);
  }
  try {
    return await fn(admin);
  } catch (err) {
    throw toKafkaError(err);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function offsetsWith(
  admin: Admin,
  topic: string,
  spec: OffsetSpec,
): Promise<PartitionOffsets> {
  const count = (await partitionCounts(admin, [topic])).get(topic);
  if (count === undefined) {
    throw new AppError(KafkaErrorCodes.UNKNOWN_TOPIC, `topic ${topic} does not exist`, {
      retryable: false,
      context: { topic },
    });
  }
  const at = (timestamp: bigint) =>
    admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: count }, (_, partitionIndex) => ({
            partitionIndex,
            timestamp,
          })),
        },
      ],
    });
  const result: PartitionOffsets = new Map();
  const ends = await at(ListOffsetTimestamps.LATEST);
  for (const p of ends[0]?.partitions ?? []) result.set(p.partitionIndex, p.offset);
  if (spec === 'latest') return result;
  const found = await at(
    spec === 'earliest' ? ListOffsetTimestamps.EARLIEST : BigInt(spec.getTime()),
  );
  for (const p of found[0]?.partitions ?? []) {
    // -1: no record at or after the time; the position is then the end.
    if (p.offset >= 0n) result.set(p.partitionIndex, p.offset);
  }
  return result;
}

/**
 * The offset of every partition of `topic` at `spec`: for a time, of the first record whose
 * timestamp is at or after it (ListOffsets by timestamp), or the end when there is none. Rejects
 * with ERP_KAFKA_UNKNOWN_TOPIC for a topic the cluster does not know.
 */
export function topicOffsets(
  conn: KafkaConnectionOptions,
  topic: string,
  spec: OffsetSpec,
): Promise<PartitionOffsets> {
  return withAdmin(conn, (admin) => offsetsWith(admin, topic, spec));
}

/** Ids of the group's members (empty when it has none, or does not exist). */
export function groupMembers(conn: KafkaConnectionOptions, groupId: string): Promise<string[]> {
  return withAdmin(conn, async (admin) => {
    const groups = await admin.describeGroups({ groups: [groupId] });
    return [...(groups.get(groupId)?.members.keys() ?? [])];
  });
}

/**
 * Commits `offsets` for `groupId` on `topic`, so that its members resume there. Kafka accepts
 * this only from outside a group with no members; a group with members is refused up front with
 * ERP_KAFKA_GROUP_NOT_EMPTY (naming them), and one that gained a member meanwhile is refused by
 * the broker (ERP_KAFKA_BROKER).
 */
export function resetGroupOffsets(
  conn: KafkaConnectionOptions,
  groupId: string,
  topic: string,
  offsets: PartitionOffsets,
): Promise<void> {
  return withAdmin(conn, async (admin) => {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    const members = [...(group?.members.values() ?? [])];
    if (members.length > 0) {
      throw new AppError(
        KafkaErrorCodes.GROUP_NOT_EMPTY,
        `consumer group ${groupId} has ${members.length} live member(s) (${members
          .map((m) => `${m.clientId}@${m.clientHost}`)
          .join(', ')}): stop them before moving its offsets`,
        { retryable: false, context: { groupId, members: members.length } },
      );
    }
    await admin.alterConsumerGroupOffsets({
      groupId,
      topics: [
        {
          name: topic,
          partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })),
        },
      ],
    });
  });
}
