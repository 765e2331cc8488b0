/**
 * A product as an event-sourced aggregate: `decide` turns a command and the current state into
 * new events (pure, no I/O); `evolve` folds an event into state. The products table is a
 * snapshot of `evolve` over the stream, written in the same transaction as the events.
 */
import { computePriority, EVENT_TYPES, LIMITS } from '../contract/index.ts';
import type {
  AnyEvent,
  LowStockPayload,
  Priority,
  ProductCreatedPayload,
  StockAdjustedPayload,
} from '../contract/index.ts';
import { insufficientStock, productExists, productNotFound, stockLimit } from './errors.ts';

export interface ProductState {
  id: string;
  tenantId: string;
  sku: string;
  name: string;
  category: string;
  unitPrice: number;
  quantityOnHand: number;
  /**
   * Units held for confirmed, unfulfilled orders (the order streams, reservations.ts): not part
   * of the product's own stream, so `evolve` carries it through unchanged.
   */
  quantityReserved: number;
  reorderLevel: number;
  reorderQuantity: number;
  location: string;
  /** Number of events in the stream so far (the stream version); the next append is version + 1. */
  version: number;
}

export interface CreateProduct {
  kind: 'create';
  productId: string;
  sku: string;
  name: string;
  category: string;
  unitPrice: number;
  quantityOnHand: number;
  reorderLevel: number;
  reorderQuantity: number;
  location: string;
}

export interface AdjustStock {
  kind: 'adjust';
  productId: string;
  quantityChange: number;
  reason: string;
  adjustmentId: string;
}

export type ProductCommand = CreateProduct | AdjustStock;

/** What the decision needs to know beyond the state: the consumption rate after this change. */
export interface DecisionContext {
  /** Days of stock left at the recent outflow rate, or undefined without outflow history. */
  daysOfStockRemaining: (quantityAfter: number) => number | undefined;
}

/** A decided event before it gets metadata (ids, timestamps) from the command handler. */
export type DecidedEvent =
  | { type: typeof EVENT_TYPES.productCreated; payload: ProductCreatedPayload; priority: Priority }
  | { type: typeof EVENT_TYPES.stockAdjusted; payload: StockAdjustedPayload; priority: Priority }
  | { type: typeof EVENT_TYPES.lowStock; payload: LowStockPayload; priority: Priority };

export function decide(
  state: ProductState | null,
  command: ProductCommand,
  ctx: DecisionContext,
): DecidedEvent[] {
  if (command.kind === 'create') {
    if (state !== null) throw productExists(command.productId);
    const created: DecidedEvent = {
      type: EVENT_TYPES.productCreated,
      priority: 'low',
      payload: {
        product_id: command.productId,
        product_sku: command.sku,
        product_name: command.name,
        category: command.category,
        unit_price: command.unitPrice,
        quantity_on_hand: command.quantityOnHand,
        reorder_level: command.reorderLevel,
        reorder_quantity: command.reorderQuantity,
        location: command.location,
      },
    };
    const next = evolveCreated(created.payload, '');
    return [created, ...lowStockIfNeeded(next, ctx)];
  }
  if (state === null) throw productNotFound(command.productId);
  const after = state.quantityOnHand + command.quantityChange;
  // Reserved units are promised to orders: an adjustment may not take them (available ≥ 0).
  if (after < state.quantityReserved) {
    throw insufficientStock(
      state.id,
      state.quantityOnHand,
      command.quantityChange,
      state.quantityReserved,
    );
  }
  // The bound a product can be created with holds for every adjustment too (and for the events).
  if (after > LIMITS.quantity) {
    throw stockLimit(state.id, state.quantityOnHand, command.quantityChange);
  }
  const adjusted: DecidedEvent = {
    type: EVENT_TYPES.stockAdjusted,
    priority: 'low',
    payload: {
      product_id: state.id,
      product_sku: state.sku,
      quantity_change: command.quantityChange,
      quantity_before: state.quantityOnHand,
      quantity_after: after,
      reason: command.reason,
      adjustment_id: command.adjustmentId,
    },
  };
  return [adjusted, ...lowStockIfNeeded({ ...state, quantityOnHand: after }, ctx)];
}

function lowStockIfNeeded(state: ProductState, ctx: DecisionContext): DecidedEvent[] {
  if (state.quantityOnHand > state.reorderLevel) return [];
  const days = ctx.daysOfStockRemaining(state.quantityOnHand);
  const payload: LowStockPayload = {
    product_id: state.id,
    product_sku: state.sku,
    product_name: state.name,
    current_stock: state.quantityOnHand,
    reorder_level: state.reorderLevel,
    reorder_quantity: state.reorderQuantity,
    unit_price: state.unitPrice,
    category: state.category,
    location: state.location,
    ...(days === undefined ? {} : { days_of_stock_remaining: days }),
  };
  const priority = computePriority({
    currentStock: state.quantityOnHand,
    reorderLevel: state.reorderLevel,
    ...(days === undefined ? {} : { daysOfStockRemaining: days }),
  });
  return [{ type: EVENT_TYPES.lowStock, payload, priority }];
}

/** Folds one stored event into state. Every event counts toward the stream version, low stock too. */
export function evolve(state: ProductState | null, event: AnyEvent): ProductState | null {
  switch (event.metadata.event_type) {
    case EVENT_TYPES.productCreated:
      return evolveCreated(event.payload as ProductCreatedPayload, event.metadata.tenant_id);
    case EVENT_TYPES.stockAdjusted: {
      if (state === null) return null;
      const p = event.payload as StockAdjustedPayload;
      return { ...state, quantityOnHand: p.quantity_after, version: state.version + 1 };
    }
    default:
      return state === null ? null : { ...state, version: state.version + 1 };
  }
}

function evolveCreated(p: ProductCreatedPayload, tenantId: string): ProductState {
  return {
    id: p.product_id,
    tenantId,
    sku: p.product_sku,
    name: p.product_name,
    category: p.category,
    unitPrice: p.unit_price,
    quantityOnHand: p.quantity_on_hand,
    quantityReserved: 0,
    reorderLevel: p.reorder_level,
    reorderQuantity: p.reorder_quantity,
    location: p.location,
    version: 1,
  };
}
