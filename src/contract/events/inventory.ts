/**
 * Payloads published by the Inventory service on `inventory-events`.
 * Objects are loose so that minor versions may add fields.
 */
import { z } from 'zod';

const id = z.string().min(1);
const quantity = z.int().nonnegative();
const price = z.number().nonnegative();

export const lowStockPayloadSchema = z.looseObject({
  product_id: id,
  product_sku: id,
  product_name: z.string(),
  // Can be negative after a late adjustment; computePriority treats that as CRITICAL.
  current_stock: z.int(),
  reorder_level: quantity,
  reorder_quantity: quantity,
  unit_price: price,
  category: z.string(),
  location: z.string(),
  // Absent or null when the product has no outflow history to project from.
  days_of_stock_remaining: z.number().nonnegative().nullable().optional(),
});

export type LowStockPayload = z.output<typeof lowStockPayloadSchema>;

export const productCreatedPayloadSchema = z.looseObject({
  product_id: id,
  product_sku: id,
  product_name: z.string(),
  category: z.string(),
  unit_price: price,
  quantity_on_hand: quantity,
  reorder_level: quantity,
  reorder_quantity: quantity,
  location: z.string(),
});

export type ProductCreatedPayload = z.output<typeof productCreatedPayloadSchema>;

export const stockAdjustedPayloadSchema = z
  .looseObject({
    product_id: id,
    product_sku: id,
    quantity_change: z.int().refine((n) => n !== 0, 'quantity_change must not be 0'),
    quantity_before: z.int(),
    quantity_after: z.int(),
    reason: z.string(),
    adjustment_id: id.optional(),
  })
  // An event whose numbers disagree cannot be applied to a projection safely.
  .refine((p) => p.quantity_before + p.quantity_change === p.quantity_after, {
    path: ['quantity_after'],
    message: 'quantity_after must equal quantity_before + quantity_change',
  });

export type StockAdjustedPayload = z.output<typeof stockAdjustedPayloadSchema>;
