// The Sales service's public surface: what its main, the system tests, the bench and operators'
// tools use. Anything else in this folder is Sales' own business.
export { SALES_OUTBOX_CHANNEL, salesService } from './app.ts';
export type { SalesOptions, SalesParts } from './app.ts';
export type { SalesDB } from './db.ts';
export { SalesErrorCodes } from './errors.ts';
export type { SalesErrorCode } from './errors.ts';
export { SALES_OUTBOX_TABLE, SALES_SOURCE_SERVICE } from './handlers/low-stock.ts';
export type { Notification, NotificationChannel } from './notifications/channel.ts';
export {
  describeDifference,
  MAX_REPLAY_DIFFERENCES,
  recordsIn,
  replayDryRun,
  replayReport,
  resolveRanges,
} from './replay.ts';
export type {
  ReplayDifference,
  ReplayDryRunOptions,
  ReplayProgress,
  ReplayResult,
} from './replay.ts';
export { salesSettings } from './settings.ts';
export type { SalesSettings } from './settings.ts';
export { compareWithLive, seedShadow, silentChannels } from './shadow.ts';
export type {
  CompareOptions,
  EventDifference,
  EventEffect,
  ForecastDifference,
  SeedOptions,
  SeedSummary,
  ShadowComparison,
} from './shadow.ts';
