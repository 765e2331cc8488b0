/** HTTP input of the Inventory API. Field names follow the event contract (snake_case). */
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);

export const createProductBody = z.strictObject({
  sku: text(64),
  name: text(200),
  category: text(100),
  unit_price: z.number().nonnegative().max(1e10),
  quantity_on_hand: z.int().nonnegative().max(1_000_000_000).default(0),
  reorder_level: z.int().nonnegative().max(1_000_000_000),
  reorder_quantity: z.int().nonnegative().max(1_000_000_000),
  location: text(200).default('default'),
});

export const stockAdjustmentBody = z.strictObject({
  quantity_change: z
    .int()
    .min(-1_000_000_000)
    .max(1_000_000_000)
    .refine((n) => n !== 0, 'must not be 0'),
  reason: text(200),
});

export const productParams = z.object({ id: text(100) });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
