/**
 * A pool whose clients answer queries through a function of ours (named prepared statements, the
 * tenant setting). One wrapper per client, kept for the client's life: Kysely keys its connection
 * state (and the backend pid) by the client object it is handed.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';

interface PoolClientLike {
  release(destroy?: boolean): void;
}

export function wrapPoolClients<C extends PoolClientLike>(
  pool: { options: PostgresPool['options']; connect(): Promise<C>; end(): Promise<void> },
  query: (client: C, text: unknown, parameters?: readonly unknown[]) => Promise<unknown>,
  onRelease?: (client: C) => void,
): PostgresPool {
  const wrappers = new WeakMap<C, PostgresPoolClient>();
  return {
    options: pool.options,
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = {
          query: ((text: unknown, parameters?: readonly unknown[]) =>
            query(client, text, parameters)) as unknown as PostgresPoolClient['query'],
          release: (destroy?: boolean) => {
            onRelease?.(client);
            client.release(destroy);
          },
          get processID() {
            return (client as unknown as { processID?: number }).processID;
          },
        };
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
