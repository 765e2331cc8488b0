/**
 * The bounds every field of the contract respects, on every path into the system: the HTTP APIs
 * validate their input with the same schemas the events are decoded with, so a value that can be
 * created over HTTP is one an event may carry, and an event bigger than anything Inventory could
 * have produced is refused (dead-lettered) rather than stored and re-published.
 */
import { z } from 'zod';

export const LIMITS = {
  /** Entity and event ids (product ids are UUIDs). */
  id: 128,
  sku: 64,
  name: 200,
  category: 100,
  location: 200,
  /** Reason of a stock adjustment. */
  reason: 200,
  /** Customer of an order. */
  customer: 200,
  correlationId: 200,
  sourceService: 100,
  /** Units on hand, in one adjustment, a reorder level or quantity: at most a billion. */
  quantity: 1_000_000_000,
  /** Units of a product on one order line. */
  orderLineQuantity: 1_000_000,
  /** Lines of one order. */
  orderLines: 100,
  unitPrice: 1e10,
} as const;

/**
 * PostgreSQL's `text` refuses NUL, and a lone UTF-16 surrogate cannot be encoded as UTF-8: it is
 * stored as U+FFFD, so two different strings would become one (two skus colliding as duplicates).
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `value` can be stored and read back unchanged. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

const storable = (s: z.ZodString) =>
  s.refine(isStorableText, 'must not contain NUL characters or unpaired UTF-16 surrogates');

/** A string of at most `max` UTF-16 units that can be stored unchanged (events: not trimmed). */
export function boundedText(max: number) {
  return storable(z.string().max(max));
}

/** Input text: trimmed, 1 to `max` units, storable unchanged (HTTP bodies, params, queries). */
export function inputText(max: number) {
  return storable(z.string().trim().min(1).max(max));
}

/** A non-empty id of at most LIMITS.id units. */
export const idSchema = storable(z.string().min(1).max(LIMITS.id));
