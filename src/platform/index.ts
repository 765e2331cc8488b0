// The platform layer: configuration, errors, retry policy, database, HTTP shell, logs, metrics,
// the process shell. Depends on the contract only; knows nothing of Kafka or the services.
export {
  DEFAULT_HTTP_SETTINGS,
  defineSettings,
  env,
  loadConfig,
  loadServiceConfig,
} from './config.ts';
export type {
  AnySettingsSection,
  Config,
  HttpSettings,
  KafkaSettings,
  SettingsSection,
} from './config.ts';
export { AppError, isAppError, isOutage, isRetryable, PlatformErrorCodes } from './errors.ts';
export type { AppErrorOptions, PlatformErrorCode } from './errors.ts';
export { parseOptions } from './options.ts';
export {
  backoff,
  createRetryPolicy,
  DEFAULT_RETRY_POLICY,
  delayFor,
  shouldRetry,
} from './retry-policy.ts';
export type { RetryPolicy } from './retry-policy.ts';
export type { AdvisoryLock, Database, DatabaseOptions } from './database/database.ts';
export { isUniqueViolation, toDatabaseError } from './database/errors.ts';
export { migrate, readMigrations } from './database/migrations.ts';
export { tenantIsolationMigration } from './database/tenant-isolation.ts';
export type { Migration } from './database/migrations.ts';
export { openDatabase } from './database/open.ts';
export { PLATFORM_HTTP_STATUSES } from './http/errors.ts';
export type { HttpStatusTable } from './http/errors.ts';
export { idempotencyMigration, idempotent, pruneIdempotencyKeys } from './http/idempotency.ts';
export type { StoredResponse, StoreResponse } from './http/idempotency.ts';
export { parseInput, tenantOf } from './http/input.ts';
export { createHttpServer } from './http/server.ts';
export type { DocsOptions } from './http/docs.ts';
export type { RegisteredRoute, ResponseDocs, RouteDocs } from './http/openapi.ts';
export type { AccessOptions, RouteAccess } from './http/access.ts';
export { DEFAULT_RATE_LIMIT } from './http/rate-limit.ts';
export type { RateLimitSettings } from './http/rate-limit.ts';
export {
  createAuthenticator,
  DEV_ISSUER,
  headerTenancy,
  insufficientScope,
  loadDevIssuer,
  SCOPES,
} from './auth/index.ts';
export type {
  Authenticator,
  AuthMode,
  AuthSettings,
  DevIssuer,
  Principal,
  Scope,
} from './auth/index.ts';
export type { HttpOptions, HttpServer } from './http/server.ts';
export { createLogger } from './logger.ts';
export {
  activeContext,
  contextFromHeaders,
  contextWith,
  failSpan,
  linkTo,
  runIn,
  setTracingOn,
  SpanKind,
  SpanStatusCode,
  startTracing,
  traceHeaders,
  traceLogFields,
  tracer,
  tracingOn,
  withSpan,
} from './tracing.ts';
export type {
  Context,
  Link,
  Span,
  TraceExporterName,
  Tracing,
  TracingSettings,
} from './tracing.ts';
export type { Logger } from './logger.ts';
export { createMetricsRegistry } from './metrics.ts';
export { configOrExit, runService } from './service-runner.ts';
export type { RunningService, RunOptions } from './service-runner.ts';
export { retryWhileUnavailable, STARTUP_RETRY_POLICY } from './startup.ts';
