/**
 * Applies migrations in order, once each, on PostgreSQL and PGlite alike. A migration is a name
 * and a SQL script: the SQL files of a service's folder (readMigrations), and the tables the
 * messaging layer owns (the outbox, the inbox), which it defines once for every service.
 *
 * Written here rather than using Kysely's Migrator: that one runs each migration through the
 * extended query protocol, where PGlite refuses multi-statement scripts. Each migration runs in
 * one transaction that first takes an advisory lock and inserts its bookkeeping row: when two
 * processes start at once, the second waits, then hits the primary key and skips it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import type { Database } from './database.ts';
import { isUniqueViolation } from './errors.ts';

export interface Migration {
  /** Unique within the database; recorded in schema_migrations. */
  name: string;
  sql: string;
}

const LOCK_KEY = 727_001;

/** The `.sql` files of `folder` in name order, named by their file names. */
export function readMigrations(folder: string): Migration[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(folder, name), 'utf8') }));
}

/** Applies those of `migrations` not applied yet, in the order given; returns their names. */
export async function migrate<DB>(
  database: Database<DB>,
  migrations: readonly Migration[],
): Promise<string[]> {
  await database.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const done = await sql<{ name: string }>`SELECT name FROM schema_migrations`.execute(database.db);
  const seen = new Set(done.rows.map((r) => r.name));
  const applied: string[] = [];
  for (const migration of migrations) {
    if (seen.has(migration.name)) continue;
    const name = migration.name.replaceAll("'", "''");
    try {
      await database.exec(
        `BEGIN;\nSELECT pg_advisory_xact_lock(${LOCK_KEY});\nINSERT INTO schema_migrations (name) VALUES ('${name}');\n${migration.sql}\n;\nCOMMIT;`,
      );
      applied.push(migration.name);
    } catch (err) {
      // Applied meanwhile by another process.
      if (isUniqueViolation(err, 'schema_migrations_pkey')) continue;
      throw new AppError(
        PlatformErrorCodes.DB_MIGRATION_FAILED,
        `migration ${migration.name} failed: ${(err as Error).message}`,
        { cause: err, context: { migration: migration.name } },
      );
    }
  }
  return applied;
}
