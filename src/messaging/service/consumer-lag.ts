/**
 * The kit's worker behind `erp_consumer_lag{group,topic,partition}`: every few seconds it reads
 * the group's lag with the admin API (kafka/group-lag.ts) and sets one series per partition of
 * the consumed topics. Not from the member's assignment: that would say nothing about the
 * partitions another instance owns, or that nobody owns while the group rebalances or its only
 * member is down, which is exactly when lag grows. Every instance of a service reports the same
 * group-wide values; aggregate with `max without (instance)`.
 *
 * Dead-letter topics are not included: the group does not consume them, so it has no lag there
 * (what is in them is counted by `erp_consumer_dead_letters_total`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from '../../platform/index.ts';
import type { GroupLagReader, GroupPartitionLag } from '../kafka/group-lag.ts';
import type { Worker } from './definition.ts';

export interface ConsumerLagOptions {
  /**
   * Opens what reads the group's offsets (createGroupLagReader: an admin client), called by
   * `start()`; `stop()` closes it.
   */
  openReader: () => GroupLagReader;
  groupId: string;
  /** The topics the group consumes. */
  topics: readonly string[];
  registry: Registry;
  logger: Logger;
  /** Time between two reads (CONSUMER_LAG_INTERVAL_MS). Default: 5000. */
  intervalMs?: number;
  /**
   * While reads fail, the last values are kept this long after the last good read, then removed:
   * a lag frozen at its last value would hide that nobody knows it any more, while a missing
   * series is what `absent()` alerts see. Default: 12 intervals (a minute at the default).
   */
  staleAfterMs?: number;
  /** At most one warning per this long while reads keep failing. Default: 60000. */
  warnEveryMs?: number;
}

export const CONSUMER_LAG_METRIC = 'erp_consumer_lag';

type LagLabel = 'group' | 'topic' | 'partition';

export function createConsumerLagWorker(options: ConsumerLagOptions): Worker {
  const { groupId, logger } = options;
  const topics = [...options.topics];
  const intervalMs = options.intervalMs ?? 5_000;
  const staleAfterMs = options.staleAfterMs ?? 12 * intervalMs;
  const warnEveryMs = options.warnEveryMs ?? 60_000;
  const gauge =
    (options.registry.getSingleMetric(CONSUMER_LAG_METRIC) as Gauge<LagLabel> | undefined) ??
    new Gauge<LagLabel>({
      name: CONSUMER_LAG_METRIC,
      help: "Records of a consumed partition the group has not committed yet: high watermark minus the group's committed offset (from the log start offset when it committed none).",
      labelNames: ['group', 'topic', 'partition'],
      registers: [options.registry],
    });

  let reader: GroupLagReader | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  // Series this worker set (others on the registry may belong to another group's worker).
  let series = new Map<string, { topic: string; partition: string }>();
  let lastSuccessAt = Date.now();
  let failures = 0;
  let lastWarnAt = -Infinity;
  // Not reset by a good read: a flapping broker still gets one warning per warnEveryMs.
  let warned = false;

  const publish = (lags: readonly GroupPartitionLag[]): void => {
    const next = new Map<string, { topic: string; partition: string }>();
    for (const { topic, partition, lag } of lags) {
      const labels = { topic, partition: String(partition) };
      next.set(`${topic}\u0000${labels.partition}`, labels);
      gauge.set({ group: groupId, ...labels }, Number(lag));
    }
    // A partition the last read did not return (its topic deleted) has no lag to report.
    for (const [k, labels] of series) if (!next.has(k)) gauge.remove({ group: groupId, ...labels });
    series = next;
  };

  const onFailure = (err: unknown): void => {
    failures++;
    const now = Date.now();
    const stale = now - lastSuccessAt > staleAfterMs;
    if (stale && series.size > 0) publish([]);
    if (now - lastWarnAt < warnEveryMs) return;
    lastWarnAt = now;
    warned = true;
    logger.warn(
      { err, groupId, failures, stale },
      stale
        ? 'reading consumer lag failed; its series are removed until a read succeeds'
        : 'reading consumer lag failed; the last values are kept for now',
    );
  };

  const refresh = async (): Promise<void> => {
    try {
      publish(await reader!.read(groupId, topics));
      if (warned) logger.info({ groupId, failures }, 'reading consumer lag works again');
      warned = false;
      failures = 0;
      lastSuccessAt = Date.now();
    } catch (err) {
      onFailure(err);
    }
  };

  // A chain of timeouts, not an interval: a slow read never overlaps the next one.
  const tick = (): void => {
    if (stopped) return;
    inFlight = refresh().finally(() => {
      inFlight = undefined;
      if (stopped) return;
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    });
  };

  return {
    name: 'consumer-lag',
    start() {
      if (reader !== undefined || stopped) return;
      reader = options.openReader();
      lastSuccessAt = Date.now();
      // Not awaited: a broker that is slow to answer must not hold up the service's start.
      tick();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      // A read stuck on an unreachable broker is waited for 5 s at most; closing the client ends it.
      if (inFlight !== undefined)
        await Promise.race([inFlight, sleep(5_000, undefined, { ref: false })]);
      await reader?.close().catch(() => undefined);
      // A stopped worker's values would stay frozen on /metrics until the process exits.
      publish([]);
    },
  };
}
