/**
 * `npm run cli -- replay --from <time | partition:offset,...> [--to ...] [--tenant t]
 * [--event-type type] [--apply]`.
 *
 * Dry run (the default): src/sales/replay.ts, the same function Sales' ops route runs (a shadow
 * Sales consumes the range and is compared with live Sales over live Sales' database); this
 * file resolves the range, prints progress on stderr and the differences and summary on stdout.
 *
 * --apply: moves the live group (KAFKA_CONSUMER_GROUP) back to the start so that live Sales
 * consumes the range again when it starts; refused while the group has members. The inbox makes
 * the events already applied no-ops, so only what live Sales missed (or dead-lettered and was
 * fixed since) takes effect.
 */
import { tenantIdSchema } from '../contract/index.ts';
import {
  groupMembers,
  kafkaConnectionFrom,
  looksLikeOffsets,
  openServiceDatabase,
  resetGroupOffsets,
} from '../messaging/index.ts';
import type {
  KafkaConnectionOptions,
  PartitionOffsets,
  PartitionRange,
} from '../messaging/index.ts';
import { isAppError, loadServiceConfig } from '../platform/index.ts';
import type { Config, Database } from '../platform/index.ts';
import {
  recordsIn,
  replayDryRun,
  replayReport,
  resolveRanges,
  SalesErrorCodes,
  salesService,
  salesSettings,
} from '../sales/index.ts';
import type { ReplayResult, SalesDB, SalesSettings } from '../sales/index.ts';
import type { Output } from './dlq.ts';
import { parsePositions, parseTime } from './positions.ts';
import type { Position } from './positions.ts';
import { parseCommand } from './args.ts';
import { replayFailedError, usageError } from './errors.ts';

export { resolveRanges };
export type { ReplayResult };

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

export async function runReplay(options: ReplayOptions, output: Output): Promise<ReplayResult> {
  const { conn, topic } = options;
  const ranges: PartitionRange[] = await resolveRanges(conn, topic, options.from, options.to);
  const total = recordsIn(ranges);
  output.err(
    `replay ${topic}: ${ranges.map((r) => `${r.partition}:${r.start}..${r.end}`).join(', ') || 'no partition'} (${total} records)`,
  );
  let lastProgress = Date.now();
  let result: ReplayResult;
  try {
    result = await replayDryRun({
      conn,
      config: options.config,
      settings: options.settings,
      topic,
      ranges,
      from: options.from,
      live: options.live,
      service: salesService,
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(options.eventType === undefined ? {} : { eventType: options.eventType }),
      ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
      onProgress(p) {
        if (p.stage === 'seeded') {
          const s = p.seeded;
          output.err(
            `shadow: ${p.dir}, seeded with ${s.products} products, ${s.orders} orders, ${s.demand_history} demand rows, ${s.alerts} open alerts; group ${p.groupId}`,
          );
          return;
        }
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        output.err(
          `replay: ${p.read}/${p.total} records (${Math.floor((100 * p.read) / Math.max(p.total, 1))} %)`,
        );
      },
    });
  } catch (err) {
    // The shadow's own failure, under the CLI's code (its cause in the message).
    if (isAppError(err) && err.code === SalesErrorCodes.REPLAY_FAILED) {
      throw replayFailedError(err.cause ?? err);
    }
    throw err;
  }
  output.err(`replay: ${result.read}/${total} records read, ${result.filtered} filtered out`);
  for (const line of replayReport(result)) output.out(line);
  return result;
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
  return looksLikeOffsets(text) ? parsePositions(option, text) : parseTime(option, text);
}
