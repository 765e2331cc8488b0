/**
 * The order saga's payloads (choreographed: Sales places, cancels and fulfils orders on
 * `sales-events`; Inventory answers on `inventory-events`). Every one is about one order and
 * keyed by its `order_id`, so that the steps of an order stay in order on one partition.
 * Objects are loose so that minor versions may add fields.
 */
import { z } from 'zod';
import { boundedText, idSchema, LIMITS } from '../limits.ts';

/** One line of an order: a product and the units asked for. */
export const orderLineSchema = z.looseObject({
  product_id: idSchema,
  quantity: z.int().positive().max(LIMITS.orderLineQuantity),
});

export type OrderLinePayload = z.output<typeof orderLineSchema>;

const lines = z.array(orderLineSchema).min(1).max(LIMITS.orderLines);
const reason = boundedText(LIMITS.reason);

/** Sales stored an order as PENDING: Inventory reserves every line or none. */
export const orderPlacedPayloadSchema = z.looseObject({
  order_id: idSchema,
  customer: boundedText(LIMITS.customer),
  lines,
});

/**
 * Sales cancelled an order (asked by a caller, or on the saga's timeout): Inventory releases its
 * reservation, if it holds one. `reason` is free text: `customer`, `timeout`, …
 */
export const orderCancelledPayloadSchema = z.looseObject({
  order_id: idSchema,
  reason,
});

/** Sales fulfilled a CONFIRMED order: Inventory turns its reservation into an outflow. */
export const orderFulfilledPayloadSchema = z.looseObject({
  order_id: idSchema,
  lines,
});

/** Inventory reserved every line of the order, in one transaction. */
export const stockReservedPayloadSchema = z.looseObject({
  order_id: idSchema,
  lines,
});

/** A line Inventory could not reserve, and what it had. */
export const shortLineSchema = z.looseObject({
  product_id: idSchema,
  requested: z.int().positive().max(LIMITS.orderLineQuantity),
  /** Units on hand less those reserved; 0 for a product Inventory does not know. */
  available: z.int().nonnegative().max(LIMITS.quantity),
  /** `insufficient_stock` or `unknown_product` (free text, so that new reasons stay compatible). */
  reason,
});

/** Inventory reserved nothing for the order: the lines that were short and why. */
export const stockReservationRejectedPayloadSchema = z.looseObject({
  order_id: idSchema,
  reason,
  lines_short: z.array(shortLineSchema).max(LIMITS.orderLines),
});

/**
 * Inventory gave a reservation up: `reason` `cancelled` (the order was cancelled, or timed out in
 * Sales) or `fulfilled` (the units left stock as an outflow, a stock_adjusted per line).
 */
export const stockReleasedPayloadSchema = z.looseObject({
  order_id: idSchema,
  reason,
  lines,
});

export type OrderPlacedPayload = z.output<typeof orderPlacedPayloadSchema>;
export type OrderCancelledPayload = z.output<typeof orderCancelledPayloadSchema>;
export type OrderFulfilledPayload = z.output<typeof orderFulfilledPayloadSchema>;
export type StockReservedPayload = z.output<typeof stockReservedPayloadSchema>;
export type StockReservationRejectedPayload = z.output<
  typeof stockReservationRejectedPayloadSchema
>;
export type StockReleasedPayload = z.output<typeof stockReleasedPayloadSchema>;
