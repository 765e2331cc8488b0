/**
 * Applies the SQL files of one folder in name order, once each, on PostgreSQL and PGlite alike.
 *
 * Written here rather than using Kysely's Migrator: that one runs each migration through the
 * extended query protocol, where PGlite refuses multi-statement scripts. Each file runs in one
 * transaction that first takes an advisory lock and inserts its bookkeeping row: when two
 * processes start at once, the second waits, then hits the primary key and skips the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Database } from './database.ts';
import { AppError } from './errors.ts';

const LOCK_KEY = 727_001;

export async function migrate<DB>(database: Database<DB>, folder: string): Promise<string[]> {
  const files = readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  await database.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const done = await sql<{ name: string }>`SELECT name FROM schema_migrations`.execute(database.db);
  const seen = new Set(done.rows.map((r) => r.name));
  const applied: string[] = [];
  for (const file of files) {
    if (seen.has(file)) continue;
    const script = readFileSync(join(folder, file), 'utf8');
    const name = file.replaceAll("'", "''");
    try {
      await database.exec(
        `BEGIN;\nSELECT pg_advisory_xact_lock(${LOCK_KEY});\nINSERT INTO schema_migrations (name) VALUES ('${name}');\n${script}\n;\nCOMMIT;`,
      );
      applied.push(file);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') continue; // applied meanwhile by another process
      throw new AppError(
        'ERP_DB_MIGRATION_FAILED',
        `migration ${file} failed: ${(err as Error).message}`,
        {
          cause: err,
          context: { migration: file },
        },
      );
    }
  }
  return applied;
}
