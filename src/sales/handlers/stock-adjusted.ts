import type { EventOf } from '../../contract/index.ts';
import { applyStockAdjustment, applyStockAdjustments } from '../products-repository.ts';
import type { StockAdjustment } from '../products-repository.ts';
import type { SalesHandlerContext } from './context.ts';

/**
 * inventory.stock_adjusted → quantity on hand, and an outflow in the demand history when stock
 * went down. Any decrease counts as demand (sales, shrinkage alike): it is what empties shelves.
 */
export async function handleStockAdjusted(
  event: EventOf<'inventory.stock_adjusted'>,
  ctx: SalesHandlerContext,
): Promise<void> {
  const { tenantId, payload, at, outflow } = adjustmentOf(event);
  await applyStockAdjustment(ctx.trx, tenantId, payload, at, outflow);
}

/**
 * handleStockAdjusted for a run of events, with the same result as applying them one by one in
 * order, in a number of statements that does not grow with the run (applyStockAdjustments).
 */
export async function handleStockAdjustedBatch(
  events: readonly { event: EventOf<'inventory.stock_adjusted'> }[],
  ctx: SalesHandlerContext,
): Promise<void> {
  await applyStockAdjustments(
    ctx.trx,
    events.map(({ event }) => adjustmentOf(event)),
  );
}

function adjustmentOf(event: EventOf<'inventory.stock_adjusted'>): StockAdjustment {
  const { payload } = event;
  return {
    tenantId: event.metadata.tenant_id,
    payload,
    at: new Date(event.metadata.timestamp),
    outflow: Math.max(0, -payload.quantity_change),
  };
}
