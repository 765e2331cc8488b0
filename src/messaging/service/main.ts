/**
 * The one `main` of every service: read the configuration (exit 2 naming bad variables), start
 * the service with real resources, stop it gracefully on SIGTERM/SIGINT (a second signal exits at
 * once). A service's main.ts is `await runMain(itsDefinition)`.
 */
import { configOrExit, createLogger, loadServiceConfig, runService } from '../../platform/index.ts';
import type { ServiceDefinition } from './definition.ts';
import { startService } from './start.ts';

export async function runMain<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  environment: Record<string, string | undefined> = process.env,
): Promise<void> {
  const { config, settings } = configOrExit(() =>
    loadServiceConfig(definition.settings, environment),
  );
  const logger = createLogger(definition.name, config.logLevel);
  await runService({
    name: definition.name,
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    start: (fatal) => startService(definition, config, settings, { logger, onFatal: fatal }),
  });
}
