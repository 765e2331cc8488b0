/**
 * Bytes <-> events. Decoding is two steps so that a consumer can route, count or dead-letter on
 * the envelope before it knows (or cares about) the payload: `decodeEnvelope` then `decodeEvent`.
 */
import { randomUUID } from 'node:crypto';
import {
  CURRENT_EVENT_VERSION,
  SUPPORTED_MAJOR_VERSION,
  envelopeSchema,
  majorVersionOf,
  metadataSchema,
} from './envelope.ts';
import type { Envelope, Metadata } from './envelope.ts';
import { ContractError, describeIssues, toContractIssues } from './errors.ts';
import type { Priority } from './priority.ts';
import { EVENT_REGISTRY, isEventType } from './registry.ts';
import type { EventDefinition, EventOf, EventType, PayloadInputOf } from './registry.ts';
import { CONTRACT_UPCASTERS } from './upcasters.ts';
import type { Upcasters } from './upcasters.ts';

/** A known event with its type alongside, so that `switch (decoded.type)` narrows `event`. */
export type KnownDecodedEvent = {
  [T in EventType]: { known: true; type: T; event: EventOf<T> };
}[EventType];

/** An event type this code does not know: consumers skip and count it, it is not an error. */
export interface UnknownDecodedEvent {
  known: false;
  envelope: Envelope;
}

export type DecodedEvent = KnownDecodedEvent | UnknownDecodedEvent;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and checks the envelope of a Kafka record value.
 * Throws ContractError: ERP_EVT_EMPTY (null, undefined or zero length, e.g. a tombstone),
 * ERP_EVT_MALFORMED_JSON (not UTF-8 or not JSON), ERP_EVT_UNSUPPORTED_VERSION (major other
 * than 1; checked before the schema since another major may have another shape),
 * ERP_EVT_MISSING_TENANT (tenant_id missing or invalid, even alongside other problems),
 * ERP_EVT_INVALID_ENVELOPE (anything else wrong with the envelope or metadata).
 */
export function decodeEnvelope(value: Uint8Array | string | null | undefined): Envelope {
  if (value === null || value === undefined || value.length === 0) {
    throw new ContractError('ERP_EVT_EMPTY', 'Event value is empty');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : utf8.decode(value));
  } catch (cause) {
    throw new ContractError('ERP_EVT_MALFORMED_JSON', 'Event value is not UTF-8 JSON', { cause });
  }
  return checkEnvelope(parsed);
}

/**
 * The envelope checks of `decodeEnvelope` on a value already parsed from JSON (an event store's
 * json column): the same codes but ERP_EVT_EMPTY and ERP_EVT_MALFORMED_JSON.
 */
export function checkEnvelope(parsed: unknown): Envelope {
  const metadata = isRecord(parsed) && isRecord(parsed.metadata) ? parsed.metadata : undefined;
  const major = majorVersionOf(metadata?.event_version);
  if (major !== undefined && major !== SUPPORTED_MAJOR_VERSION) {
    throw new ContractError(
      'ERP_EVT_UNSUPPORTED_VERSION',
      `Event version ${String(metadata?.event_version)} is not supported (major ${SUPPORTED_MAJOR_VERSION} only)`,
      { context: contextOf(metadata) },
    );
  }

  const result = envelopeSchema.safeParse(parsed);
  if (result.success) return result.data;
  const issues = toContractIssues(result.error.issues);
  const tenantProblem = issues.some(
    (i) => i.path === 'metadata.tenant_id' || i.path.startsWith('metadata.tenant_id.'),
  );
  throw new ContractError(
    tenantProblem ? 'ERP_EVT_MISSING_TENANT' : 'ERP_EVT_INVALID_ENVELOPE',
    `Invalid event envelope: ${describeIssues(issues)}`,
    { issues, context: contextOf(metadata) },
  );
}

/**
 * Upcasts a known event type to the newest version `upcasters` reach, then validates its payload.
 * Throws ContractError ERP_EVT_INVALID_PAYLOAD (issue paths start with `payload.`),
 * ERP_EVT_UPCAST_FAILED when a step throws, or ERP_EVT_UNSUPPORTED_VERSION when the type does not
 * accept the envelope's major version. Unknown types come back as `{ known: false }`, untouched.
 */
