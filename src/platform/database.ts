/**
 * One Kysely type over two engines: PostgreSQL through `pg` in production, PGlite embedded by
 * default (a new user needs no database server). Repositories only see `Kysely<DB>`; this file
 * is the only one that knows which engine is underneath.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AppError } from './errors.ts';
import { keepListening, type Listener } from './pg-listener.ts';
import { preparingPool } from './prepared-pool.ts';

export interface DatabaseOptions {
  /** PostgreSQL connection string. When absent, PGlite is used. */
  url?: string;
  /** PGlite data folder. Default: none, i.e. in memory (tests). Ignored with `url`. */
  dataDir?: string;
  /** PostgreSQL only: schema to create and put first on the search_path (test isolation). */
  schema?: string;
  /** PostgreSQL only: connections in the pool. Default: 10. */
  poolSize?: number;
  /** PostgreSQL only: run parameterized statements as named prepared statements. Default: true. */
  preparedStatements?: boolean;
}

export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly kind: 'postgres' | 'pglite';
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

// int8 and numeric come back as strings by default; our counts and prices fit in a double.
const toNumber = (value: string): number => Number(value);

export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  const { url } = options;
  return url === undefined
    ? openPglite<DB>(options.dataDir)
    : openPostgres<DB>({ ...options, url });
}

async function openPostgres<DB>(options: DatabaseOptions & { url: string }): Promise<Database<DB>> {
  const schema = options.schema;
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new AppError('ERP_DB_INVALID_SCHEMA', `invalid schema name "${schema}"`);
    }
    const admin = new pg.Client({ connectionString: options.url });
    await connectOrThrow(admin, options.url);
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        oid === 20 || oid === 1700
          ? toNumber
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // pg-pool listens for errors only on idle clients. A checked-out client whose server goes away
  // (restart, pg_terminate_backend) emits 'error' with no listener, which would crash the
  // process; its query still rejects with the error, and the pool drops the broken client.
  pool.on('connect', (client) => client.on('error', () => {}));
  const probe = await pool.connect().catch((err: unknown) => {
    throw unreachable(options.url, err);
  });
  probe.release();
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: options.preparedStatements === false ? pool : preparingPool(pool),
    }),
  });
  const listeners = new Set<Listener>();
  const lockClients = new Set<pg.Client>();
  return {
    db,
    kind: 'postgres',
    async exec(script) {
      // One pinned connection, so that a failed script's transaction is rolled back where it began.
      const client = await pool.connect();
      try {
        await client.query(script);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const listener = await keepListening(
        async () => {
          const client = new pg.Client(clientConfig);
          await connectOrThrow(client, options.url);
          return client;
        },
        channel,
        onNotify,
      );
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
        await listener.stop();
      };
    },
    async tryLock(key) {
      const client = new pg.Client(clientConfig);
      await connectOrThrow(client, options.url);
      let held = false;
      const lost = () => {
        held = false;
        lockClients.delete(client);
      };
      client.on('error', lost);
      client.on('end', lost);
      try {
        const result = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
          [key],
        );
        held = result.rows[0]?.locked === true;
      } catch (err) {
        await client.end().catch(() => {});
        throw err;
      }
      if (!held) {
        await client.end().catch(() => {});
        return null;
      }
      lockClients.add(client);
      return {
        get held() {
          return held;
        },
        // Ending the session releases the lock; no explicit unlock round trip needed.
        async release() {
          lost();
          await client.end().catch(() => {});
        },
      };
    },
    async close() {
      const stopping = [...listeners].map((l) => l.stop());
      listeners.clear();
      const clients = [...lockClients];
      lockClients.clear();
      await Promise.all([...stopping, ...clients.map((c) => c.end().catch(() => {}))]);
      await db.destroy();
    },
  };
}

async function openPglite<DB>(dataDir: string | undefined): Promise<Database<DB>> {
  const release = dataDir === undefined ? () => {} : lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = new PGlite({
      ...(dataDir === undefined ? {} : { dataDir }),
      parsers: { [pgliteTypes.INT8]: toNumber, [pgliteTypes.NUMERIC]: toNumber },
    });
    await pglite.waitReady;
  } catch (err) {
    release();
    throw new AppError('ERP_DB_OPEN_FAILED', `cannot open PGlite at ${dataDir ?? 'memory'}`, {
      cause: err,
    });
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  const locks = new Set<string>();
  return {
    db,
    kind: 'pglite',
    async exec(script) {
      try {
        await pglite.exec(script);
      } catch (err) {
        await pglite.exec('ROLLBACK').catch(() => {});
        throw err;
      }
    },
    async listen(channel, onNotify) {
      const stop = await pglite.listen(channel, onNotify);
      return async () => {
        if (!pglite.closed) await stop();
      };
    },
    tryLock(key) {
      // PGlite's one connection would make a session lock re-entrant for every caller.
      if (locks.has(key)) return Promise.resolve(null);
      locks.add(key);
      let held = true;
      return Promise.resolve({
        get held() {
          return held;
        },
        release() {
          if (held) locks.delete(key);
          held = false;
          return Promise.resolve();
        },
      });
    },
    async close() {
      await db.destroy();
      release();
    },
  };
}

/**
 * PGlite has no lock of its own: two processes opening one folder corrupt it
 * (electric-sql/pglite#1106). A pid file beside the folder refuses the second one.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  mkdirSync(dirname(lockFile), { recursive: true });
  try {
    const holder = Number(readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new AppError(
        'ERP_DB_LOCKED',
        `PGlite data folder ${dataDir} is in use by process ${holder}; stop it first or set a database URL`,
        { context: { dataDir, pid: holder } },
      );
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function connectOrThrow(client: pg.Client, url: string): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    throw unreachable(url, err);
  }
}

function unreachable(url: string, cause: unknown): AppError {
  const safe = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  return new AppError('ERP_DB_UNREACHABLE', `cannot connect to PostgreSQL at ${safe}`, {
    retryable: true,
    cause,
  });
}

/** PostgreSQL SQLSTATEs worth another try: serialization, deadlock, connection loss, shutdown. */
export function isRetryableDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === '40001' ||
    code === '40P01' ||
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P03'
  );
}
