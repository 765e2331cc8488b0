/** Inventory's own environment variables (the shared ones are the platform's). */
import { defineSettings, env } from '../platform/index.ts';

export interface InventorySettings {
  /** INVENTORY_METRICS_PORT: GET /metrics without a token on this port too; default none. */
  metricsPort: number | undefined;
  /** INVENTORY_PORT, default 3001. */
  port: number;
  /** INVENTORY_DATABASE_URL: PostgreSQL; unset means PGlite in DATA_DIR. */
  databaseUrl: string | undefined;
}

export const inventorySettings = defineSettings({
  variables: {
    INVENTORY_METRICS_PORT: env.port.optional(),
    INVENTORY_PORT: env.port.default(3001),
    INVENTORY_DATABASE_URL: env.optionalText,
  },
  settings: (v): InventorySettings => ({
    port: v.INVENTORY_PORT,
    metricsPort: v.INVENTORY_METRICS_PORT,
    databaseUrl: v.INVENTORY_DATABASE_URL,
  }),
});
