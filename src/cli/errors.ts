/** Codes of the command-line tool (`npm run cli`). */
import { AppError } from '../platform/index.ts';

export const CliErrorCodes = {
  /** A bad command, option or value; the message says which. Exit status 2. */
  USAGE: 'ERP_CLI_USAGE',
  /** `dlq show` found no record at the given partition and offset. */
  NOT_FOUND: 'ERP_CLI_NOT_FOUND',
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
