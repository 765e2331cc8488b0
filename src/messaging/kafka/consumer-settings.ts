import {
  MessagesStreamModes,
  type ConsumeOptions,
  type ConsumerOptions,
} from '@platformatic/kafka';
import { createRetryPolicy, type AppError, type RetryPolicy } from '../../platform/index.ts';
import { kafkaConfigError } from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

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
  /**
   * Overrides of the wait before each rejoin attempt. Default: RECONNECT_RETRY_POLICY (doubling
   * from 500 ms up to 10 s, ±50 % jitter). `attempts` is not used: the consumer rejoins for as
   * long as the failure is retryable. A bad field throws ERP_INVALID_OPTIONS at creation.
   */
  reconnectPolicy?: Partial<RetryPolicy>;
}

/**
 * Rejoin backoff after a retryable Kafka failure: doubles from 500 ms, capped at 10 s, jittered
 * widely so that the members of a group that lost the same broker do not rejoin in step.
 */
export const RECONNECT_RETRY_POLICY: RetryPolicy = createRetryPolicy({
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  jitter: 0.5,
});

/** ConsumerSettings validated, with every default applied (fields as documented there). */
export interface ResolvedConsumerSettings {
  groupId: string;
  topics: string[];
  autoOffsetReset: 'earliest' | 'latest';
  maxBatchSize: number;
  maxWaitMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxConcurrentBatches: number;
  reconnectPolicy: RetryPolicy;
}

const positiveInt = (value: number | undefined, path: string, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) throw kafkaConfigError(path, 'must be a positive integer');
  return v;
};

/**
 * Validates `settings` and applies the defaults. Throws ERP_KAFKA_CONFIG naming the first bad
 * field, or ERP_INVALID_OPTIONS for a bad `reconnectPolicy`.
 */
export function resolveConsumerSettings(settings: ConsumerSettings): ResolvedConsumerSettings {
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
  return {
    groupId,
    topics,
    autoOffsetReset,
    maxBatchSize: positiveInt(settings.maxBatchSize, 'maxBatchSize', 500),
    maxWaitMs: positiveInt(settings.maxWaitMs, 'maxWaitMs', 500),
    sessionTimeoutMs: positiveInt(settings.sessionTimeoutMs, 'sessionTimeoutMs', 45_000),
    heartbeatIntervalMs: positiveInt(settings.heartbeatIntervalMs, 'heartbeatIntervalMs', 3_000),
    maxConcurrentBatches: positiveInt(settings.maxConcurrentBatches, 'maxConcurrentBatches', 1),
    reconnectPolicy: createRetryPolicy(settings.reconnectPolicy, RECONNECT_RETRY_POLICY),
  };
}

/** The library's client options: commits are ours, after the handler, never automatic. */
export function toLibraryConsumerOptions(
  conn: KafkaConnectionOptions,
  s: ResolvedConsumerSettings,
): ConsumerOptions<Buffer, Buffer, Buffer, Buffer> {
  return {
    ...toLibraryConnectionOptions(conn),
    groupId: s.groupId,
    autocommit: false,
    sessionTimeout: s.sessionTimeoutMs,
    heartbeatInterval: s.heartbeatIntervalMs,
    maxWaitTime: s.maxWaitMs,
    highWaterMark: s.maxBatchSize,
  };
}

/** The library's subscription: from the group's committed offsets, else `autoOffsetReset`. */
export function toLibraryConsumeOptions(
  s: ResolvedConsumerSettings,
): ConsumeOptions<Buffer, Buffer, Buffer, Buffer> {
  return {
    topics: s.topics,
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: s.autoOffsetReset,
    autocommit: false,
    maxWaitTime: s.maxWaitMs,
    sessionTimeout: s.sessionTimeoutMs,
    heartbeatInterval: s.heartbeatIntervalMs,
  };
}
