import type { EventOf } from '../../contract/index.ts';
import { recordOutflow } from '../forecasts-repository.ts';
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
  const tenantId = event.metadata.tenant_id;
  const at = new Date(event.metadata.timestamp);
  await applyStockAdjustment(ctx.trx, tenantId, event.payload, at);
  if (event.payload.quantity_change < 0) {
    await recordOutflow(
      ctx.trx,
      tenantId,
      event.payload.product_id,
      -event.payload.quantity_change,
      at,
    );
  }
}
