/**
 * Sends a batch's rejected records to `<topic><suffix>` in one send, in offset order, before the
 * batch's offsets are committed: a record is never committed without its effects or its dead
 * letter.
 */
import { isRetryable } from '../../platform/index.ts';
import { deadLetterRecord, summarizeError } from '../dead-letter.ts';
import type { EventProducer } from '../kafka/index.ts';
import type { Rejected } from './classify.ts';
import { wait } from './retries.ts';
import type { RetryContext } from './retries.ts';

export interface DeadLetterTarget {
  producer: EventProducer;
  topicSuffix: string;
  groupId: string;
}

export async function sendDeadLetters<DB>(
  ctx: RetryContext<DB>,
  target: DeadLetterTarget,
  rejected: Rejected[],
): Promise<void> {
  if (rejected.length === 0) return;
  const { metrics, logger } = ctx;
  const sorted = [...rejected].sort((a, b) => (a.record.offset < b.record.offset ? -1 : 1));
  const records = sorted.map((r) =>
    deadLetterRecord(r.record, r.error, {
      groupId: target.groupId,
      topicSuffix: target.topicSuffix,
      attempts: r.attempts,
      firstFailureAt: r.firstFailureAt,
      lastFailureAt: r.lastFailureAt,
    }),
  );
  for (let attempt = 1; ; attempt++) {
    try {
      await target.producer.send(records);
      break;
    } catch (err) {
      // Not retryable (auth, a closed producer) never heals by waiting: fail the consumer
      // without committing, rather than spin or drop the record. Kafka being unreachable is
      // an outage like the database's: waited out for as long as the consumer runs.
      if (!isRetryable(err)) throw err;
      metrics.outage(summarizeError(err).code);
      logger.warn({ err, attempt }, 'sending dead letters failed; retrying');
      await wait(ctx, attempt);
    }
  }
  for (const r of sorted) {
    const error = summarizeError(r.error);
    metrics.deadLettered(error.code, r.eventType);
    logger.error(
      {
        code: error.code,
        error: error.message,
        topic: r.record.topic,
        partition: r.record.partition,
        offset: String(r.record.offset),
        event_type: r.eventType,
        attempts: r.attempts,
      },
      `record dead-lettered to ${r.record.topic}${target.topicSuffix}`,
    );
  }
}
