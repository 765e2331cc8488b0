/**
 * The replay dry run, shared by `npm run cli -- replay` and Sales' ops route (replay-runner.ts):
 * the inventory topic's range is consumed by a shadow Sales, the Sales service as its main
 * builds it but on a throwaway PGlite database in a temporary folder (seeded from live Sales:
 * shadow.ts says with what), with a consumer group of its own that never commits, a producer
 * that sends nothing (no sales event, no dead letter leaves it) and notification channels that
 * deliver nothing. Then what it did is compared, event by event, with what live Sales did, read
 * over live Sales' database (read only).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEnvelope } from '../contract/index.ts';
import {
  buildService,
  createRangeConsumer,
  serviceMigrations,
  topicOffsets,
} from '../messaging/index.ts';
import type {
  EventProducer,
  IncomingRecord,
  KafkaConnectionOptions,
  PartitionOffsets,
  PartitionRange,
  ServiceDefinition,
  TopicPosition,
} from '../messaging/index.ts';
import {
  AppError,
  createLogger,
  createMetricsRegistry,
  headerTenancy,
  migrate,
  openDatabase,
} from '../platform/index.ts';
import type { Config, Database } from '../platform/index.ts';
import type { SalesOptions, SalesParts } from './app.ts';
import type { SalesDB } from './db.ts';
import { SalesErrorCodes } from './errors.ts';
import type { SalesSettings } from './settings.ts';
import { compareWithLive, seedShadow, silentChannels } from './shadow.ts';
import type {
  EventDifference,
  ForecastDifference,
  SeedSummary,
  ShadowComparison,
} from './shadow.ts';

/** Differences kept (and printed by the CLI) one by one; the rest are counted. */
export const MAX_REPLAY_DIFFERENCES = 50;

export interface ReplayDryRunOptions {
  conn: KafkaConnectionOptions;
  config: Config;
  settings: SalesSettings;
  topic: string;
  /** What to read (resolveRanges): the caller resolves them first, to report or bound them. */
  ranges: readonly PartitionRange[];
  /** The --from position: a time seeds the demand history before it and the alerts open at it. */
  from: TopicPosition;
  tenant?: string;
  eventType?: string;
  /** Live Sales' database, read only. */
  live: Database<SalesDB>;
  /** The Sales service (app.ts' salesService), passed in so that app.ts can host dry runs too. */
  service: (options: SalesOptions) => ServiceDefinition<SalesDB, SalesSettings, SalesParts>;
  /** Where the shadow's temporary folder is made. Default: the OS temporary folder. */
  workDir?: string;
  /** Stops the shadow early: the dry run rejects with ERP_SALES_REPLAY_FAILED (retryable). */
  signal?: AbortSignal;
  /** Called as it goes: the shadow seeded, then after each batch the shadow consumed. */
  onProgress?: (progress: ReplayProgress) => void;
}

export type ReplayProgress =
  | { stage: 'seeded'; dir: string; groupId: string; seeded: SeedSummary }
  | { stage: 'reading'; read: number; total: number };

export type ReplayDifference =
  ({ kind: 'event' } & EventDifference) | ({ kind: 'forecast' } & ForecastDifference);

export interface ReplayResult {
  ranges: PartitionRange[];
  read: number;
  filtered: number;
  seeded: SeedSummary;
  /** Records the shadow would have dead-lettered. */
  deadLetters: number;
  /** Sales events the shadow would have published. */
  published: number;
  comparison: ShadowComparison;
  /** The first MAX_REPLAY_DIFFERENCES differences, events and forecasts in the order found. */
  differences: ReplayDifference[];
  /** Differences found beyond those. */
  moreDifferences: number;
}

