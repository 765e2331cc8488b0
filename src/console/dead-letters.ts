/**
 * Dead letters as the console shows and redrives them. Listing and redriving go through the
 * CLI's own functions (src/cli/dlq.ts: `dlq list --json`, `dlq redrive [--dry-run]`), so the
 * console writes exactly what `npm run cli -- dlq redrive` would; showing one reads the record
 * with the same throwaway reader (no group's offsets move).
 */
import { describeBytes, dlqList, dlqRedrive } from '../cli/dlq.ts';
import type { Output } from '../cli/dlq.ts';
import { viewDeadLetter } from '../cli/dead-letter-view.ts';
import type { DeadLetterFilter } from '../cli/dead-letter-view.ts';
import { deadLetterNotFoundError } from '../cli/errors.ts';
import { readTopic } from '../messaging/index.ts';
import type { IncomingRecord, KafkaConnectionOptions } from '../messaging/index.ts';

/** What `dlq list --json` prints for one dead letter. */
export type DeadLetterRow = Record<string, string | number | boolean | null>;

export interface DeadLetterDetail {
  partition: number;
  offset: string;
  time: string;
  headers: [string, string][];
  key: string;
  value: string;
}

export interface RedriveResult {
  /** Records sent (with a dry run: that would be sent). */
  count: number;
  /** The CLI's own lines, as it prints them. */
  lines: string[];
}

function capture(): { output: Output; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { output: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

export async function listDeadLetters(
  conn: KafkaConnectionOptions,
  topic: string,
  filter: DeadLetterFilter,
  limit: number,
): Promise<DeadLetterRow[]> {
  const { output, out } = capture();
  await dlqList({ conn, topic, filter, limit, json: true }, output);
  return out.map((line) => JSON.parse(line) as DeadLetterRow);
}

/** One dead letter; with `tenant`, another tenant's answers as a missing one (no oracle). */
export async function showDeadLetter(
  conn: KafkaConnectionOptions,
  topic: string,
  partition: number,
  offset: bigint,
  tenant?: string,
): Promise<DeadLetterDetail> {
  let found: IncomingRecord | undefined;
  await readTopic(conn, topic, {
    onRecord(record) {
      if (record.partition !== partition) return undefined;
      if (record.offset === offset) found = record;
      return record.offset >= offset ? 'stop' : undefined;
    },
  });
  const view = found === undefined ? undefined : viewDeadLetter(found);
  if (
    found === undefined ||
    view === undefined ||
    (tenant !== undefined && view.tenantId !== tenant)
  )
    throw deadLetterNotFoundError(topic, partition, offset);
  return {
    partition,
    offset: String(offset),
    time: view.time.toISOString(),
    headers: Object.entries(found.headers).sort(([a], [b]) => a.localeCompare(b)),
    key: describeBytes(found.key),
    value: describeBytes(found.value),
  };
}

/** `dlq redrive` of the selected positions (of `tenant` only, if given); a dry run sends nothing. */
export async function redriveDeadLetters(
  conn: KafkaConnectionOptions,
  topic: string,
  positions: readonly string[],
  dryRun: boolean,
  tenant?: string,
): Promise<RedriveResult> {
  const { output, out, err } = capture();
  const filter = { positions, ...(tenant === undefined ? {} : { tenant }) };
  const count = await dlqRedrive({ conn, topic, filter, dryRun }, output);
  return { count, lines: [...out, ...err.filter((l) => !l.startsWith('reading '))] };
}
