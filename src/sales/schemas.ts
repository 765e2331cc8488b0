/**
 * Request schemas of the Sales API: the contract's bounds (LIMITS), and, like every input of both
 * services, bodies, params and queries refuse unknown keys.
 */
import { z } from 'zod';
import { inputText, LIMITS } from '../contract/index.ts';

/** Most orders or alerts one list request returns. */
export const MAX_PAGE_SIZE = 500;

export const listAlertsQuerySchema = z.strictObject({
  status: z.enum(['open', 'acknowledged']).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
});

export const listOrdersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
});

export const createOrderBodySchema = z.strictObject({
  customer: inputText(LIMITS.customer),
  lines: z
    .array(
      z.strictObject({
        product_id: inputText(LIMITS.id),
        quantity: z.int().positive().max(LIMITS.orderLineQuantity),
      }),
    )
    .min(1)
    .max(LIMITS.orderLines),
});

export type CreateOrderBody = z.infer<typeof createOrderBodySchema>;

export const idParamsSchema = z.strictObject({ id: inputText(LIMITS.id) });
export const productParamsSchema = z.strictObject({ productId: inputText(LIMITS.id) });
