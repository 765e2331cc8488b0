import {
  Consumer,
  MessagesStreamModes,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../platform/errors.ts';
import { KafkaErrorCodes, kafkaConfigError, toKafkaError } from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

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

export type BatchHandler = (batch: IncomingBatch) => Promise<void>;

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: bigint;
}

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

export interface ConsumerSettings {
  /** Consumer group; members share partitions and committed offsets. Required. */
  groupId: string;
  /** Topics to subscribe to. Required, at least one. */
  topics: readonly string[];
  /** Where a partition without a committed offset for the group starts. Required. */
  autoOffsetReset: 'earliest' | 'latest';
  /** Most records in one batch. Default: 500. */
  maxBatchSize?: number;
  /**
   * Longest the broker holds a fetch open while no data is available. A batch is what one partition
   * has received within that time (up to `maxBatchSize`); it also bounds how long `close()` waits
   * for an idle fetch. Default: 500.
   */
  maxWaitMs?: number;
  /** Without a heartbeat for this long, the broker removes the member and rebalances. Default: 45000. */
  sessionTimeoutMs?: number;
  /** Heartbeat period; keep it well under a third of `sessionTimeoutMs`. Default: 3000. */
  heartbeatIntervalMs?: number;
  /**
   * Batches handled at the same time, each from a different partition (one partition is always
   * sequential). Default: 1.
   */
  maxConcurrentBatches?: number;
  /**
   * Called when a retryable Kafka failure (a broker gone, a fetch session lost, a commit refused
   * while the group rebalances) makes the consumer rejoin the group with a new connection instead
   * of stopping; for logs and metrics. Default: none.
   */
  onReconnect?: (err: AppError, attempt: number) => void;
}

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

// Rejoin backoff after a retryable Kafka failure: doubles from 500 ms, capped at 10 s, jittered.
const RECONNECT_INITIAL_MS = 500;
const RECONNECT_MAX_MS = 10_000;

const positiveInt = (value: number | undefined, path: string, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) throw kafkaConfigError(path, 'must be a positive integer');
  return v;
};

