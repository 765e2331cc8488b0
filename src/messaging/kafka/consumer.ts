import { Consumer, type MessagesStream } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, backoff } from '../../platform/index.ts';
import {
  resolveConsumerSettings,
  toLibraryConsumeOptions,
  toLibraryConsumerOptions,
  type ConsumerSettings,
} from './consumer-settings.ts';
import { KafkaErrorCodes, toKafkaError } from './errors.ts';
import type { KafkaConnectionOptions } from './options.ts';
import { PartitionQueues, type PartitionBatch } from './partition-queues.ts';
import {
  commitThrough,
  toIncomingBatch,
  toPartitionLags,
  type IncomingBatch,
  type PartitionLag,
  type RawMessage,
} from './records.ts';

export type { ConsumerSettings } from './consumer-settings.ts';
export type { IncomingBatch, IncomingRecord, PartitionLag } from './records.ts';

export type BatchHandler = (batch: IncomingBatch) => Promise<void>;

export interface EventConsumer {
  /**
   * Joins the group and hands batches to `handler` until `close()`; resolves after a clean close.
   * The handler is expected not to throw (retries and dead-lettering belong to the layer above).
   * If it throws, or Kafka fails for good, the batch is not committed, the consumer closes and
   * `run()` rejects with that error (handler errors as thrown, Kafka errors as `ERP_KAFKA_*`
   * AppErrors), so the process supervisor notices. A retryable Kafka failure instead drops what
   * was fetched but not handled, reconnects with backoff and resumes from the committed offsets
   * (see `onReconnect`). Can be called once.
   */
  run(handler: BatchHandler): Promise<void>;
  /**
   * Stops fetching, waits for the batches in hand and their commits, then leaves the group.
   * Records fetched but not yet handed over are dropped; the next member gets them again.
   */
  close(): Promise<void>;
  /** Per assigned partition: high watermark minus this member's committed offset. Empty before `run()`. */
  getLag(): Promise<PartitionLag[]>;
}

type RawStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export function createConsumer(
  conn: KafkaConnectionOptions,
  settings: ConsumerSettings,
): EventConsumer {
  const options = resolveConsumerSettings(settings);
  const { groupId, topics } = options;

  const openConsumer = (): Consumer => {
    try {
      return new Consumer(toLibraryConsumerOptions(conn, options));
    } catch (err) {
      throw toKafkaError(err);
    }
  };
  let consumer = openConsumer();

  let state: 'idle' | 'starting' | 'running' | 'reconnecting' | 'stopping' | 'closed' = 'idle';
  let shutdownStarted = false;
  let stream: RawStream | undefined;
  let handler: BatchHandler | undefined;
  // Boxed: the first failure wins, and a thrown `undefined` still counts as one.
  let failure: { error: unknown } | undefined;
  let dispatchScheduled = false;
  const queues = new PartitionQueues<RawMessage>({
    maxBatchSize: options.maxBatchSize,
    concurrency: options.maxConcurrentBatches,
  });
  const stopped = Promise.withResolvers<void>();
  // run() reports through `stopped`; close() only awaits it, so mark the rejection as handled.
  stopped.promise.catch(() => undefined);

  // A function, not an inline comparison: callbacks change `state` behind TypeScript's narrowing.
  const isStopping = (): boolean => state === 'stopping';

  const fail = (err: unknown): void => {
    failure ??= { error: err };
    stop();
  };

  const onData = (message: RawMessage): void => {
    if (state !== 'running' || !queues.push(message)) return;
    if (queues.pauseIfFull()) stream?.pause();
    scheduleDispatch();
  };

  // Records of one fetch response are pushed synchronously one by one; dispatching on the next
  // turn of the event loop lets the whole response form the batch.
  const scheduleDispatch = (): void => {
    if (dispatchScheduled) return;
    dispatchScheduled = true;
    setImmediate(() => {
      dispatchScheduled = false;
      dispatch();
    });
  };

  const isAssigned = (topic: string, partition: number): boolean => {
    const assignments = consumer.assignments;
    // null while (re)joining: keep the records until the assignment is known.
    if (assignments === null) return true;
    return assignments.some((a) => a.topic === topic && a.partitions.includes(partition));
  };

  // One batch at a time: a handler may stop the consumer synchronously, and then no further
  // batch is handed over.
  const dispatch = (): void => {
    while (state === 'running') {
      const batch = queues.take(isAssigned);
      if (batch === undefined) break;
      void handle(batch);
    }
    if (state === 'running' && queues.resumeIfDrained()) stream?.resume();
  };

  const handle = async (batch: PartitionBatch<RawMessage>): Promise<void> => {
    try {
      try {
        await handler!(toIncomingBatch(batch.topic, batch.partition, batch.records));
      } catch (err) {
        fail(err);
        return;
      }
      // Not committed: after a reconnect the batch comes again (the inbox makes that harmless).
      await commitThrough(batch.records[batch.records.length - 1]!).catch(onKafkaError);
    } finally {
      queues.release(batch);
      if (state === 'stopping') {
        if (queues.inFlight === 0) void shutdown();
      } else if (state === 'running') {
        scheduleDispatch();
      }
    }
  };

  const onKafkaError = (err: unknown): void => {
    const error = toKafkaError(err);
    // Already rejoining: this is the old connection's last word (a second fetch or commit error).
    if (state === 'reconnecting') return;
    if (error.retryable && state === 'running') void reconnect(error);
    else fail(error);
  };

  /**
   * The library gives up on a broker after a few quick retries and then errors its stream; a
   * service must outlive a broker restart or a whole-cluster outage, so rejoin with backoff.
   * Records fetched but not handed over are dropped: the new member resumes from the committed
   * offsets, so nothing is skipped (and redelivery is deduplicated by the queues).
   */
  const reconnect = async (cause: AppError): Promise<void> => {
    state = 'reconnecting';
    stream?.pause();
    while (queues.inFlight > 0) await sleep(20);
    queues.clear();
    await closeQuietly();
    for (let attempt = 1; ; attempt++) {
      if (isStopping()) return void shutdown();
      settings.onReconnect?.(cause, attempt);
      await backoff(options.reconnectPolicy, attempt);
      if (isStopping()) return void shutdown();
      try {
        consumer = openConsumer();
        stream = await subscribe();
      } catch (err) {
        const error = toKafkaError(err);
        if (!error.retryable) {
          fail(error);
          return void shutdown();
        }
        cause = error;
        await closeQuietly();
        continue;
      }
      if (isStopping()) return void shutdown();
      state = 'running';
      listen(stream);
      return;
    }
  };

  const closeQuietly = async (): Promise<void> => {
    const old = { stream, consumer };
    stream = undefined;
    // A consumer that lost its brokers may take long to close; do not wait on it forever.
    await Promise.race([
      (async () => {
        await old.stream?.close().catch(() => undefined);
        await old.consumer.close(true).catch(() => undefined);
      })(),
      sleep(5_000),
    ]);
  };

  const subscribe = () => consumer.consume(toLibraryConsumeOptions(options));

  const listen = (s: RawStream): void => {
    s.on('data', onData);
    s.on('error', (err) => {
      if (stream === s) onKafkaError(err);
    });
    s.on('close', () => {
      if (stream === s && state === 'running') {
        onKafkaError(
          new AppError(KafkaErrorCodes.CONNECTION, 'Kafka message stream closed unexpectedly', {
            retryable: true,
          }),
        );
      }
    });
  };

  const stop = (): void => {
    if (state === 'idle' || state === 'starting' || state === 'reconnecting') {
      // run() or close() finishes the shutdown once consume() has settled; the reconnect loop
      // notices and shuts down.
      state = 'stopping';
      return;
    }
    if (state !== 'running') return;
    state = 'stopping';
    stream?.pause();
    if (queues.inFlight === 0) void shutdown();
  };

  const shutdown = async (): Promise<void> => {
    if (shutdownStarted) return;
    shutdownStarted = true;
    queues.clear();
    try {
      await stream?.close();
    } catch (err) {
      if (failure === undefined) fail(toKafkaError(err));
    }
    try {
      await consumer.close(true);
    } catch (err) {
      if (failure === undefined) fail(toKafkaError(err));
    }
    state = 'closed';
    if (failure !== undefined) stopped.reject(failure.error);
    else stopped.resolve();
  };

  return {
    async run(batchHandler) {
      if (state !== 'idle') {
        throw new AppError(KafkaErrorCodes.CONFIG, 'EventConsumer.run() can be called only once', {
          context: { groupId },
        });
      }
      state = 'starting';
      handler = batchHandler;
      try {
        stream = await subscribe();
      } catch (err) {
        fail(toKafkaError(err));
      }
      if (isStopping()) {
        // close() was called, or consume() failed, while joining.
        await shutdown();
      } else {
        state = 'running';
        listen(stream!);
      }
      return stopped.promise;
    },

    async close() {
      if (state === 'closed') return;
      if (state === 'idle') {
        state = 'stopping';
        await shutdown();
        return;
      }
      stop();
      // Errors belong to run(); close() only waits for the shutdown to finish.
      await stopped.promise.catch(() => undefined);
    },

    async getLag() {
      if (state !== 'running') return [];
      try {
        return toPartitionLags(await consumer.getLag({ topics }));
      } catch (err) {
        throw toKafkaError(err);
      }
    },
  };
}
