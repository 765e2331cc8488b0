/**
 * Which event types the contract knows, the major versions each accepts and its payload schema.
 * Topics are deployment config, so they live with the services, not here.
 */
import type { z } from 'zod';
import type { Metadata } from './envelope.ts';
import {
  lowStockPayloadSchema,
  productCreatedPayloadSchema,
  stockAdjustedPayloadSchema,
} from './events/inventory.ts';
import {
  orderCancelledPayloadSchema,
  orderFulfilledPayloadSchema,
  orderPlacedPayloadSchema,
  stockReleasedPayloadSchema,
  stockReservationRejectedPayloadSchema,
  stockReservedPayloadSchema,
} from './events/saga.ts';
import { lowStockAlertRaisedPayloadSchema } from './events/sales.ts';

export const EVENT_TYPES = {
  lowStock: 'inventory.low_stock',
  productCreated: 'inventory.product_created',
  stockAdjusted: 'inventory.stock_adjusted',
  lowStockAlertRaised: 'sales.low_stock_alert_raised',
  stockReserved: 'inventory.stock_reserved',
  stockReservationRejected: 'inventory.stock_reservation_rejected',
  stockReleased: 'inventory.stock_released',
  orderPlaced: 'sales.order_placed',
  orderCancelled: 'sales.order_cancelled',
  orderFulfilled: 'sales.order_fulfilled',
} as const;

/** The order saga's event types: keyed by `order_id`, not `product_id` (keys.ts). */
export const ORDER_EVENT_TYPES = [
  EVENT_TYPES.stockReserved,
  EVENT_TYPES.stockReservationRejected,
  EVENT_TYPES.stockReleased,
  EVENT_TYPES.orderPlaced,
  EVENT_TYPES.orderCancelled,
  EVENT_TYPES.orderFulfilled,
] as const;

export interface EventDefinition {
  /** Major versions a consumer of this code can read. */
  readonly majorVersions: readonly number[];
  readonly payload: z.ZodType<Record<string, unknown>>;
}

export const EVENT_REGISTRY = {
  [EVENT_TYPES.lowStock]: { majorVersions: [1], payload: lowStockPayloadSchema },
  [EVENT_TYPES.productCreated]: { majorVersions: [1], payload: productCreatedPayloadSchema },
  [EVENT_TYPES.stockAdjusted]: { majorVersions: [1], payload: stockAdjustedPayloadSchema },
  [EVENT_TYPES.lowStockAlertRaised]: {
    majorVersions: [1],
    payload: lowStockAlertRaisedPayloadSchema,
  },
  [EVENT_TYPES.stockReserved]: { majorVersions: [1], payload: stockReservedPayloadSchema },
  [EVENT_TYPES.stockReservationRejected]: {
    majorVersions: [1],
    payload: stockReservationRejectedPayloadSchema,
  },
  [EVENT_TYPES.stockReleased]: { majorVersions: [1], payload: stockReleasedPayloadSchema },
  [EVENT_TYPES.orderPlaced]: { majorVersions: [1], payload: orderPlacedPayloadSchema },
  [EVENT_TYPES.orderCancelled]: { majorVersions: [1], payload: orderCancelledPayloadSchema },
  [EVENT_TYPES.orderFulfilled]: { majorVersions: [1], payload: orderFulfilledPayloadSchema },
} as const satisfies Record<string, EventDefinition>;

export type EventType = keyof typeof EVENT_REGISTRY;

/** Payload as held in memory (after validation). */
export type PayloadOf<T extends EventType> = z.output<(typeof EVENT_REGISTRY)[T]['payload']>;
/** Payload as a producer may write it (optional fields may be left out). */
export type PayloadInputOf<T extends EventType> = z.input<(typeof EVENT_REGISTRY)[T]['payload']>;

export interface EventOf<T extends EventType> {
  metadata: Metadata;
  payload: PayloadOf<T>;
}

/** Any known event; narrow on `metadata.event_type` through a `DecodedEvent`'s `type`. */
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_REGISTRY, type);
}
