// The Inventory service's public surface: what its main, the system tests, the bench and
// operators' tools use. Anything else in this folder is Inventory's own business.
export { INVENTORY_OUTBOX_CHANNEL, inventoryService } from './app.ts';
export type { InventoryParts } from './app.ts';
export type { CommandHandler } from './commands.ts';
export type { InventoryDB } from './db.ts';
export { InventoryErrorCodes } from './errors.ts';
export type { InventoryErrorCode } from './errors.ts';
export { inventorySettings } from './settings.ts';
export type { InventorySettings } from './settings.ts';
export { rebuildProducts } from './rebuild.ts';
export type { ProductDifference, RebuildOptions, RebuildSummary } from './rebuild.ts';
