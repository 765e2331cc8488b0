/**
 * `npm run cli -- replay --from <time | partition:offset,...> [--to ...] [--tenant t]
 * [--event-type type] [--apply]`.
 *
 * Dry run (the default): the inventory topic's range is consumed by a shadow Sales, the Sales
 * service built as its main builds it but on a throwaway PGlite database in a temporary folder
 * (seeded from live Sales: src/sales/shadow.ts says with what), with a consumer group of its
 * own that never commits, a producer that sends nothing (no sales event, no dead letter leaves
 * it) and notification channels that deliver nothing. Then what it did is compared, event by
 * event, with what live Sales did, read over live Sales' database.
 *
 * --apply: moves the live group (KAFKA_CONSUMER_GROUP) back to the start so that live Sales
 * consumes the range again when it starts; refused while the group has members. The inbox makes
 * the events already applied no-ops, so only what live Sales missed (or dead-lettered and was
 * fixed since) takes effect.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEnvelope, tenantIdSchema } from '../contract/index.ts';
import {
  buildService,
  createRangeConsumer,
  groupMembers,
  kafkaConnectionFrom,
  openServiceDatabase,
  resetGroupOffsets,
  serviceMigrations,
  topicOffsets,
} from '../messaging/index.ts';
import type {
  EventProducer,
  IncomingRecord,
  KafkaConnectionOptions,
  PartitionOffsets,
  PartitionRange,
} from '../messaging/index.ts';
import {
  createLogger,
  createMetricsRegistry,
  headerTenancy,
  loadServiceConfig,
  migrate,
  openDatabase,
} from '../platform/index.ts';
import type { Config, Database } from '../platform/index.ts';
import {
  compareWithLive,
  salesService,
  salesSettings,
  seedShadow,
  silentChannels,
} from '../sales/index.ts';
import type {
  EventDifference,
  SalesDB,
  SalesSettings,
  SeedSummary,
  ShadowComparison,
} from '../sales/index.ts';
import type { Output } from './dlq.ts';
import { parsePositions, parseTime } from './positions.ts';
import type { Position } from './positions.ts';
import { parseCommand } from './args.ts';
import { replayFailedError, usageError } from './errors.ts';

export const REPLAY_USAGE = `Usage: npm run cli -- replay --from <start> [--to <end>] [--tenant <id>] [--event-type <type>] [--apply]

Re-consumes the inventory topic ($KAFKA_INVENTORY_TOPIC) from <start> into a shadow Sales and
prints what it would do differently from live Sales: alerts opened or escalated, their
priority, notifications, forecasts. Nothing live changes (dry run).

  --from <start>       an ISO-8601 time (the first record at or after it, per partition:
                       ListOffsets by timestamp) or partition:offset,... (partitions left out
                       are not replayed)
  --to <end>           where to stop, not included: a time or partition:offset,...
                       (default: the end of each partition when the replay starts)
  --tenant <id>        only this tenant's events (dry run only)
  --event-type <type>  only events of this type (dry run only)
  --apply              instead of a dry run, move the live consumer group ($KAFKA_CONSUMER_GROUP,
                       default sales-service-group) back to <start>: Sales re-consumes from there
                       when it starts, its inbox skipping what it applied already. Refused
                       (ERP_KAFKA_GROUP_NOT_EMPTY) while the group has live members.
  -h, --help           this text

The shadow starts from live Sales' products, orders and, for a --from time, the demand history
before it and the alerts open at it (at their priority then), read from SALES_DATABASE_URL, else the PGlite folder DATA_DIR/sales/pglite (stop Sales first
there: one process at a time). Progress goes to stderr, differences and the summary to stdout.`;

const PROGRESS_EVERY_MS = 1000;
/** Differences printed one per line; the rest are counted. */
const MAX_LINES = 50;

export interface ReplayOptions {
  conn: KafkaConnectionOptions;
  config: Config;
  settings: SalesSettings;
  topic: string;
  from: Position;
  /** Default: the end of each partition at the start. */
  to?: Position;
  tenant?: string;
  eventType?: string;
  /** Live Sales' database, read only. */
  live: Database<SalesDB>;
  /** Where the shadow's temporary folder is made. Default: the OS temporary folder. */
  workDir?: string;
}

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
}

