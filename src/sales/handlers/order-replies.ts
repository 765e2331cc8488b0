/**
 * Inventory's answers in the order saga (order-saga.ts): stock_reserved confirms a PENDING order,
 * stock_reservation_rejected rejects it, stock_released is recorded. Each in the consumer's
 * transaction with the order's row locked, so a step and the timeout sweeper or a caller's cancel
 * never both move one order. An answer for an order that is no longer PENDING changes nothing
 * but the history: a late reservation was already compensated by the order_cancelled sent when
 * the order timed out or was cancelled (Inventory releases it on that event). An answer for an
 * order Sales does not have is logged and skipped: never a reason to stop the consumer.
 */
import type { EventType } from '../../contract/index.ts';
import type { ConsumedEvent, EventHandler, HandlerContext } from '../../messaging/index.ts';
import type { OrderStatus, SalesDB } from '../db.ts';
import { step } from '../order-saga.ts';
import { appendOrderSteps, getOrder, setOrderStatus } from '../orders-repository.ts';

type Reply =
  'inventory.stock_reserved' | 'inventory.stock_reservation_rejected' | 'inventory.stock_released';

interface Outcome {
  /** The new state, or undefined to keep the order's. */
  status?: OrderStatus;
  step: string;
  reason: string | null;
}

function outcomeOf<T extends Reply>(
  type: T,
  current: OrderStatus,
  event: ConsumedEvent<T>['event'],
): Outcome {
  if (type === 'inventory.stock_reserved') {
    return current === 'PENDING'
      ? { status: 'CONFIRMED', step: 'reserved', reason: null }
      : { step: 'late_reservation', reason: 'released by the order_cancelled already sent' };
  }
  if (type === 'inventory.stock_reservation_rejected') {
    const reason = (event.payload as { reason: string }).reason;
    return current === 'PENDING'
      ? { status: 'REJECTED', step: 'rejected', reason }
      : { step: 'late_rejection', reason };
  }
  return { step: 'released', reason: (event.payload as { reason: string }).reason };
}

function replyHandler<T extends Reply>(type: T): EventHandler<T, SalesDB> {
  return async (events, ctx: HandlerContext<SalesDB>) => {
    const { trx } = ctx;
    for (const { event } of events as readonly ConsumedEvent<EventType>[]) {
      const tenantId = event.metadata.tenant_id;
      const orderId = (event.payload as { order_id: string }).order_id;
      const order = await getOrder(trx, tenantId, orderId, true);
      if (order === undefined) {
        ctx.log.warn(
          { order_id: orderId, event_type: type },
          'answer for an unknown order: skipped',
        );
        continue;
      }
      const outcome = outcomeOf(type, order.status, event as ConsumedEvent<T>['event']);
      const at = new Date();
      if (outcome.status !== undefined) {
        await setOrderStatus(trx, tenantId, orderId, outcome.status, outcome.reason, at);
      }
      await appendOrderSteps(trx, [
        step(
          tenantId,
          orderId,
          outcome.step,
          outcome.status ?? order.status,
          outcome.reason,
          event.metadata.event_id,
          at,
        ),
      ]);
    }
  };
}

export const handleStockReserved = replyHandler('inventory.stock_reserved');
export const handleStockReservationRejected = replyHandler('inventory.stock_reservation_rejected');
export const handleStockReleased = replyHandler('inventory.stock_released');
