/**
 * Codes raised by the consuming side of messaging. The two `ERP_EVT_*` codes are contract
 * violations that only show once the Kafka record is seen next to its envelope (header, key), so
 * they live here rather than in src/contract.
 */
import { AppError } from '../platform/index.ts';

export const MessagingErrorCodes = {
  /** The record's `tenant_id` header differs from the envelope's tenant. Dead-lettered. */
  TENANT_MISMATCH: 'ERP_EVT_TENANT_MISMATCH',
  /** An `event_id`, `event_type` or `event_version` header differs from the envelope. Dead-lettered. */
  HEADER_MISMATCH: 'ERP_EVT_HEADER_MISMATCH',
  /** The record key is not the one the contract prescribes (`messageKeyOf`). Dead-lettered. */
  WRONG_KEY: 'ERP_EVT_WRONG_KEY',
  /** A second handler for one event type. A wiring bug. */
  DUPLICATE_HANDLER: 'ERP_MSG_DUPLICATE_HANDLER',
  /** A handler registered for a type the contract does not know. A wiring bug. */
  UNKNOWN_EVENT_TYPE: 'ERP_MSG_UNKNOWN_EVENT_TYPE',
  /** The consumer was stopped while a batch waited to retry; the batch is not committed. */
  STOPPED: 'ERP_MSG_STOPPED',
  /** `start()` called twice, or after `stop()`. */
  STATE: 'ERP_MSG_STATE',
  /** A handler failed with something that carries no code of ours (a bug, a raw driver error). */
  UNEXPECTED: 'ERP_MSG_UNEXPECTED',
  /** The outbox relay was given a table that does not exist (migrations not run?). */
  OUTBOX_UNKNOWN_TABLE: 'ERP_OUTBOX_UNKNOWN_TABLE',
} as const;

export type MessagingErrorCode = (typeof MessagingErrorCodes)[keyof typeof MessagingErrorCodes];

export function tenantMismatchError(header: string, envelopeTenant: string): AppError {
  return new AppError(
    MessagingErrorCodes.TENANT_MISMATCH,
    `tenant_id header "${header}" differs from the envelope's tenant_id "${envelopeTenant}"`,
    { retryable: false, context: { header, tenant_id: envelopeTenant } },
  );
}

export function headerMismatchError(header: string, value: string, envelope: string): AppError {
  return new AppError(
    MessagingErrorCodes.HEADER_MISMATCH,
    `${header} header "${value}" differs from the envelope's "${envelope}"`,
    { retryable: false, context: { header, value, envelope } },
  );
}

export function wrongKeyError(actual: string | null, expected: string): AppError {
  return new AppError(
    MessagingErrorCodes.WRONG_KEY,
    `record key ${actual === null ? 'is missing' : `"${actual}"`}, expected "${expected}"`,
    { retryable: false, context: { key: actual, expected_key: expected } },
  );
}

export function stoppedError(): AppError {
  return new AppError(
    MessagingErrorCodes.STOPPED,
    'consumer stopped while a batch was waiting to retry; it will be redelivered',
    { retryable: true },
  );
}

export function unknownOutboxTableError(table: string): AppError {
  return new AppError(
    MessagingErrorCodes.OUTBOX_UNKNOWN_TABLE,
    `outbox table "${table}" does not exist`,
    { context: { table } },
  );
}
