/**
 * What the consumer holds between the library's stream and the handler: records fetched but not
 * yet handed over, one queue per partition, and which partitions have a batch out. Pure (no I/O,
 * no timers); the consumer decides when to call it and what pausing and resuming mean.
 */

/** What the queues read of a record; the library's messages and plain objects both fit. */
export interface QueuedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** Consecutive records of one partition, oldest first, as handed out by `take`. */
export interface PartitionBatch<R extends QueuedRecord> {
  /** `topic:partition`. */
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly records: R[];
}

export interface PartitionQueuesOptions {
  /** Most records in one batch. Required, a positive integer. */
  maxBatchSize: number;
  /** Batches out at the same time, each of a different partition. Required, a positive integer. */
  concurrency: number;
}

/** Whether this member still owns the partition. */
export type IsAssigned = (topic: string, partition: number) => boolean;

export class PartitionQueues<R extends QueuedRecord> {
  /** Buffered records at which fetching should pause. */
  readonly pauseAt: number;
  /** Buffered records below which paused fetching should resume. */
  readonly resumeBelow: number;
  readonly #maxBatchSize: number;
  readonly #concurrency: number;
  // Keyed `topic:partition`; Map order doubles as round-robin order between partitions.
  readonly #queues = new Map<string, R[]>();
  readonly #busy = new Set<string>();
  // After a rebalance the library re-fetches from the committed offset; records we already hold
  // would arrive twice. Remember the next offset expected per partition and drop what is below.
  readonly #nextOffset = new Map<string, bigint>();
  #buffered = 0;
  #paused = false;

  constructor(options: PartitionQueuesOptions) {
    this.#maxBatchSize = options.maxBatchSize;
    this.#concurrency = options.concurrency;
    // Enough read-ahead to form full batches while the handler works, bounded so memory stays flat.
    this.pauseAt = options.maxBatchSize * Math.max(options.concurrency, 2) * 2;
    this.resumeBelow = Math.ceil(this.pauseAt / 2);
  }

  /** Records queued and not yet taken (batches out do not count). */
  get buffered(): number {
    return this.#buffered;
  }

  /** Batches taken and not yet released. */
  get inFlight(): number {
    return this.#busy.size;
  }

  /**
   * Queues `record` behind the others of its partition; false (and nothing queued) when its
   * offset is below the next one expected for that partition, i.e. a redelivery.
   */
  push(record: R): boolean {
    const key = partitionKey(record.topic, record.partition);
    const expected = this.#nextOffset.get(key);
    if (expected !== undefined && record.offset < expected) return false;
    this.#nextOffset.set(key, record.offset + 1n);
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.#queues.set(key, queue);
    }
    queue.push(record);
    this.#buffered++;
    return true;
  }

  /** True once when the buffer has reached `pauseAt`: the caller pauses fetching. */
  pauseIfFull(): boolean {
    if (this.#paused || this.#buffered < this.pauseAt) return false;
    this.#paused = true;
    return true;
  }

  /** True once, after `pauseIfFull`, when the buffer is below `resumeBelow`: the caller resumes. */
  resumeIfDrained(): boolean {
    if (!this.#paused || this.#buffered >= this.resumeBelow) return false;
    this.#paused = false;
    return true;
  }

  /**
   * The next batch, the partition then busy until `release`: up to `maxBatchSize` records of the
   * first partition, in round-robin order, that has records and no batch out. Undefined when
   * `concurrency` batches are out or nothing is ready. Queues of partitions `isAssigned` denies
   * that are passed over on the way are dropped, and their expected offsets forgotten.
   */
  take(isAssigned: IsAssigned): PartitionBatch<R> | undefined {
    if (this.#busy.size >= this.#concurrency) return undefined;
    for (const [key, queue] of this.#queues) {
      if (this.#busy.has(key)) continue;
      const first = queue[0];
      if (first === undefined) continue;
      if (!isAssigned(first.topic, first.partition)) {
        // Revoked by a rebalance: another member resumes from the committed offset.
        this.#buffered -= queue.length;
        this.#queues.delete(key);
        this.#nextOffset.delete(key);
        continue;
      }
      const records = queue.splice(0, this.#maxBatchSize);
      this.#buffered -= records.length;
      // To the back of the round-robin order, behind the partitions that waited.
      this.#queues.delete(key);
      if (queue.length > 0) this.#queues.set(key, queue);
      this.#busy.add(key);
      return { key, topic: first.topic, partition: first.partition, records };
    }
    return undefined;
  }

  /** Marks `batch` finished (handled or not): its partition can hand out the next one. */
  release(batch: PartitionBatch<R>): void {
    this.#busy.delete(batch.key);
  }

  /**
   * Forgets every queued record, expected offset and the paused state, for a reconnect or a
   * shutdown; the next member resumes from the committed offsets. Batches out stay busy until
   * released.
   */
  clear(): void {
    this.#queues.clear();
    this.#nextOffset.clear();
    this.#buffered = 0;
    this.#paused = false;
  }
}

/** The queue key of a partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
