/**
 * A fresh, migrated database per test: PostgreSQL in a schema of its own when DATABASE_URL is
 * set (CI runs the suite once that way), PGlite in memory otherwise. Migrated as the service kit
 * migrates the service (the messaging layer's outbox and inbox first, then the service's files).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inventoryService } from '../../src/inventory/index.ts';
import { serviceMigrations } from '../../src/messaging/index.ts';
import type { ServiceDefinition } from '../../src/messaging/index.ts';
import { loadServiceConfig, migrate, openDatabase } from '../../src/platform/index.ts';
import type { Database } from '../../src/platform/index.ts';
import { salesService } from '../../src/sales/index.ts';

/** Anything that runs a function at the end: a test context, or a wrapper of node:test's `after`. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export const databaseUrl: string | undefined = process.env['DATABASE_URL'] || undefined;

/** The migrations of the services the tests use, by service folder name. */
const MIGRATIONS = {
  inventory: () => migrationsOf(inventoryService),
  sales: () => migrationsOf(salesService()),
};

/** Every migration of a service, as the kit runs them (default settings). */
export function migrationsOf<DB, S, E>(service: ServiceDefinition<DB, S, E>) {
  const { config, settings } = loadServiceConfig(service.settings, {});
  return serviceMigrations(service, settings, config);
}

export async function testDatabase<DB>(
  t: Cleanup,
  migrations: keyof typeof MIGRATIONS | null,
): Promise<Database<DB> & { url?: string; schema?: string }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const database = await openDatabase<DB>(
    databaseUrl === undefined ? {} : { url: databaseUrl, schema },
  );
  if (migrations !== null) await migrate(database, MIGRATIONS[migrations]());
  t.after(async () => {
    await database.close();
    if (databaseUrl !== undefined) {
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
  return databaseUrl === undefined
    ? database
    : Object.assign(database, { url: databaseUrl, schema });
}
