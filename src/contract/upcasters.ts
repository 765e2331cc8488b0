/**
 * Upcasting: an event written at an older minor version is turned into the current one when it
 * is read, so that handlers and folds are written against one shape only. A step maps the
 * payload of `type` at `from` to its payload at `to`; steps chain (1.0 → 1.1 → 1.2) until no step
 * starts at the version reached. Stored and published bytes are never rewritten: the event store
 * and the topic keep what the producer wrote, and every reader upcasts on its way in.
 *
 * Steps stay within one major version: a new major is a new contract (decodeEnvelope refuses it
 * before any step could run), whereas minors only add, which an upcaster can fill in.
 */
import type { Envelope } from './envelope.ts';
import { EVENT_VERSION_PATTERN } from './envelope.ts';
import { ContractError } from './errors.ts';

/** The payload at the step's `to` version, from the payload at its `from` version. Must not mutate. */
export type Upcast = (payload: Readonly<Record<string, unknown>>) => Record<string, unknown>;

export interface UpcasterStep {
  /** Event type, e.g. `inventory.stock_adjusted`. */
  type: string;
  /** `MAJOR.MINOR` the step reads. */
  from: string;
  /** `MAJOR.MINOR` it produces: same major, higher minor. */
  to: string;
  upcast: Upcast;
}

export interface Upcasters {
  /** The envelope at the newest version the steps reach (the same object when no step applies). */
  upcast(envelope: Envelope): Envelope;
  /** The steps, in registration order. */
  readonly steps: readonly UpcasterStep[];
}

function parseVersion(step: UpcasterStep, field: 'from' | 'to'): [number, number] {
  const match = EVENT_VERSION_PATTERN.exec(step[field]);
  if (match === null) {
    throw new ContractError(
      'ERP_EVT_INVALID_ARGUMENT',
      `upcaster of ${step.type}: ${field} "${step[field]}" is not MAJOR.MINOR`,
      { context: { event_type: step.type } },
    );
  }
  return [Number(match[1]), Number(match[2])];
}

/**
 * Checks the steps and returns the registry. Throws ContractError ERP_EVT_INVALID_ARGUMENT for a
 * malformed version, a step that changes the major or does not raise the minor, or two steps from
 * the same version of a type (which one would win would be a matter of order).
 */
export function defineUpcasters(steps: readonly UpcasterStep[]): Upcasters {
  const byStart = new Map<string, UpcasterStep>();
  for (const step of steps) {
    const [fromMajor, fromMinor] = parseVersion(step, 'from');
    const [toMajor, toMinor] = parseVersion(step, 'to');
    if (fromMajor !== toMajor || toMinor <= fromMinor) {
      throw new ContractError(
        'ERP_EVT_INVALID_ARGUMENT',
        `upcaster of ${step.type} from ${step.from} to ${step.to}: a step raises the minor version within one major`,
        { context: { event_type: step.type } },
      );
    }
    const key = `${step.type}@${step.from}`;
    if (byStart.has(key)) {
      throw new ContractError(
        'ERP_EVT_INVALID_ARGUMENT',
        `two upcasters of ${step.type} from ${step.from}`,
        { context: { event_type: step.type } },
      );
    }
    byStart.set(key, step);
  }
  return {
    steps: [...steps],
    upcast(envelope) {
      const { metadata } = envelope;
      let step = byStart.get(`${metadata.event_type}@${metadata.event_version}`);
      if (step === undefined) return envelope;
      let payload: Record<string, unknown> = envelope.payload;
      let version = metadata.event_version;
      // Terminates: every step raises the minor, so no version is visited twice.
      while (step !== undefined) {
        try {
          payload = step.upcast(payload);
        } catch (cause) {
          throw new ContractError(
            'ERP_EVT_UPCAST_FAILED',
            `upcasting ${metadata.event_type} from ${step.from} to ${step.to} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
            { cause, context: { event_id: metadata.event_id, event_type: metadata.event_type } },
          );
        }
        version = step.to;
        step = byStart.get(`${metadata.event_type}@${version}`);
      }
      return { ...envelope, metadata: { ...metadata, event_version: version }, payload };
    },
  };
}

/**
 * The contract's own steps. Empty: every event type is still at 1.0, the version producers write.
 * A minor that adds a field registers here the step that fills it in for older events.
 */
export const CONTRACT_UPCASTERS: Upcasters = defineUpcasters([]);
