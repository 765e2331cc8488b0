import type { EventHandler } from '../../messaging/index.ts';
import type { SalesDB } from '../db.ts';
import { upsertCreatedProducts } from '../products-repository.ts';

/** inventory.product_created → Sales' product read model. */
export const handleProductCreated: EventHandler<'inventory.product_created', SalesDB> = async (
  events,
  ctx,
) => {
  await upsertCreatedProducts(
    ctx.trx,
    events.map(({ event }) => ({
      tenantId: event.metadata.tenant_id,
      payload: event.payload,
      at: new Date(event.metadata.timestamp),
    })),
  );
};
