/** Request schemas of the Sales HTTP API. */
import { z } from 'zod';

/** Most orders or alerts one list request returns. */
export const MAX_PAGE_SIZE = 500;

export const listAlertsQuerySchema = z.object({
  status: z.enum(['open', 'acknowledged']).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
});

export const listOrdersQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
});

export const createOrderBodySchema = z.object({
  customer: z.string().trim().min(1).max(200),
  lines: z
    .array(
      z.object({
        product_id: z.string().trim().min(1).max(128),
        quantity: z.int().positive().max(1_000_000),
      }),
    )
    .min(1)
    .max(100),
});

export type CreateOrderBody = z.infer<typeof createOrderBodySchema>;

export const idParamsSchema = z.object({ id: z.string().min(1).max(128) });
export const productParamsSchema = z.object({ productId: z.string().min(1).max(128) });
