/**
 * The Kafka key each event type must carry. A product's events are keyed by its `product_id`: all
 * events of a product land on one partition, in order (the design document's "use product_id as
 * key for ordering"). The order saga's events are keyed by their `order_id`, so that the steps of
 * one order (placed, reserved, cancelled, released, fulfilled) stay in order. A new event type
 * with neither stops this from compiling, which is the moment to decide its key.
 */
import type { AnyEvent } from './registry.ts';

/** The record key a producer must use for `event`, and a consumer checks on receipt. */
export function messageKeyOf(event: AnyEvent): string {
  const payload = event.payload;
  return 'order_id' in payload && typeof payload.order_id === 'string'
    ? payload.order_id
    : (payload as Extract<AnyEvent['payload'], { product_id: string }>).product_id;
}
