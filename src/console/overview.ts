/**
 * The overview, read by the console in the background every CONSOLE_POLL_MS (never on a
 * service's request path): each service's readiness and metrics (rates from the difference of
 * two scrapes), the consumer group's lag per partition from Kafka's admin API, with a short
 * in-memory time series for the chart, and Sales' open alerts by priority.
 */
import { createGroupLagReader } from '../messaging/index.ts';
import type { GroupLagReader, KafkaConnectionOptions } from '../messaging/index.ts';
import type { Logger } from '../platform/index.ts';
import { maxOf, parsePrometheusText, sumOf } from './prom-text.ts';
import type { Sample } from './prom-text.ts';
import type { Upstream } from './upstream.ts';

export interface ServiceStatus {
  name: string;
  url: string;
  up: boolean;
  ready: boolean;
  /** Undefined when /metrics could not be read (then `metricsError` says why). */
  metricsError?: string;
  publishedTotal: number;
  publishedPerSec: number;
  consumedTotal: number;
  consumedPerSec: number;
  failuresTotal: number;
  deadLettersTotal: number;
  outboxPending: number;
  outboxOldestAgeSeconds: number;
}

export interface AlertsByPriority {
  priority: string;
  open: number;
  oldestAgeSeconds: number;
}

export interface Overview {
  at: string;
  services: ServiceStatus[];
  lag: {
    group: string;
    topics: readonly string[];
    error?: string;
    partitions: {
      topic: string;
      partition: number;
      lag: string;
      committed: string | null;
      end: string;
    }[];
    /** uPlot's shape: times (s), then one series per partition in `labels` order. */
    series: { labels: string[]; data: (number | null)[][] };
  };
  alerts: AlertsByPriority[];
}

export interface OverviewOptions {
  services: readonly { name: string; url: string }[];
  conn: KafkaConnectionOptions;
  groupId: string;
  topics: readonly string[];
  upstream: Upstream;
  pollMs: number;
  historyPoints: number;
  logger: Logger;
}

export interface OverviewPoller {
  current(): Overview;
  /** Reads once now (tests, and the first poll). */
  poll(): Promise<Overview>;
  start(): void;
  stop(): Promise<void>;
}

/** As Sales labels its metrics (lower case); shown in upper case like the API's. */
const PRIORITIES = ['critical', 'high', 'medium', 'low'];

