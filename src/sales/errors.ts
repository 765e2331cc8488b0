/**
 * Error codes of the Sales service. Callers match on `code`; HTTP status is part of the code's
 * meaning, `retryable` says whether the same request may succeed later.
 */
import { AppError } from '../platform/errors.ts';

export const SALES_ERROR_CODES = {
  alertNotFound: 'ERP_SALES_ALERT_NOT_FOUND',
  alertNotOpen: 'ERP_SALES_ALERT_NOT_OPEN',
  forecastNotFound: 'ERP_SALES_FORECAST_NOT_FOUND',
  notificationFailed: 'ERP_SALES_NOTIFICATION_FAILED',
} as const;

export type SalesErrorCode = (typeof SALES_ERROR_CODES)[keyof typeof SALES_ERROR_CODES];

/** 404: no such alert for this tenant (another tenant's id looks the same as a missing one). */
export function alertNotFound(alertId: string): AppError {
  return new AppError(SALES_ERROR_CODES.alertNotFound, `alert ${alertId} not found`, {
    status: 404,
    context: { alert_id: alertId },
  });
}

/** 409: the alert was acknowledged already; acknowledging twice would rewrite its history. */
export function alertNotOpen(alertId: string, status: string): AppError {
  return new AppError(SALES_ERROR_CODES.alertNotOpen, `alert ${alertId} is ${status}, not open`, {
    status: 409,
    context: { alert_id: alertId, alert_status: status },
  });
}

/** 404: Sales has not forecast this product yet (no low-stock event seen for it). */
export function forecastNotFound(productId: string): AppError {
  return new AppError(SALES_ERROR_CODES.forecastNotFound, `no forecast for product ${productId}`, {
    status: 404,
    context: { product_id: productId },
  });
}

/** A notification channel could not deliver; retryable unless the receiver refused the content. */
export function notificationFailed(
  channel: string,
  message: string,
  options: { retryable: boolean; cause?: unknown; status?: number },
): AppError {
  return new AppError(SALES_ERROR_CODES.notificationFailed, `${channel}: ${message}`, {
    retryable: options.retryable,
    cause: options.cause,
    context: {
      channel,
      ...(options.status === undefined ? {} : { http_status: options.status }),
    },
  });
}
