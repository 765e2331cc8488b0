/** Opens the engine the options ask for: PostgreSQL with a URL, PGlite without. */
import type { Database, DatabaseOptions } from './database.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  const { url } = options;
  return url === undefined
    ? openPglite<DB>(options.dataDir)
    : openPostgres<DB>({ ...options, url });
}
