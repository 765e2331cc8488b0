/**
 * Publishes an outbox table to Kafka: leads the table (leadership.ts), runs publishing passes
 * (publisher.ts) when woken by a writer or at its poll interval, backs off while Kafka or the
 * database fails (health.ts, the retry policy), and samples its backlog (backlog.ts). `stop()`
 * publishes what committed before it, bounded by `stopTimeoutMs`.
 */
import { z } from 'zod';
import {
  AppError,
  createRetryPolicy,
  delayFor,
  parseOptions,
  type Database,
  type Logger,
  type RetryPolicy,
} from '../../platform/index.ts';
import { MessagingErrorCodes } from '../errors.ts';
import type { EventProducer } from '../kafka/producer.ts';
import { startBacklogSampler, type BacklogSampler } from './backlog.ts';
import { createRelayHealth } from './health.ts';
import { createLeadership, lockKeyOf, type Leadership } from './leadership.ts';
import { noopRelayMetrics, type RelayMetrics } from './metrics.ts';
import { createPublisher, type Publisher } from './publisher.ts';

export interface OutboxRelayOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with an outbox-shaped table
  database: Database<any>;
  /** Outbox-shaped table (table.ts), optionally schema-qualified (`sales.outbox`). Required. */
  table: string;
  /** NOTIFY channel the writers signal on after commit (see signal.ts). Required. */
  channel: string;
  /** Owned by the caller: the relay never closes it. Required. */
  producer: EventProducer;
  logger: Logger;
  /** Rows read, sent in one `send()` and marked in one UPDATE. Default: 500. */
  batchSize?: number;
  /** Poll period when no notification arrives; also how often a non-leader retries leadership. Default: 1000. */
  pollIntervalMs?: number;
  /** Waits after a failure, by attempts in a row (never given up). Default: RELAY_RETRY_POLICY. */
  retryPolicy?: Partial<RetryPolicy>;
  /** Default: no metrics. See createPrometheusRelayMetrics. */
  metrics?: RelayMetrics;
  /** Longest `stop()` waits for the current pass and the final drain. Default: 10000. */
  stopTimeoutMs?: number;
  /** A send not acknowledged within this time is reported as a failure (and still awaited). Default: 30000. */
  sendTimeoutMs?: number;
  /** The `schema_id` header of each event type (see PublisherOptions.schemaIds). Default: none. */
  schemaIds?: ReadonlyMap<string, string>;
}

/** From 100 ms doubling to 30 s, ±50 %: Kafka elections take seconds, outages longer. */
export const RELAY_RETRY_POLICY: RetryPolicy = createRetryPolicy({
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  jitter: 0.5,
});

const tuning = z.object({
  table: z.string().min(1),
  channel: z.string().min(1),
  batchSize: z.int().min(1).max(10_000).default(500),
  pollIntervalMs: z.int().min(1).default(1000),
  stopTimeoutMs: z.int().min(1).default(10_000),
  sendTimeoutMs: z.int().min(1).default(30_000),
});

export interface OutboxRelay {
  /**
   * Checks the table, starts listening and the publishing loop; the loop runs until `stop()`.
   * Once stopped, a relay cannot start again (ERP_MSG_STATE).
   */
  start(): Promise<void>;
  /** Publishes everything committed so far (bounded by `stopTimeoutMs`), then stops. */
  stop(): Promise<void>;
  /** A hint that rows were committed. */
  wake(): void;
  /** Whether this relay holds the table's leadership (publishes) right now. */
  leads(): boolean;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { database, producer } = options;
  const settings = parseOptions(
    tuning,
    {
      table: options.table,
      channel: options.channel,
      batchSize: options.batchSize,
      pollIntervalMs: options.pollIntervalMs,
      stopTimeoutMs: options.stopTimeoutMs,
      sendTimeoutMs: options.sendTimeoutMs,
    },
    'outbox relay',
  );
  const policy = createRetryPolicy(options.retryPolicy, RELAY_RETRY_POLICY);
  const metrics = options.metrics ?? noopRelayMetrics;
  const log = options.logger.child({ table: settings.table });

  let leadership: Leadership | undefined;
  let publisher: Publisher | undefined;
  let backlog: BacklogSampler | undefined;
  const leads = (): boolean => leadership?.held() ?? false;
  const health = createRelayHealth(log, metrics, () => publisher?.unmarked());

  let starting: Promise<void> | undefined;
  let stopping = false;
  // Set when stop() gave up waiting: the loop leaves at its next step.
  let halted = false;
  let woken = false;
  let interrupt: (() => void) | null = null;
  let interruptOnWake = false;
  let loopDone: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;

  const pause = (ms: number, onWake: boolean): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (interrupt === done) interrupt = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      interrupt = done;
      interruptOnWake = onWake;
    });

  const loop = async (lead: Leadership, publish: Publisher): Promise<void> => {
    for (;;) {
      if (halted) return;
      if (!lead.held()) {
        if (stopping) return;
        let leading: boolean;
        try {
          leading = await lead.acquire();
        } catch (err) {
          health.failed('database', err);
          await pause(delayFor(policy, health.attempts), false);
          continue;
        }
        if (!leading) {
          await pause(settings.pollIntervalMs, false);
          continue;
        }
      }
      woken = false;
      try {
        await publish.pass(() => !halted && lead.held());
      } catch {
        if (halted) return;
        await pause(delayFor(policy, health.attempts), false);
        continue;
      }
      health.succeeded();
      // A wake-up (or stop) during the pass means rows may have committed after its last read.
      if (stopping && !woken) return;
      if (!woken) await pause(settings.pollIntervalMs, true);
    }
  };

  const wake = (): void => {
    if (stopping) return;
    woken = true;
    if (interrupt !== null && interruptOnWake) interrupt();
  };

  return {
    wake,
    leads,

    start() {
      if (stopped !== undefined) {
        return Promise.reject(
          new AppError(MessagingErrorCodes.STATE, 'the outbox relay cannot start once stopped'),
        );
      }
      starting ??= startOnce();
      return starting;
    },

    stop() {
      stopped ??= (async () => {
        // A stop during start waits for it, so that nothing it opens is left running.
        await starting?.catch(() => {});
        if (starting === undefined) return;
        stopping = true;
        woken = true;
        backlog?.stop();
        interrupt?.();
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          loopDone.then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), settings.stopTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (!finished) {
          halted = true;
          interrupt?.();
          log.warn(
            { stopTimeoutMs: settings.stopTimeoutMs },
            'outbox relay stopped before draining; rows stay unpublished',
          );
        }
        await unlisten?.().catch(() => {});
        await leadership?.release();
      })();
      return stopped;
    },
  };

  async function startOnce(): Promise<void> {
    const lead = createLeadership(database, await lockKeyOf(database, settings.table), log);
    const publish = createPublisher({
      db: database.db,
      table: settings.table,
      producer,
      batchSize: settings.batchSize,
      sendTimeoutMs: settings.sendTimeoutMs,
      metrics,
      health,
      ...(options.schemaIds === undefined ? {} : { schemaIds: options.schemaIds }),
    });
    leadership = lead;
    publisher = publish;
    try {
      unlisten = await database.listen(settings.channel, () => wake());
    } catch (err) {
      log.warn({ err, channel: settings.channel }, 'cannot LISTEN; relying on polling');
    }
    backlog = startBacklogSampler({
      db: database.db,
      table: settings.table,
      metrics,
      log,
      active: () => !halted && leads(),
    });
    loopDone = loop(lead, publish).catch((err: unknown) => {
      log.error({ err }, 'outbox relay loop ended unexpectedly');
    });
  }
}
