import type { Message } from '@platformatic/kafka';

export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** UTF-8 decoded; when a header name repeats, the last value wins. */
  headers: Record<string, string>;
  /** Record timestamp, ms since the epoch. */
  timestamp: number;
}

/** Consecutive records of one partition, oldest first. */
export interface IncomingBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
}

/** Uncommitted records of one partition assigned to this member. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: bigint;
}

/** The library's message as it arrives without deserializers. */
export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** The library's message as our record (used by the consumer and by reader.ts). */
export function toIncoming(message: RawMessage): IncomingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of message.headerEntries) {
    // Null header values and keys arrive as undefined without deserializers.
    if (name === undefined || name === null) continue;
    headers[name.toString('utf8')] = value?.toString('utf8') ?? '';
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    timestamp: Number(message.timestamp),
  };
}

/** Messages of one partition, oldest first, as our batch. */
export function toIncomingBatch(
  topic: string,
  partition: number,
  messages: readonly RawMessage[],
): IncomingBatch {
  return { topic, partition, records: messages.map(toIncoming) };
}

/**
 * Commits the group's position past `message`. The library commits `offset + 1` of this record
 * with its leader epoch (KIP-320), and funnels commits through one in-flight request so a lower
 * offset never overwrites a higher.
 */
export function commitThrough(message: RawMessage): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // With a callback the library returns nothing; the promise form would be unused.
    void message.commit((error) => (error ? reject(error) : resolve()));
  });
}

/** The library's lag per topic (indexed by partition) as ours, for assigned partitions only. */
export function toPartitionLags(lag: Map<string, bigint[]>): PartitionLag[] {
  const result: PartitionLag[] = [];
  for (const [topic, partitions] of lag) {
    // -1n marks partitions not assigned to this member.
    partitions.forEach((value, partition) => {
      if (value >= 0n) result.push({ topic, partition, lag: value });
    });
  }
  return result;
}
