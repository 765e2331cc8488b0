// The Sales service's public surface: what main, the system tests and operators' tools use.
export { buildSalesApp, SALES_OUTBOX_CHANNEL } from './app.ts';
export type { SalesApp, SalesAppDeps } from './app.ts';
export type { SalesDB } from './db.ts';
export { SALES_ERROR_CODES } from './errors.ts';
export type { SalesErrorCode } from './errors.ts';
export {
  createLowStockHandler,
  SALES_OUTBOX_TABLE,
  SALES_SOURCE_SERVICE,
} from './handlers/low-stock.ts';
export type { LowStockHandlerOptions } from './handlers/low-stock.ts';
export { handleProductCreated } from './handlers/product-created.ts';
export { handleStockAdjusted } from './handlers/stock-adjusted.ts';
export type { Notification, NotificationChannel } from './notifications/channel.ts';
export { createLogChannel } from './notifications/log-channel.ts';
export { createWebhookChannel } from './notifications/webhook-channel.ts';
export type { WebhookChannelOptions } from './notifications/webhook-channel.ts';
export { createNotificationDispatcher } from './notifications/dispatcher.ts';
export type {
  NotificationDispatcher,
  NotificationDispatcherOptions,
} from './notifications/dispatcher.ts';
export { registerSalesRoutes } from './routes.ts';
export type { SalesRoutesOptions } from './routes.ts';
