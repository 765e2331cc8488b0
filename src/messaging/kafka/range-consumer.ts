/**
 * An EventConsumer over fixed offset ranges of one topic, for replays: it reads each partition
 * from `start` up to (not including) `end`, hands the records over in batches per partition,
 * waiting for each batch before reading on, and `run()` resolves once every range is done. It is
 * a member of a group of its own (the library reads only as one) and never commits, so no other
 * group's position moves and a second replay starts from the same point.
 */
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { kafkaConfigError, toKafkaError } from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';
import type { BatchHandler, EventConsumer } from './consumer.ts';
import type { PartitionRange } from './reader.ts';
import { toIncomingBatch, type IncomingRecord, type RawMessage } from './records.ts';

export interface RangeConsumerOptions {
  topic: string;
  /** The group the reader joins; nothing is ever committed for it. Required. */
  groupId: string;
  /** What to read; partitions left out, or with start >= end, are not read. Required. */
  ranges: readonly PartitionRange[];
  /** Records per batch handed over, at most. Default: 500. */
  maxBatchSize?: number;
  /** Longest the broker holds a fetch open with nothing new. Default: 200. */
  maxWaitMs?: number;
  /** Records failing it are read but not handed over (counted as filtered). Default: none. */
  filter?: (record: IncomingRecord) => boolean;
  /** Called after each handed-over batch with the records read so far and the number to read. */
  onProgress?: (read: number, total: number) => void;
}

export interface RangeReadSummary {
  /** Records read from the ranges. */
  read: number;
  /** Of them, those the filter kept out. */
  filtered: number;
}

export interface RangeConsumer extends EventConsumer {
  /** Settles with `run()`: what was read, once every range was handled. */
  readonly finished: Promise<RangeReadSummary>;
}

export function createRangeConsumer(
  conn: KafkaConnectionOptions,
  options: RangeConsumerOptions,
): RangeConsumer {
  const maxBatchSize = options.maxBatchSize ?? 500;
  const maxWaitTime = options.maxWaitMs ?? 200;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize <= 0) {
    throw kafkaConfigError('maxBatchSize', 'must be a positive integer');
  }
  if (!Number.isInteger(maxWaitTime) || maxWaitTime <= 0) {
    throw kafkaConfigError('maxWaitMs', 'must be a positive integer');
  }
  const { topic } = options;
  const pending = new Map(
    options.ranges.filter((r) => r.start < r.end).map((r) => [r.partition, r]),
  );
  const total = [...pending.values()].reduce((n, r) => n + Number(r.end - r.start), 0);
  const finished = Promise.withResolvers<RangeReadSummary>();
  finished.promise.catch(() => undefined);
  let consumer: Consumer | undefined;
  let started = false;
  let closing = false;
  let flushing = false;
  let stopReading: (() => void) | undefined;

  const read = async (handler: BatchHandler): Promise<RangeReadSummary> => {
    const summary: RangeReadSummary = { read: 0, filtered: 0 };
    if (pending.size === 0) return summary;
    consumer = new Consumer({
      ...toLibraryConnectionOptions(conn),
      groupId: options.groupId,
      autocommit: false,
      maxWaitTime,
    });
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.MANUAL,
      offsets: [...pending.values()].map((r) => ({
        topic,
        partition: r.partition,
        offset: r.start,
      })),
      autocommit: false,
    });
    const buffers = new Map<number, RawMessage[]>();
    let buffered = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        stopReading = resolve;
        const finishIfDone = () => {
          if (pending.size === 0 && buffered === 0 && !flushing) resolve();
        };
        // One flush at a time, with the stream paused: the handler's transaction is the
        // backpressure, and memory holds at most one fetch beyond a batch.
        const flush = async (): Promise<void> => {
          if (flushing || buffered === 0) return finishIfDone();
          flushing = true;
          stream.pause();
          try {
            while (buffered > 0 && !closing) {
              for (const [partition, messages] of buffers) {
                buffers.delete(partition);
                buffered -= messages.length;
                for (let i = 0; i < messages.length; i += maxBatchSize) {
                  const batch = toIncomingBatch(
                    topic,
                    partition,
                    messages.slice(i, i + maxBatchSize),
                  );
                  const kept =
                    options.filter === undefined
                      ? batch.records
                      : batch.records.filter(options.filter);
                  summary.filtered += batch.records.length - kept.length;
                  if (kept.length > 0) {
                    try {
                      await handler({ ...batch, records: kept });
                    } catch (err) {
                      // Boxed: reported as thrown, not as a Kafka error.
                      throw new HandlerFailure(err);
                    }
                  }
                  options.onProgress?.(summary.read, total);
                }
              }
            }
          } finally {
            flushing = false;
          }
          if (closing) return resolve();
          stream.resume();
          finishIfDone();
        };
        const onFlushError = (err: unknown) =>
          reject(err instanceof Error ? err : new Error(String(err)));
        stream.on('data', (message: RawMessage) => {
          const range = pending.get(message.partition);
          if (range === undefined || message.offset < range.start || message.offset >= range.end)
            return;
          summary.read++;
          const list = buffers.get(message.partition) ?? [];
          list.push(message);
          buffers.set(message.partition, list);
          buffered++;
          if (message.offset + 1n >= range.end) pending.delete(message.partition);
          if (buffered >= maxBatchSize) flush().catch(onFlushError);
        });
        // The end of a fetch response: hand over what it brought. The last offsets of a partition
        // may be transaction markers, never handed out as records: the stream's own position
        // tells when the end was passed.
        stream.on('fetch', () => {
          for (const [partition, range] of pending) {
            const position = stream.offsetsToFetch.get(`${topic}:${partition}`);
            if (position !== undefined && position >= range.end) pending.delete(partition);
          }
          flush().catch(onFlushError);
        });
        stream.on('error', reject);
      });
    } finally {
      await stream.close().catch(() => undefined);
    }
    return summary;
  };

  return {
    finished: finished.promise,
    async run(handler) {
      started = true;
      try {
        const summary = await read(handler);
        finished.resolve(summary);
      } catch (err) {
        const error = err instanceof HandlerFailure ? err.failure : toKafkaError(err);
        finished.reject(error);
        throw error;
      } finally {
        await consumer?.close(true).catch(() => undefined);
      }
    },
    close() {
      closing = true;
      if (!started) finished.resolve({ read: 0, filtered: 0 });
      // A batch in hand finishes first (its flush ends the read): its transaction commits whole.
      if (!flushing) stopReading?.();
      return finished.promise.then(
        () => undefined,
        () => undefined,
      );
    },
    getLag: () => Promise.resolve([]),
  };
}

class HandlerFailure extends Error {
  readonly failure: unknown;
  constructor(failure: unknown) {
    super('the batch handler failed');
    this.failure = failure;
  }
}