export function createOverviewPoller(options: OverviewOptions): OverviewPoller {
  const { upstream, logger } = options;
  let lagReader: GroupLagReader | undefined;
  const previous = new Map<string, { at: number; published: number; consumed: number }>();
  const times: number[] = [];
  const series = new Map<string, (number | null)[]>();
  let overview: Overview = {
    at: new Date().toISOString(),
    services: [],
    lag: {
      group: options.groupId,
      topics: options.topics,
      partitions: [],
      series: { labels: [], data: [[]] },
    },
    alerts: PRIORITIES.map((p) => ({ priority: p.toUpperCase(), open: 0, oldestAgeSeconds: 0 })),
  };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<Overview> | undefined;

  async function serviceStatus(s: {
    name: string;
    url: string;
  }): Promise<{ status: ServiceStatus; samples: Sample[] }> {
    const status: ServiceStatus = {
      name: s.name,
      url: s.url,
      up: false,
      ready: false,
      publishedTotal: 0,
      publishedPerSec: 0,
      consumedTotal: 0,
      consumedPerSec: 0,
      failuresTotal: 0,
      deadLettersTotal: 0,
      outboxPending: 0,
      outboxOldestAgeSeconds: 0,
    };
    let samples: Sample[] = [];
    try {
      const ready = await upstream.get(s.name, `${s.url}/readyz`, { scope: 'ops' });
      status.up = true;
      status.ready = ready.status === 200;
      const metrics = await upstream.get(s.name, `${s.url}/metrics`, { scope: 'ops' });
      if (metrics.status !== 200) {
        status.metricsError = `/metrics answered ${metrics.status}`;
        return { status, samples };
      }
      samples = parsePrometheusText(metrics.text);
    } catch (err) {
      status.metricsError = (err as Error).message;
      return { status, samples };
    }
    const now = Date.now();
    status.publishedTotal = sumOf(samples, 'erp_outbox_published_total');
    status.consumedTotal = sumOf(samples, 'erp_consumer_events_total');
    status.failuresTotal =
      sumOf(samples, 'erp_outbox_publish_failures_total') +
      sumOf(samples, 'erp_consumer_retries_total');
    status.deadLettersTotal = sumOf(samples, 'erp_consumer_dead_letters_total');
    status.outboxPending = sumOf(samples, 'erp_outbox_pending');
    status.outboxOldestAgeSeconds = maxOf(samples, 'erp_outbox_oldest_pending_age_seconds');
    const before = previous.get(s.name);
    if (before !== undefined && now > before.at) {
      const seconds = (now - before.at) / 1000;
      // A restarted service starts its counters at 0 again: no negative rate.
      status.publishedPerSec = Math.max(0, (status.publishedTotal - before.published) / seconds);
      status.consumedPerSec = Math.max(0, (status.consumedTotal - before.consumed) / seconds);
    }
    previous.set(s.name, {
      at: now,
      published: status.publishedTotal,
      consumed: status.consumedTotal,
    });
    return { status, samples };
  }

  async function readLag(): Promise<Pick<Overview['lag'], 'partitions' | 'error'>> {
    try {
      lagReader ??= createGroupLagReader(options.conn);
      const rows = await lagReader.read(options.groupId, options.topics);
      return {
        partitions: rows.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          lag: String(r.lag),
          committed: r.committed === undefined ? null : String(r.committed),
          end: String(r.end),
        })),
      };
    } catch (err) {
      // A new admin connection next time: this one may be broken.
      await lagReader?.close().catch(() => {});
      lagReader = undefined;
      return { partitions: [], error: (err as Error).message };
    }
  }

  function record(partitions: Overview['lag']['partitions']): Overview['lag']['series'] {
    times.push(Date.now() / 1000);
    for (const p of partitions) {
      const label = `${p.topic}[${p.partition}]`;
      if (!series.has(label)) series.set(label, Array<number | null>(times.length - 1).fill(null));
    }
    const seen = new Set(partitions.map((p) => `${p.topic}[${p.partition}]`));
    for (const [label, values] of series) {
      const p = partitions.find((x) => `${x.topic}[${x.partition}]` === label);
      values.push(seen.has(label) && p !== undefined ? Number(p.lag) : null);
    }
    // A short window in memory: the chart is for "is it moving", Prometheus keeps history.
    while (times.length > options.historyPoints) {
      times.shift();
      for (const values of series.values()) values.shift();
    }
    const labels = [...series.keys()].sort();
    return { labels, data: [[...times], ...labels.map((l) => [...series.get(l)!])] };
  }

  async function poll(): Promise<Overview> {
    const [statuses, lag] = await Promise.all([
      Promise.all(options.services.map(serviceStatus)),
      readLag(),
    ]);
    const sales = statuses.find((s) => s.samples.some((x) => x.name === 'erp_sales_open_alerts'));
    const alerts = PRIORITIES.map((priority) => {
      const samples = sales?.samples ?? [];
      const ages = samples.filter(
        (x) =>
          x.name === 'erp_sales_oldest_open_alert_age_seconds' && x.labels['priority'] === priority,
      );
      return {
        priority: priority.toUpperCase(),
        open: sumOf(samples, 'erp_sales_open_alerts', { priority }),
        oldestAgeSeconds: ages.reduce((m, x) => Math.max(m, x.value), 0),
      };
    });
    overview = {
      at: new Date().toISOString(),
      services: statuses.map((s) => s.status),
      lag: {
        group: options.groupId,
        topics: options.topics,
        ...lag,
        series: record(lag.partitions),
      },
      alerts,
    };
    return overview;
  }

  const pollOnce = (): Promise<Overview> =>
    (running ??= poll().finally(() => {
      running = undefined;
    }));

  return {
    current: () => overview,
    poll: pollOnce,
    start() {
      void pollOnce().catch((err: unknown) => logger.warn({ err }, 'overview poll failed'));
      timer = setInterval(() => {
        pollOnce().catch((err: unknown) => logger.warn({ err }, 'overview poll failed'));
      }, options.pollMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
      await lagReader?.close().catch(() => {});
    },
  };
}
