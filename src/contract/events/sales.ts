/**
 * Payloads published by the Sales service on `sales-events`.
 * Objects are loose so that minor versions may add fields.
 */
import { z } from 'zod';
import { boundedText, idSchema, LIMITS } from '../limits.ts';
import { prioritySchema } from '../priority.ts';

export const lowStockAlertRaisedPayloadSchema = z.looseObject({
  alert_id: idSchema,
  product_id: idSchema,
  product_sku: boundedText(LIMITS.sku).pipe(z.string().min(1)),
  product_name: boundedText(LIMITS.name),
  current_stock: z.int().min(-LIMITS.quantity).max(LIMITS.quantity),
  reorder_level: z.int().nonnegative().max(LIMITS.quantity),
  // A sum over the tenant's pending orders: not bounded by one order's limits.
  pending_order_quantity: z.int().nonnegative(),
  priority: prioritySchema,
  // null on the first alert for a product.
  previous_priority: prioritySchema.nullable(),
  days_of_stock_remaining: z.number().nonnegative().nullable().optional(),
  // Projected calendar date (YYYY-MM-DD) the product runs out; unknown without outflow history.
  stockout_date: z.iso.date().nullable().optional(),
  /** event_id of the inventory.low_stock event that raised the alert. */
  source_event_id: idSchema,
});

export type LowStockAlertRaisedPayload = z.output<typeof lowStockAlertRaisedPayloadSchema>;
