/**
 * A consumer group's lag as the cluster sees it, not as one member does: for every partition of
 * the topics, the high watermark minus the group's committed offset. Read with the admin API
 * (OffsetFetch for the group, ListOffsets for the partitions), so it is right for partitions no
 * running member owns (a member that stopped, a rebalance in progress, another instance's
 * partitions), and reading it never joins the group, so it cannot cause a rebalance.
 */
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { KafkaErrorCodes, toKafkaError } from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

export interface GroupPartitionLag {
  topic: string;
  partition: number;
  /** Records of the partition the group has still to read. */
  lag: bigint;
  /** The group's committed offset; undefined when it committed none for this partition. */
  committed: bigint | undefined;
  /** Log start offset: the oldest record still retained. */
  start: bigint;
  /** High watermark: the offset the next record written gets. */
  end: bigint;
}

export interface GroupLagReader {
  /**
   * The lag of `groupId` on every partition of `topics`; a topic the cluster does not know (not
   * created yet, or deleted) is left out. Rejects with an `ERP_KAFKA_*` AppError.
   */
  read(groupId: string, topics: readonly string[]): Promise<GroupPartitionLag[]>;
  /** Closes the admin connection; `read` fails afterwards. */
  close(): Promise<void>;
}

/** Opens an admin client (it connects on first use); the caller owns it until `close()`. */
export function createGroupLagReader(conn: KafkaConnectionOptions): GroupLagReader {
  let admin: Admin;
  try {
    // No retries inside a read: the caller reads again at its next interval, and a read that
    // waits out the library's retries against a dead broker would only report later.
    admin = new Admin({ ...toLibraryConnectionOptions(conn), retries: 0 });
  } catch (err) {
    throw toKafkaError(err);
  }
  return {
    async read(groupId, topics) {
      try {
        return await readGroupLag(admin, groupId, topics);
      } catch (err) {
        throw toKafkaError(err);
      }
    },
    close: () => admin.close(),
  };
}

async function readGroupLag(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<GroupPartitionLag[]> {
  const counts = await partitionCounts(admin, topics);
  if (counts.size === 0) return [];
  const all = [...counts].map(([name, count]) => ({
    name,
    partitions: Array.from({ length: count }, (_, i) => i),
  }));
  const offsetsAt = (timestamp: bigint) =>
    admin.listOffsets({
      topics: all.map(({ name, partitions }) => ({
        name,
        partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })),
      })),
    });
  const [groups, ends, starts] = await Promise.all([
    admin.listConsumerGroupOffsets({
      groups: [
        {
          groupId,
          topics: all.map(({ name, partitions }) => ({ name, partitionIndexes: partitions })),
        },
      ],
    }),
    offsetsAt(ListOffsetTimestamps.LATEST),
    offsetsAt(ListOffsetTimestamps.EARLIEST),
  ]);
  const committed = new Map<string, bigint>();
  for (const group of groups) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        // -1 is Kafka's "no offset committed for this partition".
        if (p.committedOffset >= 0n)
          committed.set(key(topic.name, p.partitionIndex), p.committedOffset);
      }
    }
  }
  const startOf = new Map<string, bigint>();
  for (const topic of starts) {
    for (const p of topic.partitions) startOf.set(key(topic.name, p.partitionIndex), p.offset);
  }
  const result: GroupPartitionLag[] = [];
  for (const topic of ends) {
    for (const p of topic.partitions) {
      const k = key(topic.name, p.partitionIndex);
      const start = startOf.get(k) ?? 0n;
      const done = committed.get(k);
      // Without a committed offset the whole retained partition is lag: a new group reading from
      // the earliest offset has all of it to read (with KAFKA_AUTO_OFFSET_RESET=latest it would
      // skip it, but it is still what the group has not processed). A committed offset below the
      // log start (retention deleted records the group never read) counts from the log start:
      // those records are gone, and the consumer resumes from what is left.
      const from = done === undefined || done < start ? start : done;
      // Never negative: a topic deleted and created again keeps the group's old, higher offsets.
      const lag = p.offset > from ? p.offset - from : 0n;
      result.push({
        topic: topic.name,
        partition: p.partitionIndex,
        lag,
        committed: done,
        start,
        end: p.offset,
      });
    }
  }
  return result.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Partitions per topic; topics the cluster does not know are left out. */
export async function partitionCounts(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  // One topic per request: the library fails a whole metadata request for one unknown topic.
  for (const topic of new Set(topics)) {
    try {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const info = metadata.topics.get(topic);
      if (info !== undefined && info.partitionsCount > 0) counts.set(topic, info.partitionsCount);
    } catch (err) {
      if (toKafkaError(err).code !== KafkaErrorCodes.UNKNOWN_TOPIC) throw err;
    }
  }
  return counts;
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
