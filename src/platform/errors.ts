/**
 * One base class for every error the project raises on purpose.
 *
 * Callers match on `code` (stable, documented in docs/errors.md), never on message text.
 * `retryable` is the only thing a consumer reads to choose between retrying and dead-lettering.
 * `status` is the HTTP status the error maps to when it reaches a route.
 */
export interface AppErrorOptions {
  /** Whether trying the same operation again may succeed. Default: false. */
  retryable?: boolean;
  /** HTTP status when the error reaches a route. Default: 500. */
  status?: number;
  cause?: unknown;
  /** Small, JSON-safe facts that help an operator (ids, field names). */
  context?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly status: number;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.status = options.status ?? 500;
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.context };
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
