/**
 * A test-only minor version of the contract: inventory.stock_adjusted 1.1 adds `direction`
 * ('in' | 'out', from the sign of quantity_change) and 1.2 adds `units` (its magnitude). Test-only
 * because the real contract is still 1.0 everywhere: shipping a 1.1 would change what Inventory
 * writes, for a field no consumer needs yet. Both fields are additions, as minors must be: a
 * 1.0 consumer reads 1.1 and 1.2 events unchanged (payloads are loose objects).
 */
import { z } from 'zod';
import { defineUpcasters } from '../../src/contract/index.ts';
import type { StockAdjustedPayload, UpcasterStep } from '../../src/contract/index.ts';

const to11: UpcasterStep = {
  type: 'inventory.stock_adjusted',
  from: '1.0',
  to: '1.1',
  upcast: (p) => ({ ...p, direction: Number(p['quantity_change']) > 0 ? 'in' : 'out' }),
};

const to12: UpcasterStep = {
  type: 'inventory.stock_adjusted',
  from: '1.1',
  to: '1.2',
  upcast: (p) => ({ ...p, units: Math.abs(Number(p['quantity_change'])) }),
};

export const STEPS = { to11, to12 };

/** 1.0 → 1.1 → 1.2, as a 1.2 reader registers them. */
export const upcastersTo12 = defineUpcasters([to11, to12]);

/** What a handler written for 1.2 expects on top of the 1.0 schema. */
export const stockAdjusted12Schema = z.object({
  direction: z.enum(['in', 'out']),
  units: z.int().positive(),
});

export type StockAdjusted12 = StockAdjustedPayload & z.output<typeof stockAdjusted12Schema>;
