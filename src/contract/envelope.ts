/**
 * The envelope every event travels in: `{ metadata, payload }`, field names as in the design
 * document. Unknown fields are kept, not rejected, so that a producer on a newer minor version
 * can add fields without breaking older consumers.
 */
import { z } from 'zod';
import { boundedText, idSchema, LIMITS } from './limits.ts';
import { prioritySchema } from './priority.ts';

/** The version this code emits. */
export const CURRENT_EVENT_VERSION = '1.0';
/** The only major version this code reads; minors are backward compatible by rule. */
export const SUPPORTED_MAJOR_VERSION = 1;

export const EVENT_VERSION_PATTERN = /^(\d+)\.(\d+)$/;
/** Lowercase dotted `<context>.<event>`, e.g. `inventory.low_stock`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const TENANT_ID_PATTERN = /^[A-Za-z0-9._-]+$/;

export const tenantIdSchema = z.string().min(1).max(128).regex(TENANT_ID_PATTERN);

export const metadataSchema = z.looseObject({
  event_id: idSchema,
  event_type: z.string().max(LIMITS.id).regex(EVENT_TYPE_PATTERN),
  event_version: z.string().max(20).regex(EVENT_VERSION_PATTERN),
  timestamp: z.iso.datetime({ offset: true }),
  source_service: boundedText(LIMITS.sourceService).pipe(z.string().min(1)),
  tenant_id: tenantIdSchema,
  correlation_id: boundedText(LIMITS.correlationId),
  priority: prioritySchema,
});

export type Metadata = z.output<typeof metadataSchema>;

/** The payload is checked against its event type's schema later, in `decodeEvent`. */
export const envelopeSchema = z.looseObject({
  metadata: metadataSchema,
  payload: z.looseObject({}),
});

export type Envelope = z.output<typeof envelopeSchema>;

/** The major number of a `MAJOR.MINOR` version, or undefined when it is not one. */
export function majorVersionOf(version: unknown): number | undefined {
  if (typeof version !== 'string') return undefined;
  const match = EVENT_VERSION_PATTERN.exec(version);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
