/** Sales' own environment variables (the shared ones are the platform's). */
import { defineSettings, env } from '../platform/index.ts';

export interface SalesSettings {
  /** SALES_METRICS_PORT: GET /metrics without a token on this port too; default none. */
  metricsPort: number | undefined;
  /** SALES_PORT, default 3002. */
  port: number;
  /** SALES_DATABASE_URL: PostgreSQL; unset means PGlite in DATA_DIR. */
  databaseUrl: string | undefined;
  /** SALES_WEBHOOK_URL: also notify the sales team by POSTing JSON here. */
  webhookUrl: string | undefined;
  /** KAFKA_CONSUMER_GROUP (the design document's), default sales-service-group. */
  consumerGroup: string;
}

export const salesSettings = defineSettings({
  variables: {
    SALES_METRICS_PORT: env.port.optional(),
    SALES_PORT: env.port.default(3002),
    SALES_DATABASE_URL: env.optionalText,
    SALES_WEBHOOK_URL: env.optionalText,
    KAFKA_CONSUMER_GROUP: env.text.default('sales-service-group'),
  },
  settings: (v): SalesSettings => ({
    port: v.SALES_PORT,
    metricsPort: v.SALES_METRICS_PORT,
    databaseUrl: v.SALES_DATABASE_URL,
    webhookUrl: v.SALES_WEBHOOK_URL,
    consumerGroup: v.KAFKA_CONSUMER_GROUP,
  }),
});
