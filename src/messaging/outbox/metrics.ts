import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the outbox relay reports; the relay never depends on a metrics library directly. */
export interface RelayMetrics {
  /** A batch of `count` events was acknowledged by Kafka and marked published in `seconds`. */
  published(count: number, seconds: number): void;
  /** An attempt to read, send or mark a batch failed; the relay retries it. */
  failed(err: unknown): void;
  /** Unpublished rows and the age of the oldest one (0 when none), sampled at most once per second. */
  backlog(pending: number, oldestAgeSeconds: number): void;
}

export const noopRelayMetrics: RelayMetrics = {
  published() {},
  failed() {},
  backlog() {},
};

/**
 * Prometheus metrics of one relay. `labels` (e.g. `{ table: 'outbox' }`) tell relays sharing a
 * registry apart; every relay on a registry must use the same label names.
 */
export function createPrometheusRelayMetrics(
  registry: Registry,
  labels: Record<string, string> = {},
): RelayMetrics {
  const labelNames = Object.keys(labels);
  // A second relay on the same registry reuses the metrics registered by the first.
  const metric = <M>(name: string, create: () => M): M =>
    (registry.getSingleMetric(name) as M | undefined) ?? create();
  const published = metric(
    'erp_outbox_published_total',
    () =>
      new Counter({
        name: 'erp_outbox_published_total',
        help: 'Outbox events acknowledged by Kafka and marked published.',
        labelNames,
        registers: [registry],
      }),
  );
  const failures = metric(
    'erp_outbox_publish_failures_total',
    () =>
      new Counter({
        name: 'erp_outbox_publish_failures_total',
        help: 'Failed attempts to read, publish or mark an outbox batch (each is retried).',
        labelNames,
        registers: [registry],
      }),
  );
  const pending = metric(
    'erp_outbox_pending',
    () =>
      new Gauge({
        name: 'erp_outbox_pending',
        help: 'Outbox rows not yet published.',
        labelNames,
        registers: [registry],
      }),
  );
  const oldestAge = metric(
    'erp_outbox_oldest_pending_age_seconds',
    () =>
      new Gauge({
        name: 'erp_outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest unpublished outbox row (0 when none).',
        labelNames,
        registers: [registry],
      }),
  );
  const batchSeconds = metric(
    'erp_outbox_publish_batch_seconds',
    () =>
      new Histogram({
        name: 'erp_outbox_publish_batch_seconds',
        help: 'Time to send one outbox batch to Kafka and mark it published.',
        labelNames,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  return {
    published(count, seconds) {
      published.inc(labels, count);
      batchSeconds.observe(labels, seconds);
    },
    failed() {
      failures.inc(labels);
    },
    backlog(count, oldestAgeSeconds) {
      pending.set(labels, count);
      oldestAge.set(labels, oldestAgeSeconds);
    },
  };
}
