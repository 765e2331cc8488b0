import type { Priority } from '../../contract/index.ts';

/** What a channel delivers: one alert's message to people. */
export interface Notification {
  id: string;
  tenantId: string;
  alertId: string;
  priority: Priority;
  message: string;
}

/**
 * A way to reach people (log, webhook, later email or chat). `send` resolves once the receiver
 * took the notification and rejects otherwise; an AppError with `retryable: false` stops retries.
 */
export interface NotificationChannel {
  /** Stable name stored on each notification row; renaming a channel orphans its pending rows. */
  readonly name: string;
  send(notification: Notification): Promise<void>;
}
