/**
 * The PostgreSQL pool behind `Database.inTenant`: its connections run as TENANT_ROLE from their
 * start (a startup option, so no statement of theirs runs as the owner), and each remembers the
 * tenant its session was last set to. A checkout first asks for its tenant with SET_TENANT_SQL;
 * the wrapper sends it only when the connection's session holds another tenant, so a request of
 * the tenant the connection served last costs no extra round trip (the hot path is one stock
 * adjustment: its read and write were two round trips, and a third would cost about a tenth).
 *
 * The setting is made at session level, outside any transaction (inTenant sends it first on a
 * fresh checkout), so no rollback can undo it behind the memo's back; a failed SET forgets the
 * memo, and a destroyed connection takes it along.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { TENANT_SETTING } from './tenant-isolation.ts';

/** The statement inTenant sends first on each checkout, with the tenant as its one parameter. */
export const SET_TENANT_SQL = `SELECT set_config('${TENANT_SETTING}', $1, false)`;

export function tenantSessionPool(pool: PostgresPool): PostgresPool {
  const tenants = new WeakMap<PostgresPoolClient, string>();
  const query = async (
    client: PostgresPoolClient,
    text: unknown,
    parameters?: readonly unknown[],
  ): Promise<unknown> => {
    if (text !== SET_TENANT_SQL) return client.query(text as never, parameters as never);
    const tenant = parameters?.[0];
    if (typeof tenant !== 'string') throw new Error('SET_TENANT_SQL takes the tenant id');
    if (tenants.get(client) === tenant) {
      return { command: 'SELECT', rowCount: 1, rows: [{ set_config: tenant }] };
    }
    tenants.delete(client);
    const result = await client.query(SET_TENANT_SQL, [tenant]);
    tenants.set(client, tenant);
    return result;
  };
  // One wrapper per client: Kysely keys its connection state by it.
  const wrappers = new WeakMap<PostgresPoolClient, PostgresPoolClient>();
  return {
    options: pool.options,
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = {
          query: ((text: unknown, parameters?: readonly unknown[]) =>
            query(client, text, parameters)) as unknown as PostgresPoolClient['query'],
          release: (destroy?: boolean) => client.release(destroy),
          get processID() {
            return client.processID;
          },
        };
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