/** Start and end offsets per partition, within what the topic still holds. */
export async function resolveRanges(
  conn: KafkaConnectionOptions,
  topic: string,
  from: Position,
  to: Position | undefined,
): Promise<PartitionRange[]> {
  const [earliest, latest] = await Promise.all([
    topicOffsets(conn, topic, 'earliest'),
    topicOffsets(conn, topic, 'latest'),
  ]);
  const at = async (position: Position): Promise<PartitionOffsets> =>
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

export async function runReplay(options: ReplayOptions, output: Output): Promise<ReplayResult> {
  const { conn, config, topic } = options;
  const ranges = await resolveRanges(conn, topic, options.from, options.to);
  const total = ranges.reduce((n, r) => n + Number(r.end - r.start), 0);
  output.err(
    `replay ${topic}: ${ranges.map((r) => `${r.partition}:${r.start}..${r.end}`).join(', ') || 'no partition'} (${total} records)`,
  );
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'erp-replay-'));
  const shadow = await openDatabase<SalesDB>({ dataDir: dir });
  try {
    // A group of its own, which never commits: the live group's offsets are not touched.
    const groupId = `${config.kafka.consumerGroup}-replay-${randomUUID().slice(0, 8)}`;
    const shadowConfig: Config = { ...config, kafka: { ...config.kafka, consumerGroup: groupId } };
    const settings: SalesSettings = options.settings;
    const service = salesService({ channels: silentChannels(settings) });
    await migrate(shadow, serviceMigrations(service, settings, shadowConfig));
    const seeded = await seedShadow(options.live, shadow, {
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(options.from instanceof Date ? { before: options.from } : {}),
    });
    output.err(
      `shadow: ${dir}, seeded with ${seeded.products} products, ${seeded.orders} orders, ${seeded.demand_history} demand rows, ${seeded.alerts} open alerts; group ${groupId}`,
    );

    let lastProgress = Date.now();
    const filter = recordFilter(options.tenant, options.eventType);
    const consumer = createRangeConsumer(conn, {
      topic,
      groupId,
      ranges,
      ...(filter === undefined ? {} : { filter }),
      onProgress(read) {
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        output.err(
          `replay: ${read}/${total} records (${Math.floor((100 * read) / Math.max(total, 1))} %)`,
        );
      },
    });
    const producer = countingProducer('.dlq');
    const fatal = Promise.withResolvers<never>();
    const app = buildService(service, {
      config: shadowConfig,
      settings,
      database: shadow,
      producer,
      consumer,
      logger: createLogger('replay-shadow', 'silent'),
      metrics: createMetricsRegistry('sales-replay', false),
      authenticator: headerTenancy(),
      onFatal: (err) => fatal.reject(err),
    });
    await app.start();
    let summary;
    try {
      summary = await Promise.race([consumer.finished, fatal.promise]);
    } catch (err) {
      throw replayFailedError(err);
    } finally {
      // Publishes what committed (into the counting producer) and stops the workers.
      await app.stop();
    }
    output.err(`replay: ${summary.read}/${total} records read, ${summary.filtered} filtered out`);

    let printed = 0;
    const comparison = await compareWithLive(shadow, options.live, {
      onEventDifference(d) {
        if (printed++ < MAX_LINES) output.out(describeEvent(d));
      },
      onForecastDifference(d) {
        if (printed++ < MAX_LINES) {
          output.out(
            `forecast ${d.tenantId}/${d.productId}: ${Object.entries(d.fields)
              .map(
                ([f, [live, shadowValue]]) =>
                  `${f} live ${String(live)} → replay ${String(shadowValue)}`,
              )
              .join(', ')}`,
          );
        }
      },
    });
    if (printed > MAX_LINES) output.out(`… and ${printed - MAX_LINES} more differences`);
    const result: ReplayResult = {
      ranges,
      read: summary.read,
      filtered: summary.filtered,
      seeded,
      deadLetters: producer.deadLetters,
      published: producer.published,
      comparison,
    };
    for (const line of summaryLines(result)) output.out(line);
    return result;
  } finally {
    await shadow.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function describeEvent(d: EventDifference): string {
  const effect = (e: { change: string; priority: string; notifications: number }) =>
    `${e.change} ${e.priority} (${e.notifications} notification${e.notifications === 1 ? '' : 's'})`;
  return `event ${d.eventId} ${d.tenantId}/${d.productId}: live ${d.live === undefined ? 'has no trace of it' : effect(d.live)} → replay ${effect(d.shadow)}`;
}

function summaryLines(r: ReplayResult): string[] {
  const c = r.comparison;
  const changes = (m: Record<string, number>) =>
    ['opened', 'escalated', 'updated'].map((k) => `${m[k] ?? 0} ${k}`).join(', ');
  return [
    `records: ${r.read} read, ${r.filtered} filtered out, ${r.deadLetters} would be dead-lettered`,
    `low-stock events: ${c.events} applied by the replay, ${c.differing} differ from live (${c.missingLive} not applied live)`,
    `alerts: replay ${changes(c.shadowChanges)}; live ${changes(c.liveChanges)}`,
    `notifications: replay ${c.shadowNotifications}, live ${c.liveNotifications}`,
    `forecasts: ${c.forecastsCompared} compared, ${c.forecastsDiffering} differ`,
    `sales events the replay would publish: ${r.published}`,
  ];
}

/** --apply: the live group back to the start, if it has no members. */
export async function applyReplay(
  conn: KafkaConnectionOptions,
  groupId: string,
  topic: string,
  from: Position,
  output: Output,
): Promise<PartitionOffsets> {
  const ranges = await resolveRanges(conn, topic, from, undefined);
  const offsets: PartitionOffsets = new Map(ranges.map((r) => [r.partition, r.start]));
  // Checked here for the message; resetGroupOffsets checks again right before the commit.
  const members = await groupMembers(conn, groupId);
  if (members.length > 0) output.err(`group ${groupId} has ${members.length} member(s)`);
  await resetGroupOffsets(conn, groupId, topic, offsets);
  output.out(
    `group ${groupId} on ${topic} moved to ${[...offsets].map(([p, o]) => `${p}:${o}`).join(', ')}; ` +
      `Sales re-consumes from there when it starts (its inbox skips what it applied already)`,
  );
  return offsets;
}

export async function replayCommand(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined> | undefined,
): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      from: { type: 'string' },
      to: { type: 'string' },
      tenant: { type: 'string' },
      'event-type': { type: 'string' },
      apply: { type: 'boolean' },
    },
    REPLAY_USAGE,
    (line) => output.out(line),
  );
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw usageError(`replay takes no positional arguments, got "${positionals.join(' ')}"`);
  }
  if (values.from === undefined)
    throw usageError('replay needs --from <ISO time | partition:offset,...>');
  const from = parsePosition('from', values.from);
  const to = values.to === undefined ? undefined : parsePosition('to', values.to);
  if (values.tenant !== undefined && !tenantIdSchema.safeParse(values.tenant).success) {
    throw usageError(`--tenant "${values.tenant}" is not a tenant id`);
  }
  const apply = values.apply === true;
  if (apply) {
    for (const name of ['to', 'tenant', 'event-type'] as const) {
      // A group reset cannot filter or stop: live Sales consumes everything after the start.
      if (values[name] !== undefined) throw usageError(`--${name} does not apply to --apply`);
    }
  }
  const { config, settings } = loadServiceConfig(salesSettings, env ?? process.env);
  const conn = kafkaConnectionFrom(config.kafka, 'cli');
  const topic = config.kafka.inventoryTopic;
  if (apply) {
    await applyReplay(conn, config.kafka.consumerGroup, topic, from, output);
    return 0;
  }
  const live = await openServiceDatabase(salesService(), settings, config);
  try {
    await runReplay(
      {
        conn,
        config,
        settings,
        topic,
        from,
        live,
        ...(to === undefined ? {} : { to }),
        ...(values.tenant === undefined ? {} : { tenant: values.tenant }),
        ...(values['event-type'] === undefined ? {} : { eventType: values['event-type'] }),
      },
      output,
    );
    return 0;
  } finally {
    await live.close();
  }
}

function parsePosition(option: string, text: string): Position {
  return /^\d+:\d+(,\d+:\d+)*$/.test(text) ? parsePositions(option, text) : parseTime(option, text);
}
