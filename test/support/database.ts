/**
 * A fresh, migrated database per test: PostgreSQL in a schema of its own when DATABASE_URL is
 * set (CI runs the suite once that way), PGlite in memory otherwise.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/platform/database.ts';
import type { Database } from '../../src/platform/database.ts';
import { migrate } from '../../src/platform/migrations.ts';

/** Anything that runs a function at the end: a test context, or a wrapper of node:test's `after`. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export const databaseUrl: string | undefined = process.env['DATABASE_URL'] || undefined;

export async function testDatabase<DB>(
  t: Cleanup,
  migrations: 'inventory' | 'sales' | null,
): Promise<Database<DB> & { url?: string; schema?: string }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const database = await openDatabase<DB>(
    databaseUrl === undefined ? {} : { url: databaseUrl, schema },
  );
  if (migrations !== null)
    await migrate(database, new URL(`../../migrations/${migrations}`, import.meta.url).pathname);
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
