/** Where in a topic, as an operator writes it: an ISO-8601 time, or partition:offset pairs. */
import type { PartitionOffsets } from '../messaging/index.ts';
import { usageError } from './errors.ts';

export type Position = Date | PartitionOffsets;

export function parseTime(option: string, text: string): Date {
  // Date.parse accepts too much ("1"); ask for the ISO-8601 shape, date or date-time.
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? new Date(text)
    : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw usageError(
      `--${option} must be an ISO-8601 time such as 2024-01-15T10:00:00Z, got "${text}"`,
    );
  }
  return date;
}

/** `0:120,2:7` → partition 0 at offset 120, partition 2 at 7; a partition given twice is refused. */
export function parsePositions(option: string, text: string): PartitionOffsets {
  const offsets: PartitionOffsets = new Map();
  for (const pair of text.split(',')) {
    const match = /^(\d+):(\d+)$/.exec(pair);
    if (match === null || offsets.has(Number(match[1]))) {
      throw usageError(
        `--${option} takes partition:offset pairs such as 0:120,1:98, got "${text}"`,
      );
    }
    offsets.set(Number(match[1]), BigInt(match[2]!));
  }
  return offsets;
}
