// The operator's console: a web UI over the services' APIs, their metrics and Kafka's admin API.
export { buildConsole } from './app.ts';
export type { Console, ConsoleResources } from './app.ts';
export { ConsoleErrorCodes } from './errors.ts';
export { createOverviewPoller } from './overview.ts';
export type { Overview, OverviewPoller } from './overview.ts';
export { parsePrometheusText } from './prom-text.ts';
export { PAGES, SESSION_COOKIE } from './routes.ts';
export { consoleSettings, isLoopback } from './settings.ts';
export type { ConsoleSettings } from './settings.ts';
