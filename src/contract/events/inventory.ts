/**
 * Payloads published by the Inventory service on `inventory-events`.
 * Objects are loose so that minor versions may add fields.
 */
import { z } from 'zod';
import { boundedText, idSchema, LIMITS } from '../limits.ts';

const id = idSchema;
const sku = boundedText(LIMITS.sku).pipe(z.string().min(1));
const quantity = z.int().nonnegative().max(LIMITS.quantity);
/** Stock as reported: negative after a late adjustment, never past the bound either way. */
const stock = z.int().min(-LIMITS.quantity).max(LIMITS.quantity);
const price = z.number().nonnegative().max(LIMITS.unitPrice);
const name = boundedText(LIMITS.name);
const category = boundedText(LIMITS.category);
const location = boundedText(LIMITS.location);

export const lowStockPayloadSchema = z.looseObject({
  product_id: id,
  product_sku: sku,
  product_name: name,
  // Can be negative after a late adjustment; computePriority treats that as CRITICAL.
  current_stock: stock,
  reorder_level: quantity,
  reorder_quantity: quantity,
  unit_price: price,
  category,
  location,
  // Absent or null when the product has no outflow history to project from.
  days_of_stock_remaining: z.number().nonnegative().nullable().optional(),
});

export type LowStockPayload = z.output<typeof lowStockPayloadSchema>;

export const productCreatedPayloadSchema = z.looseObject({
  product_id: id,
  product_sku: sku,
  product_name: name,
  category,
  unit_price: price,
  quantity_on_hand: quantity,
  reorder_level: quantity,
  reorder_quantity: quantity,
  location,
});

export type ProductCreatedPayload = z.output<typeof productCreatedPayloadSchema>;

export const stockAdjustedPayloadSchema = z
  .looseObject({
    product_id: id,
    product_sku: sku,
    quantity_change: z
      .int()
      .min(-LIMITS.quantity)
      .max(LIMITS.quantity)
      .refine((n) => n !== 0, 'quantity_change must not be 0'),
    quantity_before: stock,
    quantity_after: stock,
    reason: boundedText(LIMITS.reason),
    adjustment_id: id.optional(),
  })
  // An event whose numbers disagree cannot be applied to a projection safely.
  .refine((p) => p.quantity_before + p.quantity_change === p.quantity_after, {
    path: ['quantity_after'],
    message: 'quantity_after must equal quantity_before + quantity_change',
  });

export type StockAdjustedPayload = z.output<typeof stockAdjustedPayloadSchema>;
