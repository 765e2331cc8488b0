/**
 * The Inventory service as the service kit sees it: HTTP commands on event-sourced products,
 * whose event table is the outbox the kit's relay publishes to `inventory-events`, and the order
 * saga's reservations, consumed from `sales-events` into its inbox (INVENTORY_CONSUMER_GROUP).
 * The kit does the rest (see src/messaging/service).
 */
import { fileURLToPath } from 'node:url';
import { defineService, EventRouter } from '../messaging/index.ts';
import { createCommandHandler } from './commands.ts';
import type { CommandHandler } from './commands.ts';
import type { InventoryDB } from './db.ts';
import { createOrderHandlers, lockOrderProducts } from './reservations.ts';
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
    'Products and their stock, per tenant, and the stock reserved for orders (the order saga, from the sales topic). Every change is an event on the inventory topic (see /docs/asyncapi.json).',
  settings: inventorySettings,
  port: (s) => s.port,
  metricsPort: (s) => s.metricsPort,
  databaseUrl: (s) => s.databaseUrl,
  migrations: fileURLToPath(new URL('../../migrations/inventory', import.meta.url)),
  tenantTables: ['products', 'stock_movements', 'reservations'],
  outbox: { table: 'events', channel: INVENTORY_OUTBOX_CHANNEL },
  publishes: (config) => [config.kafka.inventoryTopic],
  consumes: (config) => ({
    groupId: config.kafka.inventoryConsumerGroup,
    topics: [config.kafka.salesTopic],
  }),
  errorStatuses: INVENTORY_HTTP_STATUSES,
  scopes: { read: 'inventory:read', write: 'inventory:write' },
  build({ config, database, outbox }) {
    const topic = config.kafka.inventoryTopic;
    const commands = createCommandHandler({ database, topic, outbox });
    const orders = createOrderHandlers({ topic, commands, outbox });
    const handlers = new EventRouter<InventoryDB>()
      .on('sales.order_placed', orders.placed)
      .on('sales.order_cancelled', orders.cancelled)
      .on('sales.order_fulfilled', orders.fulfilled)
      .beforeRuns(lockOrderProducts);
    return {
      routes: (app) => registerInventoryRoutes(app, { database, commands }),
      handlers,
      exposed: { commands },
    };
  },
});
