/**
 * Delivers pending notifications through their channels, after the transaction that wrote them
 * has committed. At least once: a crash between send and mark sends again after the lease.
 */
import { z } from 'zod';
import { createRetryPolicy, delayFor, isAppError, parseOptions } from '../../platform/index.ts';
import type { Database, Logger, RetryPolicy } from '../../platform/index.ts';
import type { SalesDB } from '../db.ts';
import {
  claimDueNotifications,
  markNotificationAttemptFailed,
  markNotificationSent,
} from '../notifications-repository.ts';
import type { StoredNotification } from '../notifications-repository.ts';
import type { NotificationChannel } from './channel.ts';

export interface NotificationDispatcherOptions {
  database: Database<SalesDB>;
  channels: readonly NotificationChannel[];
  logger: Logger;
  /** Notifications claimed and sent (in parallel) per pass. Default: 50. */
  batchSize?: number;
  /** How often to look for retries and rows left by a crash, besides `kick()`. Default: 5000. */
  pollIntervalMs?: number;
  /** How long a claimed row is hidden from other dispatchers; keep it above channel timeouts. Default: 60000. */
  leaseMs?: number;
  /**
   * Attempts per notification before it is marked failed, and the waits between them.
   * Default: NOTIFICATION_RETRY_POLICY (5 attempts, 1 s doubling up to 5 min, no jitter).
   */
  retryPolicy?: Partial<RetryPolicy>;
  /** Clock. Default: () => new Date(). */
  now?: () => Date;
}

export interface NotificationDispatcher {
  /** Delivers what is due now, then polls every `pollIntervalMs`. */
  start(): void;
  /** A hint that notifications were committed; coalesced with a pass already running. */
  kick(): void;
  /** One pass over due notifications; resolves to how many were attempted. */
  deliverDue(): Promise<number>;
  /** Stops polling and waits for the pass in progress. */
  stop(): Promise<void>;
}

/**
 * A receiver that is down is usually down for minutes: 1 s, 2 s, 4 s, 8 s, then failed. No jitter:
 * the lease already spreads retries of different notifications.
 */
export const NOTIFICATION_RETRY_POLICY: RetryPolicy = createRetryPolicy({
  attempts: 5,
  initialDelayMs: 1_000,
  maxDelayMs: 300_000,
  jitter: 0,
});

const tuning = z.object({
  batchSize: z.int().min(1).max(1_000).default(50),
  pollIntervalMs: z.int().min(1).default(5_000),
  leaseMs: z.int().min(1).default(60_000),
});

export function createNotificationDispatcher(
  options: NotificationDispatcherOptions,
): NotificationDispatcher {
  const { database, logger } = options;
  const { batchSize, pollIntervalMs, leaseMs } = parseOptions(
    tuning,
    {
      batchSize: options.batchSize,
      pollIntervalMs: options.pollIntervalMs,
      leaseMs: options.leaseMs,
    },
    'notification dispatcher',
  );
  const policy = createRetryPolicy(options.retryPolicy, NOTIFICATION_RETRY_POLICY);
  const now = options.now ?? (() => new Date());
  const channels = new Map(options.channels.map((c) => [c.name, c]));

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  async function deliverOne(row: StoredNotification): Promise<void> {
    const channel = channels.get(row.channel);
    if (channel === undefined) {
      await markNotificationAttemptFailed(
        database.db,
        row.tenant_id,
        row.id,
        `no channel named ${row.channel} is configured`,
        null,
      );
      return;
    }
    try {
      await channel.send({
        id: row.id,
        tenantId: row.tenant_id,
        alertId: row.alert_id,
        priority: row.priority,
        message: row.message,
      });
      await markNotificationSent(database.db, row.tenant_id, row.id, now());
    } catch (err) {
      const retryable = isAppError(err) ? err.retryable : true;
      const giveUp = !retryable || row.attempts >= policy.attempts;
      const delay = delayFor(policy, row.attempts);
      const message = err instanceof Error ? err.message : String(err);
      await markNotificationAttemptFailed(
        database.db,
        row.tenant_id,
        row.id,
        message,
        giveUp ? null : new Date(now().getTime() + delay),
      );
      logger.warn(
        { err, notificationId: row.id, channel: row.channel, attempts: row.attempts, giveUp },
        'notification not delivered',
      );
    }
  }

  async function deliverDue(): Promise<number> {
    const at = now();
    const rows = await claimDueNotifications(
      database.db,
      at,
      new Date(at.getTime() + leaseMs),
      batchSize,
    );
    await Promise.all(rows.map(deliverOne));
    return rows.length;
  }

  async function loop(): Promise<void> {
    do {
      again = false;
      try {
        // A full batch suggests more are due.
        while (!stopped && (await deliverDue()) === batchSize);
      } catch (err) {
        logger.error({ err }, 'notification dispatch failed; retrying on the next poll');
      }
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = undefined;
    });
  }

  return {
    start() {
      stopped = false;
      kick();
      timer = setInterval(kick, pollIntervalMs);
      timer.unref();
    },
    kick,
    deliverDue,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
