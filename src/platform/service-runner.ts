/**
 * The process shell of a service: start it, print where it listens, and on SIGTERM/SIGINT stop
 * it gracefully within a bound; a second signal exits at once. A failure to start, or a fatal
 * error later, exits non-zero with the error's code so that a supervisor notices. A service
 * started with an IPC channel (by `npm start`) also stops gracefully when that channel closes:
 * its supervisor died. Its output going nowhere (EPIPE) changes nothing (see logger.ts).
 */
import { isAppError, PlatformErrorCodes } from './errors.ts';
import type { Logger } from './logger.ts';

export interface RunningService {
  /** Graceful stop: drain HTTP, finish work in hand, flush, close resources. */
  stop(): Promise<void>;
}

export interface RunOptions {
  name: string;
  logger: Logger;
  /** Default: 30 s (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: number;
  start(fatal: (err: unknown) => void): Promise<RunningService>;
}

export async function runService(options: RunOptions): Promise<void> {
  const { logger } = options;
  let service: RunningService | undefined;
  let stopping = false;

  const shutdown = async (reason: string, exitCode: number) => {
    if (stopping) {
      logger.warn({ reason }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ reason }, `${options.name} stopping`);
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.shutdownTimeoutMs }, 'graceful stop timed out; exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs);
    timer.unref();
    try {
      await service?.stop();
      logger.info(`${options.name} stopped`);
    } catch (err) {
      logger.error({ err }, 'error while stopping');
      exitCode = exitCode || 1;
    }
    clearTimeout(timer);
    process.exit(exitCode);
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  // Whoever read our output is gone: a write to process.stdout or stderr (a library's console
  // line) then fails with EPIPE, which unhandled would crash the service without its graceful
  // stop. Nothing is lost that could still be shown.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  watchSupervisor(() => {
    if (!stopping) void shutdown('supervisor gone', 0);
  });

  const fatal = (err: unknown) => {
    logger.fatal({ err, code: isAppError(err) ? err.code : undefined }, `${options.name} failed`);
    void shutdown('fatal error', 1);
  };

  try {
    service = await options.start(fatal);
  } catch (err) {
    const code = isAppError(err) ? err.code : PlatformErrorCodes.START_FAILED;
    logger.fatal({ err, code }, `${options.name} could not start: ${(err as Error).message}`);
    process.exitCode = 1;
    // Let pino flush, then leave even if some handle (a half-open client) is still referenced.
    setTimeout(() => process.exit(1), 200).unref();
    return;
  }
  if (stopping) await service.stop();
}

/**
 * Calls `gone` once the process that started us with an IPC channel (`npm start`) is gone. A
 * supervisor killed with -9 sends no SIGTERM, and our own process group (so that Ctrl-C reaches
 * only the supervisor) gets no SIGHUP either; left alone we would run, unseen, for ever. The IPC
 * channel rather than polling the parent's pid: the kernel closes the channel the moment the
 * parent dies, with no polling interval and no pid reuse to get wrong, and a parent that wants its
 * child to outlive it (a process manager, a test) simply opens none. No channel, nothing watched.
 */
function watchSupervisor(gone: () => void): void {
  // Started with a channel (process.send exists even once it closed), already closed: gone.
  if (typeof process.send !== 'function') return;
  if (!process.connected) {
    gone();
    return;
  }
  process.once('disconnect', gone);
  // The channel never keeps the process alive by itself: the service's own handles do.
  process.channel?.unref();
}

/**
 * `load()`, or exit 2 with one line naming the bad variables: a service never starts
 * half-configured, and an operator never has to read a stack trace to find a typo.
 */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    const code = isAppError(err) ? err.code : PlatformErrorCodes.CFG_INVALID;
    process.stderr.write(`error ${code}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
