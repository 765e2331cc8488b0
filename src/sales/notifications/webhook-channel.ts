import { notificationFailed } from '../errors.ts';
import type { Notification, NotificationChannel } from './channel.ts';

export interface WebhookChannelOptions {
  /** Receiver URL; each notification is POSTed there as JSON. Required. */
  url: string;
  /** Channel name stored on notification rows. Default: 'webhook'. */
  name?: string;
  /** Time allowed for one request, response included. Default: 5000. */
  timeoutMs?: number;
  /** Extra request headers (e.g. a shared secret). Default: none. */
  headers?: Record<string, string>;
}

/**
 * POSTs `{ id, tenant_id, alert_id, priority, message }`. A 2xx is delivered; anything else is an
 * ERP_SALES_NOTIFICATION_FAILED, retryable for timeouts, network errors, 408, 429 and 5xx.
 * The notification id doubles as an idempotency key for receivers, since delivery is at least once.
 */
export function createWebhookChannel(options: WebhookChannelOptions): NotificationChannel {
  const name = options.name ?? 'webhook';
  const timeoutMs = options.timeoutMs ?? 5_000;
  const url = new URL(options.url);
  return {
    name,
    async send(notification: Notification) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': notification.id,
            ...options.headers,
          },
          body: JSON.stringify({
            id: notification.id,
            tenant_id: notification.tenantId,
            alert_id: notification.alertId,
            priority: notification.priority,
            message: notification.message,
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        const timedOut = (cause as Error).name === 'TimeoutError';
        throw notificationFailed(
          name,
          timedOut
            ? `no response within ${timeoutMs} ms`
            : `request failed: ${(cause as Error).message}`,
          { retryable: true, cause },
        );
      }
      // Drain the body so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return;
      const retryable =
        response.status === 408 || response.status === 429 || response.status >= 500;
      throw notificationFailed(name, `receiver answered ${response.status}`, {
        retryable,
        status: response.status,
      });
    },
  };
}
