/**
 * `npm run start:console`: the operator's console on CONSOLE_HOST:CONSOLE_PORT (127.0.0.1:3000).
 * Same process shell as the services: configuration parsed once (exit 2 naming bad variables),
 * graceful stop on SIGTERM/SIGINT or when `npm start` goes away.
 */
import {
  configOrExit,
  createAuthenticator,
  createLogger,
  loadServiceConfig,
  runService,
} from '../platform/index.ts';
import { buildConsole } from './app.ts';
import { consoleSettings, isLoopback } from './settings.ts';

const { config, settings } = configOrExit(() => loadServiceConfig(consoleSettings, process.env));
const logger = createLogger('console', config.logLevel);

await runService({
  name: 'console',
  logger,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  async start() {
    const authenticator = await createAuthenticator(config.auth, config.dataDir);
    const operatorConsole = await buildConsole({ config, settings, authenticator, logger });
    await operatorConsole.start();
    const address = await operatorConsole.http.listen({ host: settings.host, port: settings.port });
    if (!isLoopback(settings.host)) {
      // Loud on purpose: the console redrives dead letters and reads every tenant's alerts.
      logger.warn(
        { host: settings.host, auth: authenticator.mode },
        `CONSOLE BOUND TO ${settings.host}, NOT 127.0.0.1: anyone who reaches it${authenticator.mode === 'none' ? ' (AUTH_MODE=none: with no token at all)' : ' with an ops token'} can read every tenant and redrive dead letters`,
      );
    }
    if (authenticator.mode === 'none') logger.warn('console authentication: NONE (AUTH_MODE=none)');
    logger.info({ address }, `console listening on ${address}`);
    return operatorConsole;
  },
});
