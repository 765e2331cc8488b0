/**
 * `Idempotency-Key` on POST: the same key (per tenant) with the same request returns the first
 * response again with no second effect, also after a restart; the same key with another request
 * is 422. The response is stored in the same transaction as the effect, so there is no window
 * in which the effect committed without its key (or the key without its effect): a crash before
 * the commit leaves neither, and the retry runs the request afresh. Two identical requests at
 * once both run; the second one's insert of the key fails on the primary key, which rolls its
 * effect back, and it answers the first one's response.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database/database.ts';
import { isUniqueViolation } from '../database/errors.ts';
import type { Migration } from '../database/migrations.ts';
import { tenantIsolationSql } from '../database/tenant-isolation.ts';
import { AppError, PlatformErrorCodes } from '../errors.ts';

/** What a POST answered: replayed as it was. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Puts the response in the effect's transaction (any schema: the kit adds the table to each). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with the table
export type StoreResponse = (trx: Kysely<any>, response: StoredResponse) => Promise<void>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with the table
type AnyDb = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema with the table
type AnyDatabase = Pick<Database<any>, 'inTenant'>;

const TABLE = 'idempotency_keys';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The table, created by the service kit for every service, under the tenant policy: a request
 * reads and stores keys as its tenant (Database.inTenant), the prune spans tenants as the owner.
 * Databases that had the table before the policy get it from the services' own migrations.
 */
export function idempotencyMigration(): Migration {
  return {
    name: `platform:${TABLE}`,
    sql: `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  tenant_id     text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  status        integer NOT NULL,
  body          jsonb NOT NULL,
  headers       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX IF NOT EXISTS ${TABLE}_created ON ${TABLE} (created_at);
${tenantIsolationSql([TABLE])}`,
  };
}

interface Keyed {
  tenantId: string;
  key: string;
  hash: string;
}

/** The request's key, or undefined without the header; 400 for a malformed one. */
function keyOf(request: FastifyRequest, tenantId: string): Keyed | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined || !KEY_PATTERN.test(key)) {
    throw new AppError(
      PlatformErrorCodes.HTTP_INVALID_IDEMPOTENCY_KEY,
      'Idempotency-Key must be 1-255 visible ASCII characters',
      { context: { field: 'idempotency-key' } },
    );
  }
  // The request as the client sent it: method, path and body. A changed body under the same key
  // is a client bug (a reused key), not a retry.
  const hash = createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('base64url');
  return { tenantId, key, hash };
}

async function stored(db: AnyDb, k: Keyed): Promise<StoredResponse | undefined> {
  const { rows } = await sql<{
    request_hash: string;
    status: number;
    body: unknown;
    headers: Record<string, string>;
  }>`SELECT request_hash, status, body, headers FROM ${sql.table(TABLE)}
     WHERE tenant_id = ${k.tenantId} AND key = ${k.key}`.execute(db);
  const row = rows[0];
  if (row === undefined) return undefined;
  if (row.request_hash !== k.hash) {
    throw new AppError(
      PlatformErrorCodes.HTTP_IDEMPOTENCY_KEY_REUSED,
      'this Idempotency-Key was used with another request; use a new key for a new request',
      { context: { field: 'idempotency-key' } },
    );
  }
  return { status: row.status, body: row.body, headers: row.headers };
}

function send(reply: FastifyReply, response: StoredResponse, replayed: boolean): FastifyReply {
  void reply.code(response.status).headers(response.headers ?? {});
  if (replayed) void reply.header('idempotent-replayed', 'true');
  return reply.send(response.body);
}

/**
 * Runs a POST's effect at most once per Idempotency-Key (when the request has one). `run` does the
 * work and calls `store(trx, response)` inside the transaction that commits the effect (a
 * transaction of `database.inTenant(tenantId, …)`, so that the key is the tenant's); it returns
 * the response to send. Keys are looked up as the tenant, in a transaction of their own before
 * `run`'s (never nested in it: a request holds one connection at a time).
 */
export async function idempotent(
  request: FastifyRequest,
  reply: FastifyReply,
  database: AnyDatabase,
  tenantId: string,
  run: (store: StoreResponse | undefined) => Promise<StoredResponse>,
): Promise<FastifyReply> {
  const keyed = keyOf(request, tenantId);
  if (keyed === undefined) return send(reply, await run(undefined), false);
  const lookUp = () =>
    database.inTenant(tenantId, (db) => stored(db, keyed), { transaction: false });
  const seen = await lookUp();
  if (seen !== undefined) return send(reply, seen, true);
  const store: StoreResponse = async (trx, response) => {
    await sql`INSERT INTO ${sql.table(TABLE)} (tenant_id, key, request_hash, status, body, headers)
      VALUES (${keyed.tenantId}, ${keyed.key}, ${keyed.hash}, ${response.status},
        ${JSON.stringify(response.body)}::jsonb, ${JSON.stringify(response.headers ?? {})}::jsonb)`.execute(
      trx,
    );
  };
  try {
    return send(reply, await run(store), false);
  } catch (err) {
    // The same key committed meanwhile (a concurrent retry): ours rolled back with its effect.
    if (!isUniqueViolation(err, `${TABLE}_pkey`)) throw err;
    const first = await lookUp();
    if (first === undefined) throw err;
    return send(reply, first, true);
  }
}

/** Deletes keys older than `olderThan`; returns how many. */
export async function pruneIdempotencyKeys(db: AnyDb, olderThan: Date): Promise<number> {
  const result = await sql`DELETE FROM ${sql.table(TABLE)} WHERE created_at < ${olderThan}`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0);
}
