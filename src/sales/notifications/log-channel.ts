import type { Logger } from '../../platform/index.ts';
import type { Notification, NotificationChannel } from './channel.ts';

/** Writes notifications to the service log: always available, and what an operator greps for. */
export function createLogChannel(logger: Logger, name = 'log'): NotificationChannel {
  return {
    name,
    send(notification: Notification) {
      logger.warn(
        {
          notificationId: notification.id,
          tenantId: notification.tenantId,
          alertId: notification.alertId,
          priority: notification.priority,
        },
        notification.message,
      );
      return Promise.resolve();
    },
  };
}