/** Start and end offsets per partition, within what the topic still holds. */
export async function resolveRanges(
  conn: KafkaConnectionOptions,
  topic: string,
  from: TopicPosition,
  to: TopicPosition | undefined,
): Promise<PartitionRange[]> {
  const [earliest, latest] = await Promise.all([
    topicOffsets(conn, topic, 'earliest'),
    topicOffsets(conn, topic, 'latest'),
  ]);
  const at = async (position: TopicPosition): Promise<PartitionOffsets> =>
    position instanceof Date ? topicOffsets(conn, topic, position) : position;
  const starts = await at(from);
  const ends = to === undefined ? latest : await at(to);
  const ranges: PartitionRange[] = [];
  for (const [partition, end] of latest) {
    const start = starts.get(partition);
    if (start === undefined) continue;
    const first = earliest.get(partition) ?? 0n;
    // Retention may have deleted the start: the oldest record left is where reading can begin.
    const clampedStart = start < first ? first : start > end ? end : start;
    const wanted = ends.get(partition) ?? end;
    ranges.push({ partition, start: clampedStart, end: wanted > end ? end : wanted });
  }
  return ranges.sort((a, b) => a.partition - b.partition);
}

/** Records in the ranges. */
export const recordsIn = (ranges: readonly PartitionRange[]): number =>
  ranges.reduce((n, r) => n + Math.max(0, Number(r.end - r.start)), 0);

/** Headers when present (the relay sets them), else the envelope, decides what a filter keeps. */
function recordFilter(
  tenant: string | undefined,
  eventType: string | undefined,
): ((record: IncomingRecord) => boolean) | undefined {
  if (tenant === undefined && eventType === undefined) return undefined;
  return (record) => {
    let recordTenant = record.headers['tenant_id'];
    let recordType = record.headers['event_type'];
    if (recordTenant === undefined || recordType === undefined) {
      try {
        const { metadata } = decodeEnvelope(record.value);
        recordTenant = metadata.tenant_id;
        recordType = metadata.event_type;
      } catch {
        // Unreadable: it belongs to no tenant or type, so a filter leaves it out.
        return false;
      }
    }
    return (
      (tenant === undefined || recordTenant === tenant) &&
      (eventType === undefined || recordType === eventType)
    );
  };
}

