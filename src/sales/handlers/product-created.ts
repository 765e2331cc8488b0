import type { EventOf } from '../../contract/index.ts';
import { upsertCreatedProduct } from '../products-repository.ts';
import type { SalesHandlerContext } from './context.ts';

/** inventory.product_created → Sales' product read model. */
export async function handleProductCreated(
  event: EventOf<'inventory.product_created'>,
  ctx: SalesHandlerContext,
): Promise<void> {
  await upsertCreatedProduct(
    ctx.trx,
    event.metadata.tenant_id,
    event.payload,
    new Date(event.metadata.timestamp),
  );
}
