/**
 * HTTP input and output of the Inventory API, also what its OpenAPI document says (routes.ts
 * declares them with each route). Field names follow the event contract (snake_case), and so do
 * the bounds (LIMITS): what can be created here is what an event may carry. Like every input of
 * both services, bodies, params and queries refuse unknown keys.
 */
import { z } from 'zod';
import { inputText, LIMITS, prioritySchema } from '../contract/index.ts';

const quantity = z.int().nonnegative().max(LIMITS.quantity);

export const createProductBody = z.strictObject({
  sku: inputText(LIMITS.sku),
  name: inputText(LIMITS.name),
  category: inputText(LIMITS.category),
  unit_price: z.number().nonnegative().max(LIMITS.unitPrice),
  quantity_on_hand: quantity.default(0),
  reorder_level: quantity,
  reorder_quantity: quantity,
  location: inputText(LIMITS.location).default('default'),
});

export const stockAdjustmentBody = z.strictObject({
  quantity_change: z
    .int()
    .min(-LIMITS.quantity)
    .max(LIMITS.quantity)
    .refine((n) => n !== 0, 'must not be 0'),
  reason: inputText(LIMITS.reason),
});

export const productParams = z.strictObject({ id: inputText(LIMITS.id) });

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const timestamp = z.iso.datetime();

/** A product as the API answers it; `created_at`/`updated_at` only where read from the read model. */
export const productResponse = z.strictObject({
  id: z.string(),
  sku: z.string(),
  name: z.string(),
  category: z.string(),
  unit_price: z.number(),
  quantity_on_hand: z.int(),
  quantity_reserved: z
    .int()
    .meta({ description: 'Units held for confirmed orders not yet fulfilled (the order saga).' }),
  quantity_available: z
    .int()
    .meta({ description: 'quantity_on_hand - quantity_reserved: what a new order can reserve.' }),
  reorder_level: z.int(),
  reorder_quantity: z.int(),
  location: z.string(),
  version: z.int().meta({ description: 'Events in its stream so far.' }),
  needs_reorder: z.boolean().meta({ description: 'quantity_on_hand <= reorder_level' }),
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
});

export const productListResponse = z.strictObject({
  items: z.array(productResponse),
  limit: z.int(),
  offset: z.int(),
});

export const stockAdjustmentResponse = z.strictObject({
  product: productResponse,
  events: z
    .array(
      z.strictObject({
        event_id: z.string(),
        event_type: z.string(),
        priority: prioritySchema,
      }),
    )
    .meta({
      description:
        'inventory.stock_adjusted, and inventory.low_stock when it fell to or under the reorder level.',
    }),
});
