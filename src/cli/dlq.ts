/**
 * `dlq list | show | redrive`: functions taking their options and an output, so tests call them
 * directly. They read the dead-letter topic with a throwaway reader (no group's offsets move).
 */
import { createProducer, readTopic } from '../messaging/index.ts';
import type {
  EventProducer,
  IncomingRecord,
  KafkaConnectionOptions,
  RawOutgoingRecord,
} from '../messaging/index.ts';
import { matchesFilter, originalHeaders, viewDeadLetter } from './dead-letter-view.ts';
import type { DeadLetterFilter, DeadLetterView } from './dead-letter-view.ts';
import { deadLetterNotFoundError } from './errors.ts';

/** Where results (stdout) and diagnostics (stderr: progress, counts, warnings) go. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface DlqListOptions {
  conn: KafkaConnectionOptions;
  /** The dead-letter topic. Required (the CLI defaults it to `<inventory topic>.dlq`). */
  topic: string;
  /** Default: no filter. */
  filter?: DeadLetterFilter;
  /** Most dead letters listed, oldest first per partition. Default: 50. */
  limit?: number;
  /** One JSON object per line instead of text columns. Default: false. */
  json?: boolean;
}

export interface DlqShowOptions {
  conn: KafkaConnectionOptions;
  topic: string;
  partition: number;
  offset: bigint;
}

export interface DlqRedriveOptions {
  conn: KafkaConnectionOptions;
  topic: string;
  /** Default: no filter (every dead letter). */
  filter?: DeadLetterFilter;
  /** Most dead letters redriven. Default: all that match. */
  limit?: number;
  /** Print what would be sent, send nothing. Default: false. */
  dryRun?: boolean;
  /** Send here instead of each record's `dlq.original.topic`. Default: the original topic. */
  to?: string;
  /** Default: an idempotent producer on `conn`, closed at the end. Tests pass their own. */
  producer?: EventProducer;
  /** Default: now; tests fix it. */
  now?: () => Date;
}

export const DEFAULT_LIST_LIMIT = 50;
const MESSAGE_COLUMN_CHARS = 80;
const PROGRESS_EVERY_MS = 1000;

/** Reads the topic and returns the matching dead letters, oldest first per partition. */
async function collect(
  conn: KafkaConnectionOptions,
  topic: string,
  filter: DeadLetterFilter,
  limit: number,
  output: Output,
): Promise<{ matched: DeadLetterView[]; read: number }> {
  const matched: DeadLetterView[] = [];
  let lastProgress = Date.now();
  const summary = await readTopic(conn, topic, {
    onRecord(record) {
      const view = viewDeadLetter(record);
      if (matchesFilter(view, filter)) matched.push(view);
      return undefined;
    },
    onProgress(read, total) {
      if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = Date.now();
      output.err(`reading ${topic}: ${read}/${total} records`);
    },
  });
  // Partitions interleave while reading; a stable order makes output and redrives repeatable.
  matched.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
  return { matched: matched.slice(0, limit), read: summary.records };
}

const shorten = (text: string, max: number): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};

function listLine(v: DeadLetterView): string {
  const original =
    v.original.topic === undefined
      ? '-'
      : `${v.original.topic}/${v.original.partition ?? '?'}@${v.original.offset ?? '?'}`;
  return [
    `${v.partition}:${v.offset}`,
    v.time.toISOString(),
    v.code ?? '-',
    v.eventType ?? '-',
    v.tenantId ?? '-',
    original,
    shorten(v.message ?? '', MESSAGE_COLUMN_CHARS),
  ].join('  ');
}

function listJson(v: DeadLetterView): string {
  return JSON.stringify({
    partition: v.partition,
    offset: String(v.offset),
    time: v.time.toISOString(),
    code: v.code ?? null,
    message: v.message ?? null,
    retryable: v.retryable ?? null,
    event_type: v.eventType ?? null,
    event_id: v.eventId ?? null,
    tenant_id: v.tenantId ?? null,
    original_topic: v.original.topic ?? null,
    original_partition: v.original.partition ?? null,
    original_offset: v.original.offset === undefined ? null : String(v.original.offset),
    consumer_group: v.consumerGroup ?? null,
    attempts: v.attempts ?? null,
    first_failure: v.firstFailure?.toISOString() ?? null,
    last_failure: v.lastFailure?.toISOString() ?? null,
  });
}

