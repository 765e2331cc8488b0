/**
 * What the consumer does with one Kafka record, decided from the record alone (pure): apply it
 * (its envelope and payload pass the contract, its key and tenant header agree, a handler is
 * registered), dead-letter it (the record is bad: retrying cannot help), or skip it (a type the
 * contract does not know, or one this consumer has no handler for: not ours to judge).
 */
import { decodeEnvelope, decodeEvent, isEventType, messageKeyOf } from '../../contract/index.ts';
import type { AnyEvent, Envelope, EventType } from '../../contract/index.ts';
import { headerMismatchError, tenantMismatchError, wrongKeyError } from '../errors.ts';
import type { IncomingRecord } from '../kafka/index.ts';
import type { EventHandler, EventRouter } from '../router.ts';
import type { SkipReason } from './metrics.ts';

/** A record that passed the contract checks and has a handler; counts its own failures. */
export interface Accepted<DB> {
  kind: 'accepted';
  record: IncomingRecord;
  type: EventType;
  event: AnyEvent;
  handler: EventHandler<EventType, DB>;
  /** Failures this record caused (outages excluded): the attempts spent. */
  failures: number;
  lastError?: unknown;
  firstFailureAt?: Date;
  lastFailureAt?: Date;
}

/** A record to dead-letter, with why and the attempts spent on it. */
export interface Rejected {
  kind: 'rejected';
  record: IncomingRecord;
  error: unknown;
  eventType?: string | undefined;
  attempts: number;
  firstFailureAt: Date;
  lastFailureAt: Date;
}

export interface Skipped {
  kind: 'skipped';
  eventType: string;
  reason: SkipReason;
}

export function classify<DB>(
  record: IncomingRecord,
  router: EventRouter<DB>,
  now: Date = new Date(),
): Accepted<DB> | Rejected | Skipped {
  const reject = (error: unknown, eventType?: string): Rejected => ({
    kind: 'rejected',
    record,
    error,
    eventType,
    attempts: 1,
    firstFailureAt: now,
    lastFailureAt: now,
  });
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(record.value);
    checkHeaders(record.headers, envelope);
  } catch (err) {
    return reject(err);
  }
  const type = envelope.metadata.event_type;
  // Not ours to judge: payloads of types we do not apply are not validated either.
  if (!isEventType(type)) return { kind: 'skipped', eventType: type, reason: 'unknown_type' };
  const handler = router.handlerFor(type);
  if (handler === undefined) return { kind: 'skipped', eventType: type, reason: 'no_handler' };
  try {
    const decoded = decodeEvent(envelope, router.upcasters);
    if (!decoded.known) return { kind: 'skipped', eventType: type, reason: 'unknown_type' };
    const expected = messageKeyOf(decoded.event);
    const actual = record.key === null ? null : record.key.toString('utf8');
    if (actual !== expected) throw wrongKeyError(actual, expected);
    return { kind: 'accepted', record, type, event: decoded.event, handler, failures: 0 };
  } catch (err) {
    return reject(err, type);
  }
}

/**
 * Headers are optional (the design document's producers send none), but one that is present must
 * agree with the envelope: tools route and filter by them, and an event must never be applied
 * under a tenant other than the one its producer routed it for.
 */
function checkHeaders(headers: Record<string, string>, envelope: Envelope): void {
  const { metadata } = envelope;
  const tenant = headers['tenant_id'];
  if (tenant !== undefined && tenant !== metadata.tenant_id) {
    throw tenantMismatchError(tenant, metadata.tenant_id);
  }
  for (const name of ['event_id', 'event_type', 'event_version'] as const) {
    const value = headers[name];
    if (value !== undefined && value !== metadata[name]) {
      throw headerMismatchError(name, value, metadata[name]);
    }
  }
}

/**
 * `items` cut into runs of one type, each run one handler call, fewest runs first: records of
 * different keys may be regrouped, records of one key never change order. Kafka orders a partition,
 * but the contract promises order per key only (keys.ts), and a topic where types interleave
 * (stock_adjusted, low_stock, stock_adjusted…) would otherwise cost one handler call per record.
 * Each pass takes the type of the first item left, and from every key the longest prefix of that
 * type still waiting; a key whose next item is of another type waits for a later pass. Items
 * without a key (undefined) keep their order among themselves.
 */
export function runsOfOneType<T extends { type: string }>(
  items: readonly T[],
  keyOf: (item: T) => string | undefined = () => undefined,
): T[][] {
  const runs: T[][] = [];
  let left: readonly T[] = items;
  while (left.length > 0) {
    const type = left[0]!.type;
    const waiting = new Set<string | undefined>();
    const run: T[] = [];
    const rest: T[] = [];
    for (const item of left) {
      const key = keyOf(item);
      if (item.type === type && !waiting.has(key)) run.push(item);
      else {
        waiting.add(key);
        rest.push(item);
      }
    }
    runs.push(run);
    left = rest;
  }
  return runs;
}
