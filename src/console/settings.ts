/** The console's own environment variables (the shared ones, Kafka and auth included, are the platform's). */
import { z } from 'zod';
import { defineSettings, env } from '../platform/index.ts';

export interface ConsoleSettings {
  /** CONSOLE_PORT, default 3000. */
  port: number;
  /**
   * CONSOLE_HOST, default 127.0.0.1: an operator tool that can redrive dead letters stays on the
   * loopback interface unless somebody decides otherwise (then the start log warns loudly).
   */
  host: string;
  /** CONSOLE_INVENTORY_URL, default http://127.0.0.1:<INVENTORY_PORT or 3001>. */
  inventoryUrl: string;
  /** CONSOLE_SALES_URL, default http://127.0.0.1:<SALES_PORT or 3002>. */
  salesUrl: string;
  /** CONSOLE_POLL_MS, default 3000: how often the console reads metrics, readiness and lag. */
  pollMs: number;
  /** CONSOLE_HISTORY_POINTS, default 200: points kept per lag series (200 × 3 s = 10 minutes). */
  historyPoints: number;
  /**
   * CONSOLE_STUCK_ORDER_MS, default 900000 (15 minutes): an order in a non-final state longer
   * than this is highlighted as stuck.
   */
  stuckOrderMs: number;
  /** CONSOLE_TENANTS: tenants offered in the tenant picker (any other can be typed). Default: none. */
  tenants: readonly string[];
}

const list = z
  .string()
  .optional()
  .transform((v) => [
    ...new Set(
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ]);

const url = z.url({ protocol: /^https?$/ }).optional();

export const consoleSettings = defineSettings({
  variables: {
    CONSOLE_PORT: env.port.default(3000),
    CONSOLE_HOST: env.text.default('127.0.0.1'),
    CONSOLE_INVENTORY_URL: url,
    CONSOLE_SALES_URL: url,
    INVENTORY_PORT: env.port.default(3001),
    SALES_PORT: env.port.default(3002),
    CONSOLE_POLL_MS: env.positiveInt.default(3_000),
    CONSOLE_HISTORY_POINTS: env.positiveInt.max(10_000).default(200),
    CONSOLE_STUCK_ORDER_MS: env.positiveInt.default(900_000),
    CONSOLE_TENANTS: list,
  },
  settings: (v): ConsoleSettings => ({
    port: v.CONSOLE_PORT,
    host: v.CONSOLE_HOST,
    inventoryUrl: (v.CONSOLE_INVENTORY_URL ?? `http://127.0.0.1:${v.INVENTORY_PORT}`).replace(
      /\/$/,
      '',
    ),
    salesUrl: (v.CONSOLE_SALES_URL ?? `http://127.0.0.1:${v.SALES_PORT}`).replace(/\/$/, ''),
    pollMs: v.CONSOLE_POLL_MS,
    historyPoints: v.CONSOLE_HISTORY_POINTS,
    stuckOrderMs: v.CONSOLE_STUCK_ORDER_MS,
    tenants: v.CONSOLE_TENANTS,
  }),
});

/** True for addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
