/** Codes of the command-line tool (`npm run cli`). */
import { AppError } from '../platform/index.ts';

export const CliErrorCodes = {
  /** A bad command, option or value; the message says which. Exit status 2. */
  USAGE: 'ERP_CLI_USAGE',
  /** `dlq show` found no record at the given partition and offset. */
  NOT_FOUND: 'ERP_CLI_NOT_FOUND',
  /** `inventory rebuild --verify-only` found products whose row differs from their events. */
  READ_MODEL_DIFFERS: 'ERP_CLI_READ_MODEL_DIFFERS',
  /** The shadow Sales of a `replay` stopped on an error (its cause is in the message). */
  REPLAY_FAILED: 'ERP_CLI_REPLAY_FAILED',
} as const;

export type CliErrorCode = (typeof CliErrorCodes)[keyof typeof CliErrorCodes];

export function usageError(message: string): AppError {
  return new AppError(CliErrorCodes.USAGE, message, { retryable: false });
}

export function deadLetterNotFoundError(
  topic: string,
  partition: number,
  offset: bigint,
): AppError {
  return new AppError(
    CliErrorCodes.NOT_FOUND,
    `no record at ${topic} ${partition}:${offset} (deleted by retention, or not written yet)`,
    { retryable: false, context: { topic, partition, offset: String(offset) } },
  );
}

export function readModelDiffersError(differences: number): AppError {
  return new AppError(
    CliErrorCodes.READ_MODEL_DIFFERS,
    `${differences} product(s) of the read model differ from their events; run without --verify-only to fix them`,
    { retryable: false, context: { differences } },
  );
}

export function replayFailedError(cause: unknown): AppError {
  const detail =
    cause instanceof Error
      ? `${'code' in cause ? `${String(cause.code)}: ` : ''}${cause.message}`
      : String(cause);
  return new AppError(CliErrorCodes.REPLAY_FAILED, `the shadow Sales stopped: ${detail}`, {
    retryable: false,
    cause,
  });
}
