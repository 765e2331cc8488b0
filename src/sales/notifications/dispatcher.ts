/**
 * Delivers pending notifications through their channels, after the transaction that wrote them
 * has committed. At least once: a crash between send and mark sends again after the lease.
 */
import type { Database } from '../../platform/database.ts';
import { isAppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
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
  /** Attempts before a notification is marked failed. Default: 5. */
  maxAttempts?: number;
  /** How often to look for retries and rows left by a crash, besides `kick()`. Default: 5000. */
  pollIntervalMs?: number;
  /** How long a claimed row is hidden from other dispatchers; keep it above channel timeouts. Default: 60000. */
  leaseMs?: number;
  /** Delay before retry n is initialMs * 2^(n-1), capped at maxMs. Default: 1000 and 300000. */
  backoff?: { initialMs?: number; maxMs?: number };
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

export function createNotificationDispatcher(
  options: NotificationDispatcherOptions,
): NotificationDispatcher {
  const { database, logger } = options;
  const batchSize = options.batchSize ?? 50;
  const maxAttempts = options.maxAttempts ?? 5;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const initialMs = options.backoff?.initialMs ?? 1_000;
  const maxMs = options.backoff?.maxMs ?? 300_000;
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
      const giveUp = !retryable || row.attempts >= maxAttempts;
      const delay = Math.min(maxMs, initialMs * 2 ** Math.max(0, row.attempts - 1));
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
