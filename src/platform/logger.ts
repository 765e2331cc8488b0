import { writeSync } from 'node:fs';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { traceLogFields } from './tracing.ts';

export type { Logger };

/**
 * Where every logger of the process writes: stdout, one synchronous write per line, and nothing
 * retried. Pino's default destination (sonic-boom) flushes synchronously at exit and, when that
 * write fails with EPIPE (whoever read our stdout, e.g. `npm start`, is gone), sleeps 100 ms and
 * tries again, for ever, inside the exit handler: the process never exits and no later signal is
 * handled. Here a line that cannot be written is lost instead, and once stdout is gone for good
 * (EPIPE, EBADF, …) logging stops: the service runs on, and still stops gracefully on a signal.
 * Synchronous writes also leave nothing to flush at exit. A reader that is alive but does not
 * read blocks us as `console.log` would; one that is gone does not.
 */
function stdoutLines(fd: number): DestinationStream {
  let broken = false;
  return {
    write(line: string): void {
      if (broken) return;
      let rest = Buffer.from(line);
      while (rest.length > 0) {
        try {
          rest = rest.subarray(writeSync(fd, rest));
        } catch (err) {
          // EAGAIN: a non-blocking pipe is full; drop the line rather than spin on it.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') broken = true;
          return;
        }
      }
    },
  };
}

const stdout = stdoutLines(1);

/**
 * JSON logs on stdout; the object comes first: `log.info({ productId }, 'adjusted')`. With tracing
 * on, a line written inside a span carries its `trace_id` and `span_id`.
 */
export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({ name, level, mixin: traceLogFields }, stdout);
}
