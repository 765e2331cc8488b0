/**
 * One Kysely type over two engines: PostgreSQL through `pg` in production, PGlite embedded by
 * default (a new user needs no database server). Repositories only see `Kysely<DB>`; this folder
 * is the only place that knows which engine is underneath, and every error leaving it is coded
 * (errors.ts). openDatabase (open.ts) picks the engine.
 */
import type { Kysely } from 'kysely';

export interface DatabaseOptions {
  /** PostgreSQL connection string. When absent, PGlite is used. */
  url?: string;
  /** PGlite data folder. Default: none, i.e. in memory (tests). Ignored with `url`. */
  dataDir?: string;
  /** PostgreSQL only: schema to create and put first on the search_path (test isolation). */
  schema?: string;
  /**
   * PostgreSQL only: connections in each of the two pools, the owner's (`db`) and the requests'
   * (`inTenant`, as the tenant role); idle ones close after 10 s. Default: 10.
   */
  poolSize?: number;
  /** PostgreSQL only: run parameterized statements as named prepared statements. Default: true. */
  preparedStatements?: boolean;
}

export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` as the tenant: its statements see and write only `tenantId`'s rows, whatever their
   * WHERE clauses say (row-level security, tenant-isolation.ts). Every request path goes through
   * here; `db` above is the owner's handle, for the work that spans tenants (consumer, relay,
   * dispatcher, pruning) and for migrations. Use only the handle `fn` receives inside `fn` (like a
   * transaction's).
   *
   * By default `fn` runs in one transaction. With `transaction: false` on PostgreSQL its
   * statements commit one by one on one connection (a caller that needs no atomicity saves
   * BEGIN and COMMIT); PGlite runs a transaction either way, since only its exclusive transaction
   * keeps other callers' statements off the tenant's role on its one connection.
   */
  inTenant<T>(
    tenantId: string,
    fn: (db: Kysely<DB>) => Promise<T>,
    options?: { transaction?: boolean },
  ): Promise<T>;
  /** Runs a multi-statement SQL script (simple query protocol); rolls back an open transaction on failure. */
  exec(script: string): Promise<void>;
  /** LISTEN on a channel; resolves to a function that stops listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Takes an exclusive lock named `key` without waiting; null when someone else holds it. On
   * PostgreSQL a session advisory lock (`hashtext(key)`) on a connection of its own, so that it
   * lives exactly as long as that connection. On PGlite an in-process lock: the data folder's pid
   * lock already keeps other processes out.
   */
  tryLock(key: string): Promise<AdvisoryLock | null>;
  close(): Promise<void>;
}

export interface AdvisoryLock {
  /** False once released, or once its connection is gone (the server then dropped the lock). */
  readonly held: boolean;
  release(): Promise<void>;
}

/** int8 and numeric come back as strings by default; our counts and prices fit in a double. */
export const toNumber = (value: string): number => Number(value);