export function createConsumer(
  conn: KafkaConnectionOptions,
  settings: ConsumerSettings,
): EventConsumer {
  const { groupId, autoOffsetReset } = settings;
  const topics: string[] = [...((settings.topics as readonly string[] | undefined) ?? [])];
  if (typeof groupId !== 'string' || groupId === '') {
    throw kafkaConfigError('groupId', 'must be a non-empty string');
  }
  if (topics.length === 0 || topics.some((topic) => typeof topic !== 'string' || topic === '')) {
    throw kafkaConfigError('topics', 'must list at least one topic');
  }
  if (autoOffsetReset !== 'earliest' && autoOffsetReset !== 'latest') {
    throw kafkaConfigError('autoOffsetReset', 'must be earliest or latest');
  }
  const maxBatchSize = positiveInt(settings.maxBatchSize, 'maxBatchSize', 500);
  const maxWaitMs = positiveInt(settings.maxWaitMs, 'maxWaitMs', 500);
  const sessionTimeout = positiveInt(settings.sessionTimeoutMs, 'sessionTimeoutMs', 45_000);
  const heartbeatInterval = positiveInt(settings.heartbeatIntervalMs, 'heartbeatIntervalMs', 3_000);
  const concurrency = positiveInt(settings.maxConcurrentBatches, 'maxConcurrentBatches', 1);
  // Enough read-ahead to form full batches while the handler works, bounded so memory stays flat.
  const pauseAt = maxBatchSize * Math.max(concurrency, 2) * 2;
  const resumeBelow = Math.ceil(pauseAt / 2);

  const openConsumer = (): Consumer => {
    try {
      return new Consumer({
        ...toLibraryConnectionOptions(conn),
        groupId,
        autocommit: false,
        sessionTimeout,
        heartbeatInterval,
        maxWaitTime: maxWaitMs,
        highWaterMark: maxBatchSize,
      });
    } catch (err) {
      throw toKafkaError(err);
    }
  };
  let consumer = openConsumer();

  let state: 'idle' | 'starting' | 'running' | 'reconnecting' | 'stopping' | 'closed' = 'idle';
  let shutdownStarted = false;
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let handler: BatchHandler | undefined;
  let failure: unknown;
  let hasFailure = false;
  let paused = false;
  let dispatchScheduled = false;
  let buffered = 0;
  let inFlight = 0;
  // Keyed `topic:partition`; Map order doubles as round-robin order between partitions.
  const queues = new Map<string, RawMessage[]>();
  const busy = new Set<string>();
  // After a rebalance the library re-fetches from the committed offset; records we already hold
  // would arrive twice. Remember the next offset expected per partition and drop what is below.
  const nextOffset = new Map<string, bigint>();
  const stopped = Promise.withResolvers<void>();
  // run() reports through `stopped`; close() only awaits it, so mark the rejection as handled.
  stopped.promise.catch(() => undefined);

  // A function, not an inline comparison: callbacks change `state` behind TypeScript's narrowing.
  const isStopping = (): boolean => state === 'stopping';

  const fail = (err: unknown): void => {
    if (!hasFailure) {
      hasFailure = true;
      failure = err;
    }
    stop();
  };

  const onData = (message: RawMessage): void => {
    if (state !== 'running') return;
    const key = `${message.topic}:${message.partition}`;
    const expected = nextOffset.get(key);
    if (expected !== undefined && message.offset < expected) return;
    nextOffset.set(key, message.offset + 1n);
    let queue = queues.get(key);
    if (queue === undefined) {
      queue = [];
      queues.set(key, queue);
    }
    queue.push(message);
    buffered++;
    if (!paused && buffered >= pauseAt) {
      paused = true;
      stream?.pause();
    }
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

  const dispatch = (): void => {
    for (const [key, queue] of queues) {
      if (state !== 'running' || inFlight >= concurrency) break;
      if (busy.has(key) || queue.length === 0) continue;
      const first = queue[0]!;
      if (!isAssigned(first.topic, first.partition)) {
        // Revoked by a rebalance: another member resumes from the committed offset.
        buffered -= queue.length;
        queues.delete(key);
        nextOffset.delete(key);
        continue;
      }
      const batch = queue.splice(0, maxBatchSize);
      buffered -= batch.length;
      queues.delete(key);
      if (queue.length > 0) queues.set(key, queue);
      void handle(key, batch);
    }
    if (paused && buffered < resumeBelow && state === 'running') {
      paused = false;
      stream?.resume();
    }
  };

  const handle = async (key: string, batch: RawMessage[]): Promise<void> => {
    inFlight++;
    busy.add(key);
    try {
      const first = batch[0]!;
      try {
        await handler!({
          topic: first.topic,
          partition: first.partition,
          records: batch.map(toIncoming),
        });
      } catch (err) {
        fail(err);
        return;
      }
      // The library commits `offset + 1` of this record with its leader epoch (KIP-320), and
      // funnels commits through one in-flight request so a lower offset never overwrites a higher.
      const last = batch[batch.length - 1]!;
      try {
        await new Promise<void>((resolve, reject) => {
          // With a callback the library returns nothing; the promise form would be unused.
          void last.commit((error) => (error ? reject(error) : resolve()));
        });
      } catch (err) {
        // Not committed: after a reconnect the batch comes again (the inbox makes that harmless).
        onKafkaError(err);
      }
    } finally {
      inFlight--;
      busy.delete(key);
      if (state === 'stopping') {
        if (inFlight === 0) void shutdown();
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
   * offsets, so nothing is skipped (and redelivery is deduplicated above).
   */
  const reconnect = async (cause: AppError): Promise<void> => {
    state = 'reconnecting';
    stream?.pause();
    while (inFlight > 0) await sleep(20);
    queues.clear();
    nextOffset.clear();
    buffered = 0;
    paused = false;
    await closeQuietly();
    for (let attempt = 1; ; attempt++) {
      if (isStopping()) return void shutdown();
      settings.onReconnect?.(cause, attempt);
      const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_INITIAL_MS * 2 ** (attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
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

  const subscribe = () =>
    consumer.consume({
      topics,
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: autoOffsetReset,
      autocommit: false,
      maxWaitTime: maxWaitMs,
      sessionTimeout,
      heartbeatInterval,
    });

  const listen = (s: MessagesStream<Buffer, Buffer, Buffer, Buffer>): void => {
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
    if (state === 'idle' || state === 'starting') {
      state = 'stopping';
      return; // run() or close() finishes the shutdown once consume() has settled.
    }
    if (state === 'reconnecting') {
      state = 'stopping'; // the reconnect loop notices and shuts down
      return;
    }
    if (state !== 'running') return;
    state = 'stopping';
    stream?.pause();
    if (inFlight === 0) void shutdown();
  };

  const shutdown = async (): Promise<void> => {
    if (shutdownStarted) return;
    shutdownStarted = true;
    queues.clear();
    buffered = 0;
    try {
      await stream?.close();
    } catch (err) {
      if (!hasFailure) fail(toKafkaError(err));
    }
    try {
      await consumer.close(true);
    } catch (err) {
      if (!hasFailure) fail(toKafkaError(err));
    }
    state = 'closed';
    if (hasFailure) stopped.reject(failure);
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
        return stopped.promise;
      }
      state = 'running';
      listen(stream!);
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
      let lag: Map<string, bigint[]>;
      try {
        lag = await consumer.getLag({ topics });
      } catch (err) {
        throw toKafkaError(err);
      }
      const result: PartitionLag[] = [];
      for (const [topic, partitions] of lag) {
        // -1n marks partitions not assigned to this member.
        partitions.forEach((value, partition) => {
          if (value >= 0n) result.push({ topic, partition, lag: value });
        });
      }
      return result;
    },
  };
}

/** The library's message as our record (exported for reader.ts). */
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
