import { AppError } from '../../src/platform/errors.ts';

/**
 * The local Kafka scripts (single broker and cluster) raise `ERP_KAFKA_*` codes; call it with the
 * code as a literal so test/docs/errors.test.ts finds it and checks docs/errors.md lists it.
 */
export const kafkaError = (code: string, message: string, context: Record<string, unknown> = {}) =>
  new AppError(`ERP_KAFKA_${code}`, message, { context });
