/**
 * What the inbox consumer reports. An interface so that a service without metrics, or a test,
 * passes its own; `createPrometheusConsumerMetrics` is the production one.
 */
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { isEventType } from '../../contract/index.ts';

export type SkipReason = 'unknown_type' | 'no_handler';

export interface ConsumerMetrics {
  /**
   * An event's effects committed; `seconds` is its handler's run time, `ageSeconds` the time from
   * its Kafka record's timestamp to now (undefined when the record has none).
   */
  processed(eventType: string, seconds: number, ageSeconds?: number): void;
  /** The inbox already held the event: no effect. */
  duplicate(eventType: string): void;
  /** Not for this consumer: a type the contract does not know, or no handler registered. */
  skipped(eventType: string, reason: SkipReason): void;
  /** Written to the dead-letter topic; `eventType` when the envelope could be read. */
  deadLettered(code: string, eventType?: string): void;
  /** A batch completed (records of every outcome), `seconds` from receipt to completion. */
  batch(size: number, seconds: number): void;
  /** A record failed with a retryable error and is tried again (it counts against its attempts). */
  retry(code: string): void;
  /**
   * An infrastructure outage (database unreachable, connection lost, Kafka refusing dead letters)
   * made the consumer wait and try again; no record's attempts are spent on it.
   */
  outage(code: string): void;
}

export const noopConsumerMetrics: ConsumerMetrics = {
  processed: () => {},
  duplicate: () => {},
  skipped: () => {},
  deadLettered: () => {},
  batch: () => {},
  retry: () => {},
  outage: () => {},
};

/**
 * The event_type label: a type of the contract, else `unknown`. Records carry whatever type their
 * producer wrote; one label value per unknown type would let any producer grow the metrics (and
 * Prometheus' memory) without bound.
 */
export function eventTypeLabel(eventType: string | undefined): string {
  return eventType !== undefined && isEventType(eventType) ? eventType : 'unknown';
}

/**
 * Event age buckets, 1 s to a day: a healthy consumer sees a second or less; a consumer that was
 * down, or a backlog replayed, shows minutes to hours, and the buckets say which.
 */
const AGE_BUCKETS = [
  0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400,
];

/**
 * prom-client metrics: `erp_consumer_events_total{event_type,outcome}` (outcome processed,
 * duplicate, skipped, dead_lettered), `erp_consumer_batch_seconds`, `erp_consumer_handler_seconds
 * {event_type}`, `erp_consumer_event_age_seconds{event_type}`, `erp_consumer_dead_letters_total
 * {code}`, `erp_consumer_skipped_total{event_type,reason}`, `erp_consumer_retries_total{code}`,
 * `erp_consumer_outage_retries_total{code}`. Reuses metrics already in `registry`, so two
 * consumers of one service can share it.
 */
export function createPrometheusConsumerMetrics(registry: Registry): ConsumerMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    buckets: number[],
  ): Histogram<L> =>
    (registry.getSingleMetric(name) as Histogram<L> | undefined) ??
    new Histogram({ name, help, labelNames, buckets, registers: [registry] });

  const events = counter('erp_consumer_events_total', 'Events consumed, by outcome', [
    'event_type',
    'outcome',
  ]);
  const deadLetters = counter('erp_consumer_dead_letters_total', 'Records dead-lettered', ['code']);
  const skips = counter('erp_consumer_skipped_total', 'Events skipped, by reason', [
    'event_type',
    'reason',
  ]);
  const retries = counter('erp_consumer_retries_total', 'Retries after transient failures', [
    'code',
  ]);
  const outages = counter(
    'erp_consumer_outage_retries_total',
    'Retries while the infrastructure (database, Kafka) was unavailable',
    ['code'],
  );
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  const batchSeconds = histogram(
    'erp_consumer_batch_seconds',
    'Batch processing time',
    [],
    buckets,
  );
  const handlerSeconds = histogram(
    'erp_consumer_handler_seconds',
    'Handler run time per event',
    ['event_type'],
    buckets,
  );
  // The record's timestamp is when the producer (the relay) published it, so this is time spent
  // in Kafka and in the consumer's queue: consumer lag in seconds rather than in records.
  const eventAge = histogram(
    'erp_consumer_event_age_seconds',
    "Time from an event's Kafka record timestamp to its effects committing",
    ['event_type'],
    AGE_BUCKETS,
  );

  return {
    processed(eventType, seconds, ageSeconds) {
      const label = { event_type: eventTypeLabel(eventType) };
      events.inc({ ...label, outcome: 'processed' });
      handlerSeconds.observe(label, seconds);
      if (ageSeconds !== undefined) eventAge.observe(label, ageSeconds);
    },
    duplicate(eventType) {
      events.inc({ event_type: eventTypeLabel(eventType), outcome: 'duplicate' });
    },
    skipped(eventType, reason) {
      events.inc({ event_type: eventTypeLabel(eventType), outcome: 'skipped' });
      skips.inc({ event_type: eventTypeLabel(eventType), reason });
    },
    deadLettered(code, eventType) {
      events.inc({ event_type: eventTypeLabel(eventType), outcome: 'dead_lettered' });
      deadLetters.inc({ code });
    },
    batch(_size, seconds) {
      batchSeconds.observe(seconds);
    },
    retry(code) {
      retries.inc({ code });
    },
    outage(code) {
      outages.inc({ code });
    },
  };
}
