/**
 * Reading a whole topic once, for tools (the DLQ commands): from the first offset of every
 * partition up to the end it had when the read began, then stop. Nothing is committed, and the
 * group is a throwaway one, so no consumer group's position moves.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, MessagesStreamModes, type Message } from '@platformatic/kafka';
import { toIncoming, type IncomingRecord } from './records.ts';
import { kafkaConfigError, toKafkaError } from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

export interface ReadTopicOptions {
  /**
   * Called for every record, in offset order within a partition (partitions interleave). Return
   * 'stop' to end the read early. Required.
   */
  onRecord: (record: IncomingRecord) => void | 'stop';
  /** Called after each fetch with the records read so far and the number to read. Default: none. */
  onProgress?: (read: number, total: number) => void;
  /** Longest the broker holds a fetch open with nothing new. Default: 200. */
  maxWaitMs?: number;
}

export interface PartitionRange {
  partition: number;
  /** First offset still in the log when the read began. */
  start: bigint;
  /** Offset after the last record when the read began (the high watermark). */
  end: bigint;
}

export interface TopicReadSummary {
  partitions: PartitionRange[];
  /** Records handed to `onRecord`. */
  records: number;
}

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * Reads `topic` from the beginning until the end offsets taken at the start (records appended
 * meanwhile are left out), then closes. Rejects with an `ERP_KAFKA_*` AppError (an unknown topic
 * is `ERP_KAFKA_UNKNOWN_TOPIC`), or with what `onRecord` throws.
 */
export async function readTopic(
  conn: KafkaConnectionOptions,
  topic: string,
  options: ReadTopicOptions,
): Promise<TopicReadSummary> {
  const maxWaitTime = options.maxWaitMs ?? 200;
  if (!Number.isInteger(maxWaitTime) || maxWaitTime <= 0) {
    throw kafkaConfigError('maxWaitMs', 'must be a positive integer');
  }
  let consumer: Consumer;
  try {
    consumer = new Consumer({
      ...toLibraryConnectionOptions(conn),
      // The library reads only as a group member; a fresh group id keeps every real group's
      // offsets out of it, and nothing is ever committed for this one.
      groupId: `erp-events-reader-${randomUUID()}`,
      autocommit: false,
      maxWaitTime,
    });
  } catch (err) {
    throw toKafkaError(err);
  }
  try {
    const [starts, ends] = await Promise.all([
      consumer.listOffsets({ topics: [topic], timestamp: -2n }),
      consumer.listOffsets({ topics: [topic], timestamp: -1n }),
    ]);
    const partitions: PartitionRange[] = (ends.get(topic) ?? []).map((end, partition) => ({
      partition,
      start: starts.get(topic)?.[partition] ?? 0n,
      end,
    }));
    const total = partitions.reduce((n, p) => n + Number(p.end - p.start), 0);
    const records = await readRanges(consumer, topic, partitions, total, options);
    return { partitions, records };
  } catch (err) {
    throw toKafkaError(err);
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}

async function readRanges(
  consumer: Consumer,
  topic: string,
  partitions: PartitionRange[],
  total: number,
  options: ReadTopicOptions,
): Promise<number> {
  const pending = new Map(partitions.filter((p) => p.start < p.end).map((p) => [p.partition, p]));
  if (pending.size === 0) return 0;
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  });
  let read = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const finishIfDone = () => {
        if (pending.size === 0) resolve();
      };
      stream.on('data', (message: RawMessage) => {
        const range = pending.get(message.partition);
        if (range === undefined || message.offset >= range.end) return;
        let verdict: void | 'stop';
        try {
          read++;
          verdict = options.onRecord(toIncoming(message));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (verdict === 'stop') {
          pending.clear();
        } else if (message.offset + 1n >= range.end) {
          pending.delete(message.partition);
        }
        finishIfDone();
      });
      // The last offsets of a partition may be transaction markers, which are never handed out
      // as records: the stream's own fetch position tells when the end was passed.
      stream.on('fetch', () => {
        for (const [partition, range] of pending) {
          const position = stream.offsetsToFetch.get(`${topic}:${partition}`);
          if (position !== undefined && position >= range.end) pending.delete(partition);
        }
        options.onProgress?.(read, total);
        finishIfDone();
      });
      stream.on('error', reject);
      stream.on('close', () => {
        if (pending.size > 0) reject(new Error(`stream of ${topic} closed before its end`));
      });
    });
  } finally {
    await stream.close().catch(() => undefined);
  }
  return read;
}
