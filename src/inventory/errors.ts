/** Inventory's stable error codes. Callers and clients match on `code`, never on the message. */
import { AppError } from '../platform/errors.ts';

export function productNotFound(productId: string): AppError {
  return new AppError('ERP_INV_PRODUCT_NOT_FOUND', `product ${productId} not found`, {
    status: 404,
    context: { product_id: productId },
  });
}

export function duplicateSku(sku: string): AppError {
  return new AppError('ERP_INV_DUPLICATE_SKU', `a product with sku ${sku} already exists`, {
    status: 409,
    context: { sku },
  });
}

export function productExists(productId: string): AppError {
  return new AppError('ERP_INV_PRODUCT_EXISTS', `product ${productId} already exists`, {
    status: 409,
    context: { product_id: productId },
  });
}

export function insufficientStock(productId: string, onHand: number, change: number): AppError {
  return new AppError(
    'ERP_INV_INSUFFICIENT_STOCK',
    `adjusting by ${change} would take stock of ${productId} below zero (on hand: ${onHand})`,
    {
      status: 409,
      context: { product_id: productId, quantity_on_hand: onHand, quantity_change: change },
    },
  );
}

/** Another writer appended to the same stream first; the command is retried from fresh state. */
export function versionConflict(productId: string, expected: number): AppError {
  return new AppError('ERP_INV_VERSION_CONFLICT', `product ${productId} changed concurrently`, {
    status: 409,
    retryable: true,
    context: { product_id: productId, expected_version: expected },
  });
}
