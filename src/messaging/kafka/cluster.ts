/**
 * The cluster as an operator sees it (the console's Topics page), read with the admin API on a
 * connection of the caller's own: every topic with its partitions (leader, replicas, in-sync replicas, log start and high
 * watermark) and every consumer group with its state and members (client, host, assignment).
 * Reading never joins a group, so it cannot cause a rebalance.
 */
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import type { Group } from '@platformatic/kafka';
import { toKafkaError } from './errors.ts';
import { toLibraryConnectionOptions } from './options.ts';
import type { KafkaConnectionOptions } from './options.ts';

export interface TopicView {
  name: string;
  partitions: {
    partition: number;
    leader: number;
    replicas: number[];
    isr: number[];
    start: string;
    end: string;
  }[];
}

export interface GroupView {
  id: string;
  state: string;
  members: { id: string; clientId: string; host: string; assignment: string[] }[];
}

export interface ClusterView {
  brokers: { id: number; host: string; port: number }[];
  topics: TopicView[];
  groups: GroupView[];
}

export interface ClusterReader {
  /** Rejects with an `ERP_KAFKA_*` AppError. */
  read(): Promise<ClusterView>;
  close(): Promise<void>;
}

/** Opens an admin client (it connects on first use); the caller owns it until `close()`. */
export function createClusterReader(conn: KafkaConnectionOptions): ClusterReader {
  const admin = new Admin({ ...toLibraryConnectionOptions(conn), retries: 0 });
  return {
    async read() {
      try {
        return await readCluster(admin);
      } catch (err) {
        throw toKafkaError(err);
      }
    },
    close: () => admin.close(),
  };
}

async function readCluster(admin: Admin): Promise<ClusterView> {
  // Kafka's own topics (__consumer_offsets) are not the operator's business here.
  const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
  const metadata = await admin.metadata({ topics: names, forceUpdate: true });
  const known = names.filter((n) => (metadata.topics.get(n)?.partitionsCount ?? 0) > 0);
  const offsetsAt = async (timestamp: bigint) => {
    if (known.length === 0) return new Map<string, bigint>();
    const result = await admin.listOffsets({
      topics: known.map((name) => ({
        name,
        partitions: Array.from({ length: metadata.topics.get(name)!.partitionsCount }, (_, i) => ({
          partitionIndex: i,
          timestamp,
        })),
      })),
    });
    const map = new Map<string, bigint>();
    for (const t of result)
      for (const p of t.partitions) map.set(`${t.name}/${p.partitionIndex}`, p.offset);
    return map;
  };
  const [ends, starts] = await Promise.all([
    offsetsAt(ListOffsetTimestamps.LATEST),
    offsetsAt(ListOffsetTimestamps.EARLIEST),
  ]);
  const topics: TopicView[] = known.map((name) => ({
    name,
    partitions: metadata.topics.get(name)!.partitions.map((p, partition) => ({
      partition,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      start: String(starts.get(`${name}/${partition}`) ?? 0n),
      end: String(ends.get(`${name}/${partition}`) ?? 0n),
    })),
  }));
  const listed = [...(await admin.listGroups()).keys()].sort();
  const described: Map<string, Group> =
    listed.length === 0 ? new Map<string, Group>() : await admin.describeGroups({ groups: listed });
  const groups: GroupView[] = listed.map((id) => {
    const g = described.get(id);
    return {
      id,
      state: String(g?.state ?? 'unknown'),
      members: [...(g?.members.values() ?? [])].map((m) => ({
        id: m.id,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: [...(m.assignments?.values() ?? [])].map(
          (a) => `${a.topic}: ${a.partitions.join(',')}`,
        ),
      })),
    };
  });
  const brokers = [...metadata.brokers].map(([id, b]) => ({ id, host: b.host, port: b.port }));
  return { brokers, topics, groups };
}
