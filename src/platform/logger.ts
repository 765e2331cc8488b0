import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; the object comes first: `log.info({ productId }, 'adjusted')`. */
export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({ name, level });
}
