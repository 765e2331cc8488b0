/**
 * Replay dry runs hosted by Sales (POST /api/v1/ops/replays): the CLI's dry run (replay.ts),
 * run in Sales' process over Sales' own open database, so that the console can ask for one while
 * Sales runs (a PGlite folder opens in one process only). One at a time, bounded by
 * SALES_REPLAY_MAX_EVENTS before it starts; the last few results are kept in memory. Stopping
 * Sales stops a running one (its shadow closed and its folder deleted) and waits for it.
 */
import { randomUUID } from 'node:crypto';
import type {
  KafkaConnectionOptions,
  PartitionRange,
  ServiceDefinition,
  Worker,
} from '../messaging/index.ts';
import { parseTopicPosition } from '../messaging/index.ts';
import { isAppError } from '../platform/index.ts';
import type { Config, Database, Logger } from '../platform/index.ts';
import type { SalesOptions, SalesParts } from './app.ts';
import type { SalesDB } from './db.ts';
import { replayBusy, replayTooLarge } from './errors.ts';
import { recordsIn, replayDryRun, replayReport, resolveRanges } from './replay.ts';
import type { ReplayResult } from './replay.ts';
import type { ReplayBody } from './schemas.ts';
import type { SalesSettings } from './settings.ts';

/** Finished dry runs kept for GET, oldest dropped first. */
export const KEPT_REPLAYS = 10;

export interface ReplayRunnerOptions {
  conn: KafkaConnectionOptions;
  config: Config;
  settings: SalesSettings;
  /** Live Sales' database (read only here). */
  live: Database<SalesDB>;
  service: (options: SalesOptions) => ServiceDefinition<SalesDB, SalesSettings, SalesParts>;
  logger: Logger;
  /** Where shadows' temporary folders are made. Default: the OS temporary folder. */
  workDir?: string;
}

interface Job {
  id: string;
  request: ReplayBody;
  startedAt: Date;
  finishedAt?: Date;
  ranges: PartitionRange[];
  read: number;
  total: number;
  result?: ReplayResult;
  error?: { code: string; message: string; retryable: boolean };
}

export interface ReplayRunner {
  /**
   * Resolves the range and starts the dry run (answers at once, the run goes on). Rejects with
   * ERP_SALES_REPLAY_BUSY while one runs, ERP_SALES_REPLAY_TOO_LARGE over the bound.
   */
  start(request: ReplayBody): Promise<ReplayView>;
  /** A running or recent dry run; undefined if unknown. */
  get(id: string): ReplayView | undefined;
  /** Stops a running dry run and waits for it (Sales' graceful stop). */
  worker: Worker;
}

export type ReplayView = Record<string, unknown> & {
  id: string;
  state: 'running' | 'done' | 'failed';
  request: ReplayBody;
};

export function createReplayRunner(options: ReplayRunnerOptions): ReplayRunner {
  const { conn, config, settings, logger } = options;
  const topic = config.kafka.inventoryTopic;
  const jobs = new Map<string, Job>();
  let running: { id: string; done?: Promise<void>; controller: AbortController } | undefined;

  const keep = (job: Job) => {
    jobs.set(job.id, job);
    for (const [id, old] of jobs) {
      if (jobs.size <= KEPT_REPLAYS) break;
      if (old.finishedAt !== undefined) jobs.delete(id);
    }
  };

  return {
    async start(request) {
      if (running !== undefined) throw replayBusy(running.id);
      // Taken before the first await: a second request meanwhile is refused too.
      const slot = { id: randomUUID(), controller: new AbortController() };
      running = slot;
      const from = parseTopicPosition(request.from)!;
      const to = request.to === undefined ? undefined : parseTopicPosition(request.to)!;
      let job: Job;
      try {
        const ranges = await resolveRanges(conn, topic, from, to);
        const total = recordsIn(ranges);
        if (total > settings.replayMaxEvents) throw replayTooLarge(total, settings.replayMaxEvents);
        job = { id: slot.id, request, startedAt: new Date(), ranges, read: 0, total };
      } catch (err) {
        running = undefined;
        throw err;
      }
      keep(job);
      const log = logger.child({ replay_id: job.id });
      log.info({ request, records: job.total }, 'replay dry run started');
      running = {
        ...slot,
        done: replayDryRun({
          conn,
          config,
          settings,
          topic,
          ranges: job.ranges,
          from,
          live: options.live,
          service: options.service,
          signal: slot.controller.signal,
          ...(request.tenant === undefined ? {} : { tenant: request.tenant }),
          ...(request.event_type === undefined ? {} : { eventType: request.event_type }),
          ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
          onProgress(p) {
            if (p.stage === 'reading') job.read = p.read;
          },
        })
          .then(
            (result) => {
              job.result = result;
              job.read = result.read;
              log.info(
                { read: result.read, differing: result.comparison.differing },
                'replay dry run done',
              );
            },
            (err: unknown) => {
              job.error = isAppError(err)
                ? { code: err.code, message: err.message, retryable: err.retryable }
                : { code: 'ERP_SALES_REPLAY_FAILED', message: String(err), retryable: false };
              log.error({ err }, 'replay dry run failed');
            },
          )
          .finally(() => {
            job.finishedAt = new Date();
            running = undefined;
          }),
      };
      return viewOf(job);
    },
    get(id) {
      const job = jobs.get(id);
      return job === undefined ? undefined : viewOf(job);
    },
    worker: {
      name: 'replays',
      start() {},
      async stop() {
        const current = running;
        current?.controller.abort();
        await current?.done;
      },
    },
  };
}

function viewOf(job: Job): ReplayView {
  const common = {
    id: job.id,
    request: job.request,
    started_at: job.startedAt.toISOString(),
    ...(job.finishedAt === undefined ? {} : { finished_at: job.finishedAt.toISOString() }),
    progress: { read: job.read, total: job.total },
    ranges: job.ranges.map((r) => ({
      partition: r.partition,
      start: String(r.start),
      end: String(r.end),
    })),
  };
  if (job.error !== undefined) return { ...common, state: 'failed', error: job.error };
  const r = job.result;
  if (r === undefined) return { ...common, state: 'running' };
  return {
    ...common,
    state: 'done',
    summary: {
      read: r.read,
      filtered: r.filtered,
      dead_letters: r.deadLetters,
      published: r.published,
      seeded: r.seeded,
      comparison: r.comparison,
      differing: r.comparison.differing + r.comparison.forecastsDiffering,
    },
    differences: r.differences,
    more_differences: r.moreDifferences,
    // What `npm run cli -- replay` prints on stdout for the same run.
    lines: replayReport(r),
  };
}
