/**
 * Errors raised by the event contract.
 *
 * Same shape as `AppError` in src/platform/errors.ts (code, message, retryable, status, context),
 * redeclared here because the contract depends on zod only. A contract violation is a property
 * of the bytes, so trying again never helps: `retryable` is always false and the consumer
 * dead-letters (or skips) the record.
 */
import type { z } from 'zod';

/** Every code the contract raises. Stable: callers match on these, never on message text. */
export const CONTRACT_ERROR_CODES = [
  'ERP_EVT_EMPTY',
  'ERP_EVT_MALFORMED_JSON',
  'ERP_EVT_INVALID_ENVELOPE',
  'ERP_EVT_MISSING_TENANT',
  'ERP_EVT_UNSUPPORTED_VERSION',
  'ERP_EVT_INVALID_PAYLOAD',
  'ERP_EVT_UPCAST_FAILED',
  'ERP_EVT_INVALID_ARGUMENT',
] as const;

export type ContractErrorCode = (typeof CONTRACT_ERROR_CODES)[number];

/** One validation problem; `path` is dotted from the envelope root, e.g. `payload.current_stock`. */
export interface ContractIssue {
  path: string;
  message: string;
}

export interface ContractErrorOptions {
  /** Validation problems behind the error. Default: []. */
  issues?: readonly ContractIssue[];
  cause?: unknown;
  /** Small, JSON-safe facts that help an operator (event_id, event_type). Default: {}. */
  context?: Record<string, unknown>;
}

export class ContractError extends Error {
  readonly code: ContractErrorCode;
  readonly retryable = false as const;
  /** A contract violation that reaches a route is the caller's fault. */
  readonly status = 400 as const;
  readonly issues: readonly ContractIssue[];
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ContractErrorCode, message: string, options: ContractErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ContractError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      issues: this.issues,
      ...this.context,
    };
  }
}

export function isContractError(err: unknown): err is ContractError {
  return err instanceof ContractError;
}

/** Flattens zod issues to `{ path, message }`, with `prefix` prepended to every path. */
export function toContractIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): ContractIssue[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
  }));
}

/** `a.b: message; c: message` for error messages and logs. */
export function describeIssues(issues: readonly ContractIssue[]): string {
  return issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`).join('; ');
}