/** Prints one line per matching dead letter; returns how many were printed. */
export async function dlqList(options: DlqListOptions, output: Output): Promise<number> {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  const { matched, read } = await collect(
    options.conn,
    options.topic,
    options.filter ?? {},
    limit,
    output,
  );
  for (const view of matched) output.out(options.json === true ? listJson(view) : listLine(view));
  output.err(`${matched.length} dead letter(s) listed, ${read} read from ${options.topic}`);
  return matched.length;
}

/** Pretty JSON when the bytes are JSON, the text when they are UTF-8, else a hex preview. */
export function describeBytes(bytes: Buffer | null, maxBytes = 4096): string {
  if (bytes === null) return '(null)';
  if (bytes.length === 0) return '(empty)';
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON: shown as text below.
    }
    return text.length <= maxBytes ? text : `${text.slice(0, maxBytes)}… (${bytes.length} bytes)`;
  }
  const shown = bytes.subarray(0, Math.min(bytes.length, 256));
  const hex = shown
    .toString('hex')
    .replace(/(.{2})/g, '$1 ')
    .trim();
  return `(${bytes.length} bytes, not UTF-8) hex: ${hex}${bytes.length > shown.length ? ' …' : ''}`;
}

/** Prints every header, the key and the value of the dead letter at `partition:offset`. */
export async function dlqShow(options: DlqShowOptions, output: Output): Promise<void> {
  const { partition, offset } = options;
  let found: IncomingRecord | undefined;
  await readTopic(options.conn, options.topic, {
    onRecord(record) {
      if (record.partition !== partition) return undefined;
      if (record.offset === offset) found = record;
      // Offsets only grow within a partition: past it, it is not there.
      return record.offset >= offset ? 'stop' : undefined;
    },
  });
  if (found === undefined) throw deadLetterNotFoundError(options.topic, partition, offset);
  const view = viewDeadLetter(found);
  output.out(`${options.topic} ${partition}:${offset}  ${view.time.toISOString()}`);
  output.out('headers:');
  for (const [name, value] of Object.entries(found.headers).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    output.out(`  ${name}: ${value}`);
  }
  output.out(`key: ${describeBytes(found.key)}`);
  output.out('value:');
  output.out(describeBytes(found.value));
}

/** The record that puts a dead letter back: its key and value bytes as they were. */
export function redriveRecord(
  view: DeadLetterView,
  dlqTopic: string,
  target: string,
  now: Date,
): RawOutgoingRecord {
  return {
    topic: target,
    key: view.record.key,
    value: view.record.value,
    headers: {
      ...originalHeaders(view),
      'dlq.redriven.from': `${dlqTopic}:${view.partition}:${view.offset}`,
      'dlq.redrive.time': now.toISOString(),
    },
  };
}

/**
 * Sends the matching dead letters back to their original topic (or `to`); returns how many were
 * sent (with `dryRun`, how many would be). A redriven event keeps its bytes, hence its event_id:
 * the consumer's inbox ignores it if it was applied in the meantime, so redriving twice is safe.
 */
export async function dlqRedrive(options: DlqRedriveOptions, output: Output): Promise<number> {
  const { matched } = await collect(
    options.conn,
    options.topic,
    options.filter ?? {},
    options.limit ?? Number.POSITIVE_INFINITY,
    output,
  );
  const now = (options.now ?? (() => new Date()))();
  const records: RawOutgoingRecord[] = [];
  let skipped = 0;
  for (const view of matched) {
    const target = options.to ?? view.original.topic;
    if (target === undefined) {
      skipped++;
      output.err(`${view.partition}:${view.offset} has no dlq.original.topic; use --to, skipped`);
      continue;
    }
    records.push(redriveRecord(view, options.topic, target, now));
    if (options.dryRun === true) {
      output.out(`would send ${view.partition}:${view.offset} to ${target}  ${listLine(view)}`);
    }
  }
  if (options.dryRun === true) {
    output.out(`${records.length} dead letter(s) would be redriven (dry run, nothing sent)`);
    return records.length;
  }
  if (records.length > 0) {
    const producer = options.producer ?? createProducer(options.conn);
    try {
      // One call keeps the dead letters' order per key on the target topic.
      await producer.send(records);
    } finally {
      if (options.producer === undefined) await producer.close();
    }
  }
  output.out(
    `${records.length} dead letter(s) redriven${skipped > 0 ? `, ${skipped} skipped` : ''}`,
  );
  return records.length;
}
