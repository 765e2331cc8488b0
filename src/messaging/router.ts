/**
 * Which handler applies which event type. One handler per type: two handlers for one event in one
 * transaction would make their combined effect depend on registration order.
 */
import type { Kysely } from 'kysely';
import { isEventType } from '../contract/index.ts';
import type { EventOf, EventType } from '../contract/index.ts';
import { AppError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { MessagingErrorCodes } from './errors.ts';
import type { IncomingRecord } from './kafka/index.ts';

export interface HandlerContext<DB> {
  /** The batch's transaction: every write goes through it (on PGlite, `db` would hang). */
  trx: Kysely<DB>;
  /** topic/partition/offset/headers of the Kafka record. */
  record: IncomingRecord;
  /** Carries event_id, event_type, tenant_id and correlation_id. */
  log: Logger;
  /**
   * Runs once the transaction committed (deliver notifications, wake a relay). Dropped if it rolls
   * back; a failure is logged, never retried.
   */
  afterCommit(fn: () => void | Promise<void>): void;
}

/**
 * Applies one event. Throw an AppError with `retryable: true` for a transient failure (the batch is
 * retried), anything else to have the event dead-lettered.
 */
export type EventHandler<T extends EventType, DB> = (
  event: EventOf<T>,
  ctx: HandlerContext<DB>,
) => Promise<void>;

/** What a batch handler gets besides its events: no single record, one log for the run. */
export type BatchHandlerContext<DB> = Pick<HandlerContext<DB>, 'trx' | 'log' | 'afterCommit'>;

/** One event of a run handed to a batch handler, with its Kafka record. */
export interface BatchItem<T extends EventType> {
  event: EventOf<T>;
  record: IncomingRecord;
}

/**
 * Applies a run of consecutive new events of one type, in offset order, with the same effects as
 * applying them one by one in that order. Errors as for EventHandler: the consumer then falls back
 * to one event per transaction, calling this with a one-element array.
 */
export type BatchEventHandler<T extends EventType, DB> = (
  events: BatchItem<T>[],
  ctx: BatchHandlerContext<DB>,
) => Promise<void>;

export class EventRouter<DB> {
  readonly #handlers = new Map<EventType, EventHandler<EventType, DB>>();
  readonly #batchHandlers = new Map<EventType, BatchEventHandler<EventType, DB>>();
  readonly #types = new Set<EventType>();

  /** Throws ERP_MSG_DUPLICATE_HANDLER for a second handler, ERP_MSG_UNKNOWN_EVENT_TYPE for a type not in the contract. */
  on<T extends EventType>(type: T, handler: EventHandler<T, DB>): this {
    this.#check(type, this.#handlers);
    // Keyed by type, so `handlerFor(type)` returns the handler registered for that very type.
    this.#handlers.set(type, handler);
    this.#types.add(type);
    return this;
  }

  /**
   * A handler for runs of `type`; preferred over an `on()` handler of the same type, which may
   * exist too. Throws as `on()` does for a second batch handler or an unknown type.
   */
  onBatch<T extends EventType>(type: T, handler: BatchEventHandler<T, DB>): this {
    this.#check(type, this.#batchHandlers);
    this.#batchHandlers.set(type, handler);
    this.#types.add(type);
    return this;
  }

  #check(type: EventType, handlers: Map<EventType, unknown>): void {
    if (!isEventType(type)) {
      throw new AppError(
        MessagingErrorCodes.UNKNOWN_EVENT_TYPE,
        `cannot handle "${String(type)}": not an event type of the contract`,
        { context: { event_type: type } },
      );
    }
    if (handlers.has(type)) {
      throw new AppError(
        MessagingErrorCodes.DUPLICATE_HANDLER,
        `a handler for ${type} is already registered`,
        { context: { event_type: type } },
      );
    }
  }

  handlerFor<T extends EventType>(type: T): EventHandler<T, DB> | undefined {
    return this.#handlers.get(type);
  }

  batchHandlerFor<T extends EventType>(type: T): BatchEventHandler<T, DB> | undefined {
    return this.#batchHandlers.get(type);
  }

  /** Event types with a handler of either kind, in registration order. */
  types(): EventType[] {
    return [...this.#types];
  }
}
