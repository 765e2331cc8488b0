/**
 * The Inventory service as the service kit sees it: HTTP commands on event-sourced products,
 * whose event table is the outbox the kit's relay publishes to `inventory-events`. The kit does
 * the rest (see src/messaging/service).
 */
import { fileURLToPath } from 'node:url';
import { defineService } from '../messaging/index.ts';
import { createCommandHandler } from './commands.ts';
import type { CommandHandler } from './commands.ts';
import type { InventoryDB } from './db.ts';
import { INVENTORY_HTTP_STATUSES, registerInventoryRoutes } from './routes.ts';
import { inventorySettings } from './settings.ts';
import type { InventorySettings } from './settings.ts';

/** The NOTIFY channel that wakes a relay in another process when events commit. */
export const INVENTORY_OUTBOX_CHANNEL = 'inventory_outbox';

/** What Inventory exposes to its tests and tools. */
export interface InventoryParts {
  commands: CommandHandler;
}

export const inventoryService = defineService<InventoryDB, InventorySettings, InventoryParts>({
  name: 'inventory-service',
  id: 'inventory',
  description:
    'Products and their stock, per tenant. Every change is an event on the inventory topic (see /docs/asyncapi.json).',
  settings: inventorySettings,
  port: (s) => s.port,
  metricsPort: (s) => s.metricsPort,
  databaseUrl: (s) => s.databaseUrl,
  migrations: fileURLToPath(new URL('../../migrations/inventory', import.meta.url)),
  tenantTables: ['products', 'stock_movements'],
  outbox: { table: 'events', channel: INVENTORY_OUTBOX_CHANNEL },
  publishes: (config) => [config.kafka.inventoryTopic],
  errorStatuses: INVENTORY_HTTP_STATUSES,
  scopes: { read: 'inventory:read', write: 'inventory:write' },
  build({ config, database, outbox }) {
    const commands = createCommandHandler({ database, topic: config.kafka.inventoryTopic, outbox });
    return {
      routes: (app) => registerInventoryRoutes(app, { database, commands }),
      exposed: { commands },
    };
  },
});
