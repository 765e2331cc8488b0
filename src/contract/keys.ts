/**
 * The Kafka key each event type must carry. Every current event is about one product, so the key
 * is its `product_id`: all events of a product land on one partition, in order (the design
 * document's "use product_id as key for ordering"). A new event type without `product_id` stops
 * this from compiling, which is the moment to decide its key.
 */
import type { AnyEvent } from './registry.ts';

/** The record key a producer must use for `event`, and a consumer checks on receipt. */
export function messageKeyOf(event: AnyEvent): string {
  return event.payload.product_id;
}
