import {
  compatibilityPartitioner,
  ProduceAcks,
  Producer,
  type MessageToProduce,
  type ProducerOptions,
} from '@platformatic/kafka';
import { kafkaConfigError, toKafkaError } from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

export interface OutgoingRecord {
  topic: string;
  /** Partitioning key; records with the same key land on the same partition, in order. */
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
  /** Explicit partition; overrides the key hash. */
  partition?: number;
}

/**
 * A record whose key and value are bytes as they are, null included (a tombstone, a keyless
 * record): dead letters copy the original record's bytes untouched.
 */
export interface RawOutgoingRecord extends Omit<OutgoingRecord, 'key' | 'value'> {
  key: Buffer | null;
  value: Buffer | null;
}

export interface EventProducer {
  /**
   * Resolves once Kafka has acknowledged every record (per `acks`); rejects with an AppError
   * (`ERP_KAFKA_*`, see errors.ts). On rejection some records may have been written: callers
   * resend, consumers deduplicate.
   */
  send(records: ReadonlyArray<OutgoingRecord | RawOutgoingRecord>): Promise<void>;
  close(): Promise<void>;
}

export type Acks = 'all' | 'leader' | 'none';
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerSettings {
  /**
   * Broker-side deduplication of retried batches (exactly-once per partition within a session).
   * Requires `acks: 'all'`. Default: true.
   */
  idempotent?: boolean;
  /** Replicas that must have a record before it counts as written. Default: 'all'. */
  acks?: Acks;
  /** Batch compression. gzip and zstd use node:zlib; snappy and lz4 use WASM. Default: 'gzip'. */
  compression?: Compression;
  /**
   * Attempts per request after a retryable failure. Default: unlimited when idempotent (the
   * library's choice: a gap in sequence numbers would otherwise fence the producer), 3 otherwise.
   */
  retries?: number;
  /** Delay between attempts. Default: 1000 (the library's default). */
  retryDelayMs?: number;
  /**
   * Upper bound of key+value+header bytes sent in one produce request; larger `send()` calls are
   * split, in order. The library does not split by size and the broker rejects record batches over
   * `message.max.bytes` (1 MiB by default). Default: 900_000.
   */
  maxRequestBytes?: number;
}

const acksValues: Record<Acks, number> = {
  all: ProduceAcks.ALL,
  leader: ProduceAcks.LEADER,
  none: ProduceAcks.NO_RESPONSE,
};

export function createProducer(
  conn: KafkaConnectionOptions,
  settings: ProducerSettings = {},
): EventProducer {
  const idempotent = settings.idempotent ?? true;
  const acks = settings.acks ?? 'all';
  const maxRequestBytes = settings.maxRequestBytes ?? 900_000;
  if (!(acks in acksValues)) throw kafkaConfigError('acks', 'must be all, leader or none');
  if (idempotent && acks !== 'all') {
    throw kafkaConfigError('acks', "an idempotent producer requires acks 'all'");
  }
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    throw kafkaConfigError('maxRequestBytes', 'must be a positive integer');
  }

  const options: ProducerOptions<Buffer, Buffer, Buffer, Buffer> = {
    ...toLibraryConnectionOptions(conn),
    idempotent,
    acks: acksValues[acks],
    compression: settings.compression ?? 'gzip',
    // The library's default partitioner uses `murmur2 >>> 0`; Java clients use
    // `murmur2 & 0x7fffffff`. Java-compatible placement keeps one key on one partition whichever
    // client produced it.
    partitioner: compatibilityPartitioner,
  };
  if (settings.retries !== undefined) options.retries = settings.retries;
  if (settings.retryDelayMs !== undefined) options.retryDelay = settings.retryDelayMs;

  let producer: Producer;
  try {
    producer = new Producer(options);
  } catch (err) {
    throw toKafkaError(err);
  }

  return {
    async send(records) {
      // Chunks go one after another so per-partition order holds across chunk boundaries.
      for (const chunk of chunkBySize(records, maxRequestBytes)) {
        try {
          await producer.send({ messages: chunk.map(toMessage) });
        } catch (err) {
          throw toKafkaError(err);
        }
      }
    },
    async close() {
      try {
        await producer.close();
      } catch (err) {
        throw toKafkaError(err);
      }
    },
  };
}

function toMessage(
  record: OutgoingRecord | RawOutgoingRecord,
): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = {
    topic: record.topic,
    key:
      typeof record.key === 'string' ? Buffer.from(record.key, 'utf8') : (record.key ?? undefined),
    // The library writes null as a null value (length -1), which `required: ['value']` accepts.
    value: record.value as Buffer,
  };
  if (record.headers !== undefined) {
    // Without serializers the library writes header keys and values as given: they must be Buffers.
    const headers = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries(record.headers)) {
      headers.set(Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8'));
    }
    message.headers = headers;
  }
  if (record.partition !== undefined) {
    // The library reduces an out-of-range partition modulo the partition count instead of failing.
    if (!Number.isInteger(record.partition) || record.partition < 0) {
      throw kafkaConfigError('partition', `${record.partition} is not a partition number`);
    }
    message.partition = record.partition;
  }
  return message;
}

function recordBytes(record: OutgoingRecord | RawOutgoingRecord): number {
  let size =
    (record.key === null ? 0 : Buffer.byteLength(record.key)) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return size;
}

function* chunkBySize<R extends OutgoingRecord | RawOutgoingRecord>(
  records: readonly R[],
  maxBytes: number,
): Generator<R[]> {
  let chunk: R[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
