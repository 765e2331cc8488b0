/**
 * Command handlers: load the product (the read-model row is the snapshot at its stream
 * version) with its recent outflow, decide, then append the events with the expected version,
 * update the read model and the stock movements in one atomic statement (event-store.ts), and
 * signal the outbox relay once that committed.
 *
 * The first attempt is optimistic: the read and the write each run on their own, two round trips
 * and no row lock (BEGIN, FOR UPDATE and COMMIT would double the round trips of the common,
 * uncontended case). If another writer committed in between, the write finds a newer version and
 * writes nothing, and the command re-runs as a transaction that locks the row first: writers of a
 * hot product then queue on the lock instead of conflicting again (purely optimistic retries
 * exhausted 8 attempts with 20 concurrent writers of one product on PostgreSQL).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createEvent } from '../contract/index.ts';
import type { AnyEvent } from '../contract/index.ts';
import { backoff, createRetryPolicy, withSpan } from '../platform/index.ts';
import type { Database, RetryPolicy } from '../platform/index.ts';
import { CONSUMPTION_WINDOW_DAYS, daysOfStockRemaining, windowDays } from './consumption.ts';
import type { InventoryDB } from './db.ts';
import { isVersionConflict } from './errors.ts';
import { commitDecision, loadForDecision } from './event-store.ts';
import { decide, evolve } from './product.ts';
import type { ProductCommand, ProductState } from './product.ts';

export interface CommandOptions {
  database: Database<InventoryDB>;
  /** Topic the events are published to (KAFKA_INVENTORY_TOPIC). */
  topic: string;
  /** Told after each commit, so that the relay publishes without waiting for its poll. */
  outbox?: { committed(): void };
  /**
   * Attempts on version conflicts before giving up with ERP_INV_VERSION_CONFLICT, and the
   * pauses between them. Default: CONFLICT_RETRY_POLICY.
   */
  retryPolicy?: Partial<RetryPolicy>;
  now?: () => Date;
}

export interface CommandResult {
  product: ProductState;
  events: AnyEvent[];
}

export interface CommandMeta {
  tenantId: string;
  correlationId?: string;
  /**
   * Runs inside the command's transaction, after its write and before the commit (an idempotent
   * request stores its response here, so that the two commit together). Makes the command take
   * the locking path: one transaction, no optimistic attempt.
   */
  inTransaction?: (trx: Kysely<InventoryDB>, result: CommandResult) => Promise<void>;
}

export const SOURCE_SERVICE = 'inventory-service';

/**
 * 8 attempts; pauses drawn from 0 to 2^n ms (full jitter) so that the writers that collided do
 * not collide again in step. The second attempt already locks the row, so later ones are rare.
 */
export const CONFLICT_RETRY_POLICY: RetryPolicy = createRetryPolicy({
  attempts: 8,
  initialDelayMs: 1,
  multiplier: 2,
  maxDelayMs: 256,
  jitter: 1,
});
const DAY_MS = 86_400_000;

export function createCommandHandler(options: CommandOptions) {
  const now = options.now ?? (() => new Date());
  const policy = createRetryPolicy(options.retryPolicy, CONFLICT_RETRY_POLICY);

  async function runOnce(
    db: Kysely<InventoryDB>,
    command: ProductCommand,
    meta: CommandMeta,
    lock: boolean,
  ): Promise<CommandResult> {
    const at = now();
    const since = new Date(at.getTime() - CONSUMPTION_WINDOW_DAYS * DAY_MS);
    const loaded = await loadForDecision(db, meta.tenantId, command.productId, since, lock);
    const state = loaded.state;
    const outflowNow =
      command.kind === 'adjust' && command.quantityChange < 0 ? -command.quantityChange : 0;
    const decided = decide(state, command, {
      daysOfStockRemaining: (after) =>
        daysOfStockRemaining(after, {
          outflow: loaded.outflow + outflowNow,
          days: windowDays(loaded.firstMovementAt ?? at, at),
        }),
    });
    const correlationId = meta.correlationId ?? randomUUID();
    const events = decided.map(
      (d) =>
        createEvent(d.type, d.payload, {
          tenantId: meta.tenantId,
          sourceService: SOURCE_SERVICE,
          correlationId,
          priority: d.priority,
          timestamp: at.toISOString(),
        }) as AnyEvent,
    );
    const next = events.reduce(evolve, state);
    if (next === null) throw new Error('unreachable: a decided stream has state');
    await commitDecision(db, {
      tenantId: meta.tenantId,
      productId: command.productId,
      topic: options.topic,
      events,
      before: state,
      after: next,
      movement:
        command.kind === 'create'
          ? { quantityChange: command.quantityOnHand, reason: 'initial' }
          : { quantityChange: command.quantityChange, reason: command.reason },
      at,
    });
    return { product: next, events };
  }

  async function execute(command: ProductCommand, meta: CommandMeta): Promise<CommandResult> {
    const { database } = options;
    const { tenantId, inTransaction } = meta;
    for (let attempt = 1; ; attempt++) {
      try {
        // As the tenant (row-level security): a statement here sees no other tenant's rows.
        // One scope per attempt, so that a backoff pause holds no connection.
        // With tracing on, a span per attempt: the events it appends keep its context.
        const result = await withSpan(
          `inventory ${command.kind}`,
          { 'erp.product_id': command.productId, 'erp.attempt': attempt },
          () =>
            attempt === 1 && inTransaction === undefined
              ? database.inTenant(tenantId, (db) => runOnce(db, command, meta, false), {
                  transaction: false,
                })
              : database.inTenant(tenantId, async (trx) => {
                  const done = await runOnce(trx, command, meta, true);
                  await inTransaction?.(trx, done);
                  return done;
                }),
        );
        options.outbox?.committed();
        return result;
      } catch (err) {
        if (!isVersionConflict(err) || attempt >= policy.attempts) throw err;
        await backoff(policy, attempt);
      }
    }
  }

  return {
    /**
     * One command in the caller's transaction, with the product row locked (the order saga's
     * fulfilment: its outflow commits with the reservation it consumes). No retry: the lock
     * leaves no conflict to retry. Signal the outbox after the caller commits.
     */
    inTransaction(trx: Kysely<InventoryDB>, command: ProductCommand, meta: CommandMeta) {
      return runOnce(trx, command, meta, true);
    },
    createProduct(
      input: Omit<Extract<ProductCommand, { kind: 'create' }>, 'kind' | 'productId'>,
      meta: CommandMeta,
    ) {
      return execute({ kind: 'create', productId: randomUUID(), ...input }, meta);
    },
    adjustStock(
      productId: string,
      input: { quantityChange: number; reason: string; adjustmentId?: string },
      meta: CommandMeta,
    ) {
      return execute(
        {
          kind: 'adjust',
          productId,
          quantityChange: input.quantityChange,
          reason: input.reason,
          adjustmentId: input.adjustmentId ?? randomUUID(),
        },
        meta,
      );
    },
  };
}

export type CommandHandler = ReturnType<typeof createCommandHandler>;
