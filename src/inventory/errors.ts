/**
 * Inventory's stable error codes. Callers and clients match on `code`, never on the message.
 * Their HTTP statuses are in routes.ts.
 */
import { LIMITS } from '../contract/index.ts';
import { AppError } from '../platform/index.ts';

export const InventoryErrorCodes = {
  /** No such product for this tenant (another tenant's id looks the same as a missing one). */
  PRODUCT_NOT_FOUND: 'ERP_INV_PRODUCT_NOT_FOUND',
  /** The tenant already has a product with this sku. */
  DUPLICATE_SKU: 'ERP_INV_DUPLICATE_SKU',
  /** A create for a product id that exists. */
  PRODUCT_EXISTS: 'ERP_INV_PRODUCT_EXISTS',
  /** The adjustment would take stock below zero, or below the units reserved for orders. */
  INSUFFICIENT_STOCK: 'ERP_INV_INSUFFICIENT_STOCK',
  /** The adjustment would take stock past the bound a product can hold (LIMITS.quantity). */
  STOCK_LIMIT: 'ERP_INV_STOCK_LIMIT',
  /** Another writer appended to the same stream first; the command retries from fresh state. */
  VERSION_CONFLICT: 'ERP_INV_VERSION_CONFLICT',
} as const;

export type InventoryErrorCode = (typeof InventoryErrorCodes)[keyof typeof InventoryErrorCodes];

export function productNotFound(productId: string): AppError {
  return new AppError(InventoryErrorCodes.PRODUCT_NOT_FOUND, `product ${productId} not found`, {
    context: { product_id: productId },
  });
}

export function duplicateSku(sku: string): AppError {
  return new AppError(
    InventoryErrorCodes.DUPLICATE_SKU,
    `a product with sku ${sku} already exists`,
    { context: { sku } },
  );
}

export function productExists(productId: string): AppError {
  return new AppError(InventoryErrorCodes.PRODUCT_EXISTS, `product ${productId} already exists`, {
    context: { product_id: productId },
  });
}

export function insufficientStock(
  productId: string,
  onHand: number,
  change: number,
  reserved = 0,
): AppError {
  return new AppError(
    InventoryErrorCodes.INSUFFICIENT_STOCK,
    reserved === 0
      ? `adjusting by ${change} would take stock of ${productId} below zero (on hand: ${onHand})`
      : `adjusting by ${change} would take stock of ${productId} below the ${reserved} reserved for orders (on hand: ${onHand})`,
    {
      context: {
        product_id: productId,
        quantity_on_hand: onHand,
        quantity_change: change,
        quantity_reserved: reserved,
      },
    },
  );
}

export function stockLimit(productId: string, onHand: number, change: number): AppError {
  return new AppError(
    InventoryErrorCodes.STOCK_LIMIT,
    `adjusting by ${change} would take stock of ${productId} past ${LIMITS.quantity} (on hand: ${onHand})`,
    {
      context: {
        product_id: productId,
        quantity_on_hand: onHand,
        quantity_change: change,
        limit: LIMITS.quantity,
      },
    },
  );
}

export function versionConflict(productId: string, expected: number): AppError {
  return new AppError(
    InventoryErrorCodes.VERSION_CONFLICT,
    `product ${productId} changed concurrently`,
    {
      retryable: true,
      context: { product_id: productId, expected_version: expected },
    },
  );
}

export function isVersionConflict(err: unknown): boolean {
  return err instanceof AppError && err.code === InventoryErrorCodes.VERSION_CONFLICT;
}
