/**
 * Command handlers: load the product (the read-model row is the snapshot at its stream
 * version) with its recent outflow, decide, then append the events with the expected version,
 * update the read model and the stock movements and wake the relay, all in one transaction
 * (unit-of-work.ts: two statements). A version conflict
 * (another writer committed first) re-runs the command on fresh state.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent } from '../contract/index.ts';
import type { AnyEvent } from '../contract/index.ts';
import type { Database } from '../platform/database.ts';
import { isAppError } from '../platform/errors.ts';
import { CONSUMPTION_WINDOW_DAYS, daysOfStockRemaining, windowDays } from './consumption.ts';
import type { InventoryDB } from './db.ts';
import { decide, evolve } from './product.ts';
import type { ProductCommand, ProductState } from './product.ts';
import { commitDecision, loadForDecision } from './unit-of-work.ts';

export interface CommandOptions {
  database: Database<InventoryDB>;
  /** Topic the events are published to (KAFKA_INVENTORY_TOPIC). */
  topic: string;
  /** NOTIFY channel the outbox relay listens on. */
  channel: string;
  /** Attempts on version conflicts before giving up with ERP_INV_VERSION_CONFLICT. Default: 8. */
  maxAttempts?: number;
  now?: () => Date;
}

export interface CommandResult {
  product: ProductState;
  events: AnyEvent[];
}

export interface CommandMeta {
  tenantId: string;
  correlationId?: string;
}

export const SOURCE_SERVICE = 'inventory-service';
const DAY_MS = 86_400_000;

export function createCommandHandler(options: CommandOptions) {
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 8;

  async function runOnce(command: ProductCommand, meta: CommandMeta): Promise<CommandResult> {
    return options.database.db.transaction().execute(async (trx) => {
      const at = now();
      const since = new Date(at.getTime() - CONSUMPTION_WINDOW_DAYS * DAY_MS);
      const loaded = await loadForDecision(trx, meta.tenantId, command.productId, since);
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
      await commitDecision(trx, {
        tenantId: meta.tenantId,
        productId: command.productId,
        topic: options.topic,
        channel: options.channel,
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
    });
  }

  async function execute(command: ProductCommand, meta: CommandMeta): Promise<CommandResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runOnce(command, meta);
      } catch (err) {
        const conflict = isAppError(err) && err.code === 'ERP_INV_VERSION_CONFLICT';
        if (!conflict || attempt >= maxAttempts) throw err;
        // Jittered pause so that the writers that collided do not collide again in step.
        await sleep(Math.random() * 2 ** attempt);
      }
    }
  }

  return {
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