/** A producer that sends nothing: the shadow's sales events and dead letters stay here, counted. */
function countingProducer(
  dlqSuffix: string,
): EventProducer & { deadLetters: number; published: number } {
  const producer = {
    deadLetters: 0,
    published: 0,
    send(records: ReadonlyArray<{ topic: string }>) {
      for (const r of records) {
        if (r.topic.endsWith(dlqSuffix)) producer.deadLetters++;
        else producer.published++;
      }
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  return producer;
}

export function replayFailed(cause: unknown): AppError {
  const detail =
    cause instanceof Error
      ? `${'code' in cause ? `${String(cause.code)}: ` : ''}${cause.message}`
      : String(cause);
  return new AppError(SalesErrorCodes.REPLAY_FAILED, `the shadow Sales stopped: ${detail}`, {
    retryable: false,
    cause,
  });
}

export async function replayDryRun(options: ReplayDryRunOptions): Promise<ReplayResult> {
  const { conn, config, topic, ranges } = options;
  const total = recordsIn(ranges);
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'erp-replay-'));
  const shadow = await openDatabase<SalesDB>({ dataDir: dir });
  try {
    // A group of its own, which never commits: the live group's offsets are not touched.
    const groupId = `${config.kafka.consumerGroup}-replay-${randomUUID().slice(0, 8)}`;
    const shadowConfig: Config = { ...config, kafka: { ...config.kafka, consumerGroup: groupId } };
    const settings: SalesSettings = options.settings;
    const service = options.service({ channels: silentChannels(settings) });
    await migrate(shadow, serviceMigrations(service, settings, shadowConfig));
    const seeded = await seedShadow(options.live, shadow, {
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(options.from instanceof Date ? { before: options.from } : {}),
    });
    options.onProgress?.({ stage: 'seeded', dir, groupId, seeded });

    const filter = recordFilter(options.tenant, options.eventType);
    const consumer = createRangeConsumer(conn, {
      topic,
      groupId,
      ranges,
      ...(filter === undefined ? {} : { filter }),
      onProgress: (read) => options.onProgress?.({ stage: 'reading', read, total }),
    });
    const producer = countingProducer('.dlq');
    const stopped = Promise.withResolvers<never>();
    // Settled after the race too (a late onFatal, an abort): never an unhandled rejection.
    stopped.promise.catch(() => undefined);
    const aborted = new Error('aborted');
    const abort = () => stopped.reject(aborted);
    const app = buildService(service, {
      config: shadowConfig,
      settings,
      database: shadow,
      producer,
      consumer,
      logger: createLogger('replay-shadow', 'silent'),
      metrics: createMetricsRegistry('sales-replay', false),
      authenticator: headerTenancy(),
      onFatal: (err) => stopped.reject(err),
    });
    options.signal?.addEventListener('abort', abort, { once: true });
    let summary;
    try {
      if (options.signal?.aborted === true) abort();
      await Promise.race([app.start(), stopped.promise]);
      summary = await Promise.race([consumer.finished, stopped.promise]);
    } catch (err) {
      if (err === aborted) {
        throw new AppError(SalesErrorCodes.REPLAY_FAILED, 'the dry run was stopped early', {
          retryable: true,
        });
      }
      throw replayFailed(err);
    } finally {
      options.signal?.removeEventListener('abort', abort);
      // Publishes what committed (into the counting producer) and stops the workers.
      await app.stop();
    }

    const differences: ReplayDifference[] = [];
    let found = 0;
    const keep = (difference: ReplayDifference) => {
      if (found++ < MAX_REPLAY_DIFFERENCES) differences.push(difference);
    };
    const comparison = await compareWithLive(shadow, options.live, {
      onEventDifference: (d) => keep({ kind: 'event', ...d }),
      onForecastDifference: (d) => keep({ kind: 'forecast', ...d }),
    });
    return {
      ranges: [...ranges],
      read: summary.read,
      filtered: summary.filtered,
      seeded,
      deadLetters: producer.deadLetters,
      published: producer.published,
      comparison,
      differences,
      moreDifferences: Math.max(0, found - MAX_REPLAY_DIFFERENCES),
    };
  } finally {
    await shadow.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line per difference, as the CLI prints it. */
export function describeDifference(d: ReplayDifference): string {
  if (d.kind === 'forecast') {
    return `forecast ${d.tenantId}/${d.productId}: ${Object.entries(d.fields)
      .map(
        ([f, [live, shadowValue]]) => `${f} live ${String(live)} → replay ${String(shadowValue)}`,
      )
      .join(', ')}`;
  }
  const effect = (e: { change: string; priority: string; notifications: number }) =>
    `${e.change} ${e.priority} (${e.notifications} notification${e.notifications === 1 ? '' : 's'})`;
  return `event ${d.eventId} ${d.tenantId}/${d.productId}: live ${d.live === undefined ? 'has no trace of it' : effect(d.live)} → replay ${effect(d.shadow)}`;
}

/** What the CLI prints to stdout: the differences kept, how many more, and the summary. */
export function replayReport(r: ReplayResult): string[] {
  const c = r.comparison;
  const changes = (m: Record<string, number>) =>
    ['opened', 'escalated', 'updated'].map((k) => `${m[k] ?? 0} ${k}`).join(', ');
  return [
    ...r.differences.map(describeDifference),
    ...(r.moreDifferences > 0 ? [`… and ${r.moreDifferences} more differences`] : []),
    `records: ${r.read} read, ${r.filtered} filtered out, ${r.deadLetters} would be dead-lettered`,
    `low-stock events: ${c.events} applied by the replay, ${c.differing} differ from live (${c.missingLive} not applied live)`,
    `alerts: replay ${changes(c.shadowChanges)}; live ${changes(c.liveChanges)}`,
    `notifications: replay ${c.shadowNotifications}, live ${c.liveNotifications}`,
    `forecasts: ${c.forecastsCompared} compared, ${c.forecastsDiffering} differ`,
    `sales events the replay would publish: ${r.published}`,
  ];
}
