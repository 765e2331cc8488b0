/** Where in a topic, as an operator writes it: an ISO-8601 time, or partition:offset pairs. */
import { parsePartitionOffsets, parseTopicTime } from '../messaging/index.ts';
import type { PartitionOffsets, TopicPosition } from '../messaging/index.ts';
import { usageError } from './errors.ts';

export type Position = TopicPosition;

export function parseTime(option: string, text: string): Date {
  const date = parseTopicTime(text);
  if (date === undefined) {
    throw usageError(
      `--${option} must be an ISO-8601 time such as 2024-01-15T10:00:00Z, got "${text}"`,
    );
  }
  return date;
}

/** `0:120,2:7` → partition 0 at offset 120, partition 2 at 7; a partition given twice is refused. */
export function parsePositions(option: string, text: string): PartitionOffsets {
  const offsets = parsePartitionOffsets(text);
  if (offsets === undefined) {
    throw usageError(`--${option} takes partition:offset pairs such as 0:120,1:98, got "${text}"`);
  }
  return offsets;
}
