/**
 * Command handlers: load the product (the read-model row is the snapshot at its stream
 * version), decide, append the events with the expected version, update the read model and
 * the stock movements, all in one transaction, and wake the relay. A version conflict
 * (another writer committed first) re-runs the command on fresh state.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent } from '../contract/index.ts';
import type { AnyEvent } from '../contract/index.ts';
import { notifyOutbox } from '../messaging/outbox.ts';
import type { Database } from '../platform/database.ts';
import { isAppError } from '../platform/errors.ts';
import { CONSUMPTION_WINDOW_DAYS, daysOfStockRemaining, windowDays } from './consumption.ts';
import type { InventoryDB } from './db.ts';
import { duplicateSku, versionConflict } from './errors.ts';
import { appendToStream, isUniqueViolation } from './event-store.ts';
import { decide, evolve } from './product.ts';
import type { ProductCommand, ProductState } from './product.ts';
import {
  findProduct,
  insertProduct,
  outflowSince,
  recordMovement,
  updateProduct,
} from './products-repository.ts';

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
      const state = await findProduct(trx, meta.tenantId, command.productId, { forUpdate: true });
      const window =
        command.kind === 'adjust' && state !== null
          ? await outflowSince(
              trx,
              meta.tenantId,
              command.productId,
              new Date(at.getTime() - CONSUMPTION_WINDOW_DAYS * DAY_MS),
            )
          : { outflow: 0, firstAt: undefined };
      const outflowNow =
        command.kind === 'adjust' && command.quantityChange < 0 ? -command.quantityChange : 0;
      const decided = decide(state, command, {
        daysOfStockRemaining: (after) =>
          daysOfStockRemaining(after, {
            outflow: window.outflow + outflowNow,
            days: windowDays(window.firstAt ?? at, at),
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
      const expectedVersion = state?.version ?? 0;
      await appendToStream(trx, {
        tenantId: meta.tenantId,
        streamId: command.productId,
        expectedVersion,
        events,
        topic: options.topic,
      });
      const next = events.reduce(evolve, state);
      if (next === null) throw new Error('unreachable: a decided stream has state');
      if (state === null) {
        await insertProductOrThrow(trx, next, at);
      } else if (!(await updateProduct(trx, next, expectedVersion, at))) {
        throw versionConflict(command.productId, expectedVersion);
      }
      const change = command.kind === 'create' ? command.quantityOnHand : command.quantityChange;
      if (change !== 0) {
        await recordMovement(trx, {
          tenantId: meta.tenantId,
          productId: command.productId,
          quantityChange: change,
          quantityAfter: next.quantityOnHand,
          reason: command.kind === 'create' ? 'initial' : command.reason,
          at,
        });
      }
      await notifyOutbox(trx, options.channel);
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

async function insertProductOrThrow(
  trx: Parameters<typeof insertProduct>[0],
  state: ProductState,
  at: Date,
) {
  try {
    await insertProduct(trx, state, at);
  } catch (err) {
    if (isUniqueViolation(err, 'products_tenant_id_sku_key')) throw duplicateSku(state.sku);
    throw err;
  }
}
