/**
 * Which handler applies which event type. One handler per type: two handlers for one event in one
 * transaction would make their combined effect depend on registration order.
 *
 * One kind of handler: it receives a run of consecutive events of its type (a run of one is the
 * single case), so a handler is written once and is set-based from the start.
 */
import type { Kysely } from 'kysely';
import { CONTRACT_UPCASTERS, isEventType } from '../contract/index.ts';
import type { EventOf, EventType, Upcasters } from '../contract/index.ts';
import { AppError } from '../platform/index.ts';
import type { Logger } from '../platform/index.ts';
import { MessagingErrorCodes } from './errors.ts';
import type { IncomingRecord } from './kafka/index.ts';

export interface HandlerContext<DB> {
  /** The batch's transaction: every write goes through it (on PGlite, `db` would hang). */
  trx: Kysely<DB>;
  /** For a run of one: event_id, event_type, tenant_id, correlation_id; else the type and count. */
  log: Logger;
  /**
   * Runs once the transaction committed (deliver notifications, wake a relay). Dropped if it rolls
   * back; a failure is logged, never retried.
   */
  afterCommit(fn: () => void | Promise<void>): void;
}

/** One event of a run, with the Kafka record it came in (topic, partition, offset, headers). */
export interface ConsumedEvent<T extends EventType> {
  event: EventOf<T>;
  record: IncomingRecord;
}

/**
 * Applies a run of consecutive new events of one type, in offset order, with the same effects as
 * applying them one by one in that order (the consumer relies on it: after a failure it applies
 * the events one per transaction, calling the handler with runs of one). Throw an AppError with
 * `retryable: true` for a transient failure, anything else to have the event dead-lettered.
 */
export type EventHandler<T extends EventType, DB> = (
  events: readonly ConsumedEvent<T>[],
  ctx: HandlerContext<DB>,
) => Promise<void>;

/**
 * Runs once in each consumer transaction, before its first handler, with every new event of the
 * transaction (duplicates left out) in the order the handlers will get them. For handlers that
 * lock rows: a transaction applies its runs one after the other and each run's locks are held to
 * the commit, so two transactions (two partitions) whose runs lock the same rows in crossing
 * orders deadlock, however carefully each run orders its own locks. Taking every lock the
 * transaction will need here, in one order, prevents that. Throw like a handler.
 */
export type BeforeRuns<DB> = (
  events: readonly ConsumedEvent<EventType>[],
  ctx: HandlerContext<DB>,
) => Promise<void>;

export interface EventRouterOptions {
  /**
   * Turn older minor versions into the ones the handlers are written for, before the payload is
   * validated. Default: CONTRACT_UPCASTERS (the contract's own steps).
   */
  upcasters?: Upcasters;
}

export class EventRouter<DB> {
  readonly #handlers = new Map<EventType, EventHandler<EventType, DB>>();
  #beforeRuns: BeforeRuns<DB> | undefined;
  /** The handlers' reading of the contract: it belongs with them, so the router carries it. */
  readonly upcasters: Upcasters;

  constructor(options: EventRouterOptions = {}) {
    this.upcasters = options.upcasters ?? CONTRACT_UPCASTERS;
  }

  /** Throws ERP_MSG_DUPLICATE_HANDLER for a second handler, ERP_MSG_UNKNOWN_EVENT_TYPE for a type not in the contract. */
  on<T extends EventType>(type: T, handler: EventHandler<T, DB>): this {
    if (!isEventType(type)) {
      throw new AppError(
        MessagingErrorCodes.UNKNOWN_EVENT_TYPE,
        `cannot handle "${String(type)}": not an event type of the contract`,
        { context: { event_type: type } },
      );
    }
    if (this.#handlers.has(type)) {
      throw new AppError(
        MessagingErrorCodes.DUPLICATE_HANDLER,
        `a handler for ${type} is already registered`,
        { context: { event_type: type } },
      );
    }
    // Keyed by type, so `handlerFor(type)` returns the handler registered for that very type.
    this.#handlers.set(type, handler);
    return this;
  }

  /**
   * Sets the hook run before the handlers of each transaction; throws ERP_MSG_DUPLICATE_HANDLER
   * for a second.
   */
  beforeRuns(hook: BeforeRuns<DB>): this {
    if (this.#beforeRuns !== undefined) {
      throw new AppError(
        MessagingErrorCodes.DUPLICATE_HANDLER,
        'a beforeRuns hook is already registered',
      );
    }
    this.#beforeRuns = hook;
    return this;
  }

  /** The hook set with beforeRuns(), if any. */
  get beforeRunsHook(): BeforeRuns<DB> | undefined {
    return this.#beforeRuns;
  }

  handlerFor<T extends EventType>(type: T): EventHandler<T, DB> | undefined {
    return this.#handlers.get(type);
  }

  /** Event types with a handler, in registration order. */
  types(): EventType[] {
    return [...this.#handlers.keys()];
  }
}
