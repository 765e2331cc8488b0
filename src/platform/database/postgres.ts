/** The production engine: a `pg` pool behind Kysely, LISTEN and advisory locks on connections of their own. */
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import type { PostgresPool } from 'kysely';
import pg from 'pg';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import { withCodedErrors } from './coded-errors.ts';
import { toNumber } from './database.ts';
import type { Database, DatabaseOptions } from './database.ts';
import { toDatabaseError, unreachable } from './errors.ts';
import { keepListening, type Listener } from './listener.ts';
import { preparingPool } from './prepared-pool.ts';
import { TENANT_ROLE } from './tenant-isolation.ts';
import { SET_TENANT_SQL, tenantSessionPool } from './tenant-sessions.ts';

export async function openPostgres<DB>(
  options: DatabaseOptions & { url: string },
): Promise<Database<DB>> {
  const schema = options.schema;
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new AppError(PlatformErrorCodes.DB_INVALID_SCHEMA, `invalid schema name "${schema}"`);
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
  const kysely = (p: pg.Pool, wrap: (p: PostgresPool) => PostgresPool = (p) => p) =>
    new Kysely<DB>({
      dialect: withCodedErrors(
        new PostgresDialect({
          pool: wrap(options.preparedStatements === false ? p : preparingPool(p)),
        }),
      ),
    });
  const db = kysely(pool);
  // Requests get connections of their own that run as the tenant role from their start (see
  // tenant-sessions.ts); none is opened before the first request.
  const tenantPool = new pg.Pool({
    ...clientConfig,
    options: [`-c role=${TENANT_ROLE}`, clientConfig.options].filter(Boolean).join(' '),
    // Lets the tenant setting travel just ahead of a checkout's first statement; every other
    // statement is awaited before the next, so nothing else is pipelined.
    pipeline: true,
    max: options.poolSize ?? 10,
  });
  tenantPool.on('error', () => {});
  tenantPool.on('connect', (client) => client.on('error', () => {}));
  const tenantDb = kysely(tenantPool, tenantSessionPool);
  const listeners = new Set<Listener>();
  const lockClients = new Set<pg.Client>();
  const newClient = async (): Promise<pg.Client> => {
    const client = new pg.Client(clientConfig);
    await connectOrThrow(client, options.url);
    return client;
  };
  return {
    db,
    kind: 'postgres',
    inTenant(tenantId, fn, inTenantOptions) {
      return tenantDb.connection().execute(async (conn) => {
        await conn.executeQuery(CompiledQuery.raw(SET_TENANT_SQL, [tenantId]));
        return inTenantOptions?.transaction === false ? fn(conn) : conn.transaction().execute(fn);
      });
    },
    async exec(script) {
      // One pinned connection, so that a failed script's transaction is rolled back where it began.
      const client = await pool.connect().catch((err: unknown) => {
        throw unreachable(options.url, err);
      });
      try {
        await client.query(script);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw toDatabaseError(err);
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const listener = await keepListening(newClient, channel, onNotify);
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
        await listener.stop();
      };
    },
    async tryLock(key) {
      const client = await newClient();
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
        throw toDatabaseError(err);
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
      await Promise.all([db.destroy(), tenantDb.destroy()]);
    },
  };
}

async function connectOrThrow(client: pg.Client, url: string): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    throw unreachable(url, err);
  }
}
