/**
 * The PostgreSQL pool behind `Database.inTenant`: its connections run as TENANT_ROLE from their
 * start (a startup option, so no statement of theirs runs as the owner), and each remembers the
 * tenant its session was last set to. A checkout first asks for its tenant with SET_TENANT_SQL;
 * the wrapper answers it at once when the connection's session already holds that tenant, and
 * otherwise sends it pipelined just ahead of the checkout's first statement (the connections are
 * in pg's pipeline mode): a switch of tenant then costs no round trip of its own. The hot path,
 * one stock adjustment, is two round trips; a third for the tenant cost about a tenth of the
 * end-to-end throughput with the bench's ten tenants.
 *
 * The setting is made at session level, outside any transaction (inTenant asks for it first on a
 * fresh checkout), so no rollback can undo it behind the memo's back. Should the setting fail,
 * the statement behind it has run under the session's previous tenant: its result is dropped and
 * the setting's error raised instead, so nothing it read reaches the caller (and a write carrying
 * its own tenant filter matched nothing under both), and the memo is forgotten, so the next
 * checkout sends the tenant again.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { TENANT_SETTING } from './tenant-isolation.ts';
import { wrapPoolClients } from './wrapped-pool.ts';

/** The statement inTenant sends first on each checkout, with the tenant as its one parameter. */
export const SET_TENANT_SQL = `SELECT set_config('${TENANT_SETTING}', $1, false)`;

export function tenantSessionPool(pool: PostgresPool): PostgresPool {
  /** The tenant each connection's session holds. */
  const tenants = new WeakMap<PostgresPoolClient, string>();
  /** The tenant to send ahead of the connection's next statement. */
  const pending = new WeakMap<PostgresPoolClient, string>();
  const query = async (
    client: PostgresPoolClient,
    text: unknown,
    parameters?: readonly unknown[],
  ): Promise<unknown> => {
    if (text === SET_TENANT_SQL) {
      const tenant = parameters?.[0];
      if (typeof tenant !== 'string') throw new Error('SET_TENANT_SQL takes the tenant id');
      if (tenants.get(client) === tenant) pending.delete(client);
      else pending.set(client, tenant);
      return { command: 'SELECT', rowCount: 1, rows: [{ set_config: tenant }] };
    }
    const tenant = pending.get(client);
    if (tenant === undefined) return client.query(text as never, parameters as never);
    pending.delete(client);
    tenants.delete(client);
    // Both are queued before either is awaited: pipeline mode writes them back to back.
    const set = client.query(SET_TENANT_SQL, [tenant]);
    const statement = client.query(text as never, parameters as never);
    try {
      await set;
    } catch (err) {
      statement.then(
        () => {},
        () => {},
      );
      throw err;
    }
    tenants.set(client, tenant);
    return statement;
  };
  // A checkout that ran no statement leaves nothing for the next one.
  return wrapPoolClients(pool, query, (client) => pending.delete(client));
}
