/**
 * Gives Kysely a `pg` pool whose parameterized statements are named prepared statements, so that
 * PostgreSQL parses and plans each statement text once per connection instead of on every call.
 *
 * Why: Kysely sends every query as an unnamed statement, which PostgreSQL parses, analyses and
 * plans from scratch each time. A CPU profile of PostgreSQL under the end-to-end bench (perf,
 * 2 cores) had more than half of its time in parse, analysis and planning of our CTE statements.
 * A named statement is parsed once per connection (node-pg remembers which names a connection
 * has), and after five executions PostgreSQL may keep a generic plan.
 *
 * Bounds: only statements with 1..MAX_PARAMETERS parameters are named (multi-row inserts have a
 * different text for every row count and are amortized over their rows anyway), and at most
 * MAX_NAMES distinct texts per process; past that, statements go unnamed as before.
 *
 * A migration that changes a table's columns while we run (a rolling deploy) makes PostgreSQL
 * refuse prepared statements whose result columns changed ("cached plan must not change result
 * type"). Such a text then gets a new name, prepared afresh on each connection; outside a
 * transaction the failed call is repeated once at once, inside one the transaction fails and its
 * retry works.
 */
import { createHash } from 'node:crypto';
import type { PostgresPool } from 'kysely';
import type pg from 'pg';
import { wrapPoolClients } from './wrapped-pool.ts';

const MAX_PARAMETERS = 64;
const MAX_NAMES = 500;

export function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const renames = new Map<string, number>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_NAMES) {
      name = `k_${createHash('sha1').update(text).digest('base64url')}`;
      names.set(text, name);
    }
    return name;
  };
  const rename = (text: string): void => {
    const n = (renames.get(text) ?? 0) + 1;
    renames.set(text, n);
    names.set(text, `k_${createHash('sha1').update(text).digest('base64url')}_${n}`);
  };
  // Kysely opens and ends transactions with these raw statements on the connection.
  const inTransaction = new WeakSet<pg.PoolClient>();
  const track = (client: pg.PoolClient, text: string): void => {
    const verb = text.slice(0, 8).toLowerCase();
    if (verb.startsWith('begin') || verb.startsWith('start')) inTransaction.add(client);
    else if (verb.startsWith('commit') || verb.startsWith('rollback')) inTransaction.delete(client);
  };
  const query = async (
    client: pg.PoolClient,
    text: unknown,
    parameters?: readonly unknown[],
  ): Promise<unknown> => {
    // Cursors (streaming) pass an object: hand them through untouched.
    if (typeof text !== 'string') return client.query(text as never);
    const values = parameters === undefined ? [] : [...parameters];
    const named = values.length > 0 && values.length <= MAX_PARAMETERS;
    const name = named ? nameOf(text) : undefined;
    if (name === undefined) {
      track(client, text);
      return client.query({ text, values });
    }
    try {
      return await client.query({ name, text, values });
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      if (names.get(text) === name) rename(text);
      if (inTransaction.has(client)) throw err;
      return client.query({ name: names.get(text), text, values });
    }
  };
  return wrapPoolClients(pool, query);
}

function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === '0A000' &&
    typeof e.message === 'string' &&
    e.message.includes('cached plan must not change result type')
  );
}
