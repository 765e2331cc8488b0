import type { EventOf } from '../../contract/index.ts';
import { applyStockAdjustment } from '../products-repository.ts';
import type { SalesHandlerContext } from './context.ts';

/**
 * inventory.stock_adjusted → quantity on hand, and an outflow in the demand history when stock
 * went down. Any decrease counts as demand (sales, shrinkage alike): it is what empties shelves.
 */
export async function handleStockAdjusted(
  event: EventOf<'inventory.stock_adjusted'>,
  ctx: SalesHandlerContext,
): Promise<void> {
  const { payload } = event;
  await applyStockAdjustment(
    ctx.trx,
    event.metadata.tenant_id,
    payload,
    new Date(event.metadata.timestamp),
    Math.max(0, -payload.quantity_change),
  );
}
