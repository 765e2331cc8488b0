/**
 * HTTP input of the Inventory API. Field names follow the event contract (snake_case), and so do
 * the bounds (LIMITS): what can be created here is what an event may carry. Like every input of
 * both services, bodies, params and queries refuse unknown keys.
 */
import { z } from 'zod';
import { inputText, LIMITS } from '../contract/index.ts';

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
