import type { EventOf } from '../../contract/index.ts';
import type { EventHandler } from '../../messaging/index.ts';
import type { SalesDB } from '../db.ts';
import { applyStockAdjustments } from '../products-repository.ts';
import type { StockAdjustment } from '../products-repository.ts';

/**
 * inventory.stock_adjusted → quantity on hand, and an outflow in the demand history when stock
 * went down. Any decrease counts as demand (sales, shrinkage alike): it is what empties shelves.
 * A run of events has the result of applying them one by one in order, in a number of statements
 * that does not grow with the run (applyStockAdjustments).
 */
export const handleStockAdjusted: EventHandler<'inventory.stock_adjusted', SalesDB> = async (
  events,
  ctx,
) => {
  await applyStockAdjustments(
    ctx.trx,
    events.map(({ event }) => adjustmentOf(event)),
  );
};

function adjustmentOf(event: EventOf<'inventory.stock_adjusted'>): StockAdjustment {
  const { payload } = event;
  return {
    tenantId: event.metadata.tenant_id,
    payload,
    at: new Date(event.metadata.timestamp),
    outflow: Math.max(0, -payload.quantity_change),
  };
}
