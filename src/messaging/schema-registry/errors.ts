/** Codes of the schema registry client and of a service's schema check at start. */
import { AppError } from '../../platform/index.ts';

export const SchemaRegistryErrorCodes = {
  /** The registry does not answer (connection refused, DNS, timeout). Retryable. */
  UNREACHABLE: 'ERP_SCHEMA_REGISTRY_UNREACHABLE',
  /** The registry answered with an error we do not expect (its code and message are kept); retryable when 5xx. */
  FAILED: 'ERP_SCHEMA_REGISTRY_FAILED',
  /** A subject has no schema, or not the contract's: `schemas register` has not been run. */
  NOT_REGISTERED: 'ERP_SCHEMA_NOT_REGISTERED',
  /** The contract's schema is incompatible with what a subject holds; `fields` names the changes. */
  INCOMPATIBLE: 'ERP_SCHEMA_INCOMPATIBLE',
} as const;

export function unreachableError(url: string, cause: unknown): AppError {
  const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
  return new AppError(
    SchemaRegistryErrorCodes.UNREACHABLE,
    `schema registry at ${url} ${timedOut ? 'did not answer in time' : 'cannot be reached'}: ${
      cause instanceof Error
        ? cause.cause instanceof Error
          ? cause.cause.message
          : cause.message
        : String(cause)
    }`,
    { retryable: true, cause, context: { url } },
  );
}

export function failedError(what: string, status: number, body: string): AppError {
  return new AppError(
    SchemaRegistryErrorCodes.FAILED,
    `schema registry refused to ${what}: HTTP ${status} ${body.slice(0, 500)}`,
    // A 5xx is the registry's own trouble (starting, its storage away): it may pass.
    { retryable: status >= 500, context: { status } },
  );
}

export function notRegisteredError(subject: string, why: string): AppError {
  return new AppError(
    SchemaRegistryErrorCodes.NOT_REGISTERED,
    `${subject}: ${why}; run \`npm run cli -- schemas register\``,
    { context: { subject } },
  );
}

export function incompatibleError(
  subject: string,
  fields: readonly string[],
  detail: string,
): AppError {
  return new AppError(
    SchemaRegistryErrorCodes.INCOMPATIBLE,
    `${subject}: the contract's schema is incompatible with the registered one${detail === '' ? '' : `: ${detail}`}`,
    { context: { subject, fields } },
  );
}
