/**
 * Request and response schemas of the Sales API, also what its OpenAPI document says (routes.ts
 * declares them with each route). Requests: the contract's bounds (LIMITS), and, like every input of both
 * services, bodies, params and queries refuse unknown keys.
 */
import { z } from 'zod';
import { inputText, LIMITS, prioritySchema, tenantIdSchema } from '../contract/index.ts';
import { parseTopicPosition } from '../messaging/index.ts';

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

const timestamp = z.iso.datetime();

export const alertResponse = z.strictObject({
  id: z.string(),
  product_id: z.string(),
  product_sku: z.string(),
  product_name: z.string(),
  status: z.enum(['open', 'acknowledged']),
  priority: prioritySchema,
  current_stock: z.int(),
  reorder_level: z.int(),
  pending_order_quantity: z.int(),
  days_of_stock_remaining: z.number().nullable(),
  source_event_id: z.string().meta({ description: 'The inventory.low_stock event behind it.' }),
  opened_at: timestamp,
  updated_at: timestamp,
  acknowledged_at: timestamp.nullable(),
});

export const alertListResponse = z.strictObject({ items: z.array(alertResponse) });

export const alertWithHistoryResponse = alertResponse.extend({
  history: z
    .array(
      z.strictObject({
        change: z.enum(['opened', 'escalated', 'updated', 'acknowledged']),
        priority: prioritySchema,
        event_id: z.string().nullable(),
        at: timestamp,
      }),
    )
    .meta({ description: 'Oldest first.' }),
});

export const ORDER_STATUSES = [
  'PENDING',
  'CONFIRMED',
  'REJECTED',
  'CANCELLED',
  'FULFILLED',
] as const;

export const orderResponse = z.strictObject({
  id: z.string(),
  customer: z.string(),
  status: z.enum(ORDER_STATUSES).meta({
    description:
      'PENDING until Inventory reserves every line (CONFIRMED) or refuses (REJECTED; also after ORDER_SAGA_TIMEOUT_MS); then CANCELLED or FULFILLED.',
  }),
  reason: z.string().nullable().meta({
    description:
      'Why it was rejected or cancelled: insufficient_stock, unknown_product, timeout, customer.',
  }),
  created_at: timestamp,
  updated_at: timestamp,
  lines: z.array(z.strictObject({ line_no: z.int(), product_id: z.string(), quantity: z.int() })),
});

export const orderWithHistoryResponse = orderResponse.extend({
  history: z
    .array(
      z.strictObject({
        step: z.string().meta({
          description:
            'placed, reserved, rejected, timed_out, cancelled, fulfilled, released, late_reservation, late_rejection',
        }),
        status: z.enum(ORDER_STATUSES).meta({ description: 'The state after the step.' }),
        reason: z.string().nullable(),
        event_id: z
          .string()
          .nullable()
          .meta({ description: 'The event the step sent (placed, cancelled, …) or consumed.' }),
        at: timestamp,
      }),
    )
    .meta({ description: 'Oldest first.' }),
});

export const orderListResponse = z.strictObject({ items: z.array(orderResponse) });

export const forecastResponse = z.strictObject({
  product_id: z.string(),
  expected_daily_demand: z.number(),
  pending_order_quantity: z.int(),
  current_stock: z.int(),
  days_of_stock_remaining: z.number().nullable(),
  stockout_date: z.iso.date().nullable(),
  source_event_id: z.string(),
  updated_at: timestamp,
});

/** A replay position as the CLI's --from/--to take it: an ISO-8601 time or partition:offset,... */
const replayPosition = z
  .string()
  .max(4000)
  .refine((text) => parseTopicPosition(text) !== undefined, {
    message:
      'an ISO-8601 time such as 2024-01-15T10:00:00Z, or partition:offset pairs such as 0:120,1:98 (each partition once)',
  });

export const replayBodySchema = z.strictObject({
  from: replayPosition,
  /** Excluded; default: the end of each partition when the dry run starts. */
  to: replayPosition.optional(),
  tenant: tenantIdSchema.optional(),
  event_type: inputText(LIMITS.name).optional(),
});

export type ReplayBody = z.infer<typeof replayBodySchema>;

const replayCounts = z.record(z.string(), z.number());

export const replayResponse = z.looseObject({
  id: z.uuid(),
  state: z.enum(['running', 'done', 'failed']),
  request: replayBodySchema,
  started_at: timestamp,
  finished_at: timestamp.optional(),
  progress: z.object({ read: z.number(), total: z.number() }),
  ranges: z.array(z.object({ partition: z.number(), start: z.string(), end: z.string() })),
  summary: z
    .looseObject({
      read: z.number(),
      filtered: z.number(),
      dead_letters: z.number(),
      published: z.number(),
      seeded: replayCounts,
      comparison: z.looseObject({}),
      differing: z.number(),
    })
    .optional(),
  differences: z.array(z.looseObject({ kind: z.enum(['event', 'forecast']) })).optional(),
  more_differences: z.number().optional(),
  lines: z.array(z.string()).optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
});
