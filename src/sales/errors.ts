/**
 * Error codes of the Sales service. Callers match on `code`; `retryable` says whether the same
 * request may succeed later. Their HTTP statuses are in routes.ts.
 */
import { AppError } from '../platform/index.ts';

export const SalesErrorCodes = {
  /** No such alert for this tenant (another tenant's id looks the same as a missing one). */
  ALERT_NOT_FOUND: 'ERP_SALES_ALERT_NOT_FOUND',
  /** The alert was acknowledged already; acknowledging twice would rewrite its history. */
  ALERT_NOT_OPEN: 'ERP_SALES_ALERT_NOT_OPEN',
  /** Sales has not forecast this product yet (no low-stock event seen for it). */
  FORECAST_NOT_FOUND: 'ERP_SALES_FORECAST_NOT_FOUND',
  /** An order names products Sales does not know for this tenant (no inventory.product_created). */
  UNKNOWN_PRODUCT: 'ERP_SALES_UNKNOWN_PRODUCT',
  /** No such order for this tenant (another tenant's id looks the same as a missing one). */
  ORDER_NOT_FOUND: 'ERP_SALES_ORDER_NOT_FOUND',
  /** The order's state does not allow the action (e.g. fulfilling a PENDING or CANCELLED order). */
  ORDER_INVALID_TRANSITION: 'ERP_SALES_ORDER_INVALID_TRANSITION',
  /** A notification channel could not deliver; retryable unless the receiver refused the content. */
  NOTIFICATION_FAILED: 'ERP_SALES_NOTIFICATION_FAILED',
  /** A replay dry run is running already: one at a time; ask again once it is done. */
  REPLAY_BUSY: 'ERP_SALES_REPLAY_BUSY',
  /** The replay's range holds more records than SALES_REPLAY_MAX_EVENTS; narrow it. */
  REPLAY_TOO_LARGE: 'ERP_SALES_REPLAY_TOO_LARGE',
  /** A token bound to a tenant asked for a dry run of another tenant (or of all). */
  REPLAY_OTHER_TENANT: 'ERP_SALES_REPLAY_OTHER_TENANT',
  /** No such dry run: never started, or older than the last few kept. */
  REPLAY_NOT_FOUND: 'ERP_SALES_REPLAY_NOT_FOUND',
  /** The shadow Sales of a dry run stopped on an error, or was stopped with Sales. */
  REPLAY_FAILED: 'ERP_SALES_REPLAY_FAILED',
} as const;

export type SalesErrorCode = (typeof SalesErrorCodes)[keyof typeof SalesErrorCodes];

export function alertNotFound(alertId: string): AppError {
  return new AppError(SalesErrorCodes.ALERT_NOT_FOUND, `alert ${alertId} not found`, {
    context: { alert_id: alertId },
  });
}

export function alertNotOpen(alertId: string, status: string): AppError {
  return new AppError(SalesErrorCodes.ALERT_NOT_OPEN, `alert ${alertId} is ${status}, not open`, {
    context: { alert_id: alertId, alert_status: status },
  });
}

export function forecastNotFound(productId: string): AppError {
  return new AppError(SalesErrorCodes.FORECAST_NOT_FOUND, `no forecast for product ${productId}`, {
    context: { product_id: productId },
  });
}

export function unknownProducts(productIds: readonly string[]): AppError {
  return new AppError(
    SalesErrorCodes.UNKNOWN_PRODUCT,
    `unknown product${productIds.length === 1 ? '' : 's'} for this tenant: ${productIds.join(', ')}`,
    { context: { product_ids: productIds } },
  );
}

export function orderNotFound(orderId: string): AppError {
  return new AppError(SalesErrorCodes.ORDER_NOT_FOUND, `order ${orderId} not found`, {
    context: { order_id: orderId },
  });
}

export function invalidOrderTransition(
  orderId: string,
  status: string,
  action: string,
  allowedFrom: readonly string[],
): AppError {
  return new AppError(
    SalesErrorCodes.ORDER_INVALID_TRANSITION,
    `cannot ${action} order ${orderId}: it is ${status} (only from ${allowedFrom.join(' or ')})`,
    {
      context: { order_id: orderId, order_status: status, action, allowed_from: [...allowedFrom] },
    },
  );
}

export function notificationFailed(
  channel: string,
  message: string,
  options: { retryable: boolean; cause?: unknown; status?: number },
): AppError {
  return new AppError(SalesErrorCodes.NOTIFICATION_FAILED, `${channel}: ${message}`, {
    retryable: options.retryable,
    cause: options.cause,
    context: {
      channel,
      ...(options.status === undefined ? {} : { http_status: options.status }),
    },
  });
}

export function replayBusy(running: string): AppError {
  return new AppError(
    SalesErrorCodes.REPLAY_BUSY,
    `dry run ${running} is running; one at a time: ask again once it is done`,
    { retryable: true, context: { replay_id: running } },
  );
}

export function replayTooLarge(records: number, max: number): AppError {
  return new AppError(
    SalesErrorCodes.REPLAY_TOO_LARGE,
    `the range holds ${records} records, more than SALES_REPLAY_MAX_EVENTS (${max}): narrow from/to (a tenant or event type still reads the whole range)`,
    { retryable: false, context: { records, max } },
  );
}

export function replayOtherTenant(tenant: string): AppError {
  return new AppError(
    SalesErrorCodes.REPLAY_OTHER_TENANT,
    `your token is bound to a tenant: a dry run reads that tenant only, so name ${tenant} or none; a dry run of every tenant needs an ops token bound to none`,
    { retryable: false },
  );
}

export function replayNotFound(id: string): AppError {
  return new AppError(SalesErrorCodes.REPLAY_NOT_FOUND, `no dry run ${id}`, {
    retryable: false,
    context: { replay_id: id },
  });
}
