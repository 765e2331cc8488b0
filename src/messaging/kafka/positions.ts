/**
 * Where in a topic, as an operator writes it: an ISO-8601 time, or partition:offset pairs. The
 * CLI's options and Sales' replay route read the same text with these, so both accept the same.
 */
import type { PartitionOffsets } from './group-offsets.ts';

export type TopicPosition = Date | PartitionOffsets;

/** An ISO-8601 date or date-time; undefined for anything else. */
export function parseTopicTime(text: string): Date | undefined {
  // Date.parse accepts too much ("1"); ask for the ISO-8601 shape, date or date-time.
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? new Date(text)
    : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date;
}

/** `0:120,2:7` → partition 0 at offset 120, partition 2 at 7; undefined if malformed or a partition repeats. */
export function parsePartitionOffsets(text: string): PartitionOffsets | undefined {
  const offsets: PartitionOffsets = new Map();
  for (const pair of text.split(',')) {
    const match = /^(\d+):(\d+)$/.exec(pair);
    if (match === null || offsets.has(Number(match[1]))) return undefined;
    offsets.set(Number(match[1]), BigInt(match[2]!));
  }
  return offsets;
}

/** Whether the text is meant as partition:offset pairs (else it is read as a time). */
export const looksLikeOffsets = (text: string): boolean => /^\d+:\d+(,\d+:\d+)*$/.test(text);

/** Offsets when the text looks like them, else a time; undefined when it is neither. */
export function parseTopicPosition(text: string): TopicPosition | undefined {
  return looksLikeOffsets(text) ? parsePartitionOffsets(text) : parseTopicTime(text);
}