export function decodeEvent(
  envelope: Envelope,
  upcasters: Upcasters = CONTRACT_UPCASTERS,
): DecodedEvent {
  const type = envelope.metadata.event_type;
  if (!isEventType(type)) return { known: false, envelope };
  const definition: EventDefinition = EVENT_REGISTRY[type];
  const major = majorVersionOf(envelope.metadata.event_version);
  if (major === undefined || !definition.majorVersions.includes(major)) {
    throw new ContractError(
      'ERP_EVT_UNSUPPORTED_VERSION',
      `${type} version ${envelope.metadata.event_version} is not supported`,
      { context: contextOf(envelope.metadata) },
    );
  }
  // Upcast before validating: the schema is the current version's, and a step fills in what an
  // older version lacks.
  const { metadata, payload } = upcasters.upcast(envelope);
  const result = definition.payload.safeParse(payload);
  if (!result.success) {
    const issues = toContractIssues(result.error.issues, ['payload']);
    throw new ContractError(
      'ERP_EVT_INVALID_PAYLOAD',
      `Invalid ${type} payload: ${describeIssues(issues)}`,
      { issues, context: contextOf(metadata) },
    );
  }
  // The registry lookup by `type` guarantees the pairing that TS cannot see through the index.
  return { known: true, type, event: { metadata, payload: result.data } } as KnownDecodedEvent;
}

/** JSON, UTF-8. Does not validate: events come from `createEvent` or `decodeEvent`. */
export function encodeEvent(event: Envelope | EventOf<EventType>): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export interface CreateEventOptions {
  tenantId: string;
  /** Name of the emitting service, e.g. `inventory-service`. */
  sourceService: string;
  /** Default: the new event's own event_id (it starts a chain). */
  correlationId?: string;
  /** Default: 'low'. Low-stock producers pass `computePriority(...)`. */
  priority?: Priority;
  /** Default: crypto.randomUUID(). Pass one to make a retried publish idempotent. */
  eventId?: string;
  /** Default: now, as UTC ISO-8601 with `Z`. */
  timestamp?: string;
}

/**
 * Builds a validated event of the current version. Throws ContractError ERP_EVT_INVALID_PAYLOAD,
 * or ERP_EVT_MISSING_TENANT / ERP_EVT_INVALID_ENVELOPE for bad options, so nothing invalid is
 * ever published.
 */
export function createEvent<T extends EventType>(
  type: T,
  payload: PayloadInputOf<T>,
  options: CreateEventOptions,
): EventOf<T> {
  const eventId = options.eventId ?? randomUUID();
  const candidate = {
    event_id: eventId,
    event_type: type,
    event_version: CURRENT_EVENT_VERSION,
    timestamp: options.timestamp ?? new Date().toISOString(),
    source_service: options.sourceService,
    tenant_id: options.tenantId,
    correlation_id: options.correlationId ?? eventId,
    priority: options.priority ?? 'low',
  };
  const meta = metadataSchema.safeParse(candidate);
  if (!meta.success) {
    const issues = toContractIssues(meta.error.issues, ['metadata']);
    throw new ContractError(
      issues.some((i) => i.path === 'metadata.tenant_id')
        ? 'ERP_EVT_MISSING_TENANT'
        : 'ERP_EVT_INVALID_ENVELOPE',
      `Cannot create ${type}: ${describeIssues(issues)}`,
      { issues, context: { event_type: type } },
    );
  }
  const body = EVENT_REGISTRY[type].payload.safeParse(payload);
  if (!body.success) {
    const issues = toContractIssues(body.error.issues, ['payload']);
    throw new ContractError(
      'ERP_EVT_INVALID_PAYLOAD',
      `Cannot create ${type}: ${describeIssues(issues)}`,
      { issues, context: { event_type: type } },
    );
  }
  return { metadata: meta.data, payload: body.data as EventOf<T>['payload'] };
}

/** Kafka record headers, so brokers-side tools can filter and trace without parsing the value. */
export function kafkaHeadersFor(envelope: Envelope | EventOf<EventType>): Record<string, string> {
  const m = envelope.metadata;
  return {
    event_id: m.event_id,
    event_type: m.event_type,
    event_version: m.event_version,
    tenant_id: m.tenant_id,
    correlation_id: m.correlation_id,
  };
}

function contextOf(
  metadata: Record<string, unknown> | Metadata | undefined,
): Record<string, unknown> {
  if (metadata === undefined) return {};
  const context: Record<string, unknown> = {};
  for (const key of ['event_id', 'event_type', 'event_version', 'tenant_id']) {
    if (typeof metadata[key] === 'string') context[key] = metadata[key];
  }
  return context;
}
