/**
 * Idempotency-Key against a real database: a counter POST whose effect and stored response share
 * one transaction. The same key and request answer the first response with no second effect,
 * also from a new server on the same database (a restart) and under concurrency; another request
 * under the same key is 422; keys are per tenant.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  headerTenancy,
  idempotencyMigration,
  idempotent,
  migrate,
  pruneIdempotencyKeys,
  tenantOf,
} from '../../../src/platform/index.ts';
import type { Database } from '../../../src/platform/index.ts';
import { testDatabase } from '../../support/database.ts';

function counterServer(t: TestContext, database: Database<unknown>) {
  const server = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: { authenticator: headerTenancy() },
  });
  server.app.post('/things', async (request, reply) => {
    const tenantId = tenantOf(request);
    return idempotent(request, reply, database, tenantId, (store) =>
      database.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ n: number }>`
          INSERT INTO effects (tenant_id, n) VALUES (${tenantId}, 1)
          ON CONFLICT (tenant_id) DO UPDATE SET n = effects.n + 1 RETURNING n`.execute(trx);
        const response = {
          status: 201,
          body: { n: rows[0]?.n, body: request.body },
          headers: { location: `/things/${rows[0]?.n}` },
        };
        await store?.(trx, response);
        return response;
      }),
    );
  });
  t.after(() => server.app.close());
  return server.app;
}

async function setup(t: TestContext) {
  const database = await testDatabase<unknown>(t, null);
  await migrate(database, [idempotencyMigration()]);
  await database.exec('CREATE TABLE effects (tenant_id text PRIMARY KEY, n int NOT NULL)');
  const effects = async (tenant: string) =>
    (
      await sql<{ n: number }>`SELECT n FROM effects WHERE tenant_id = ${tenant}`.execute(
        database.db,
      )
    ).rows[0]?.n ?? 0;
  return { database, effects, app: counterServer(t, database) };
}

const post = (
  app: ReturnType<typeof counterServer>,
  tenant: string,
  key: string | undefined,
  body: object,
) =>
  app.inject({
    method: 'POST',
    url: '/things',
    headers: { 'x-tenant-id': tenant, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload: body,
  });

test('the same key and request answer the first response, with one effect, also after a restart', async (t) => {
  const { database, effects, app } = await setup(t);
  const first = await post(app, 'tenant-a', 'k-1', { a: 1 });
  assert.equal(first.statusCode, 201);
  const again = await post(app, 'tenant-a', 'k-1', { a: 1 });
  assert.equal(again.statusCode, 201);
  assert.deepEqual(again.json(), first.json());
  assert.equal(again.headers.location, first.headers.location);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(first.headers['idempotent-replayed'], undefined);
  assert.equal(await effects('tenant-a'), 1);

  // A new server on the same database: what a restart looks like.
  const restarted = counterServer(t, database);
  const later = await post(restarted, 'tenant-a', 'k-1', { a: 1 });
  assert.deepEqual([later.statusCode, later.json()], [201, first.json()]);
  assert.equal(await effects('tenant-a'), 1);

  // Without a key every request is new.
  await post(app, 'tenant-a', undefined, { a: 1 });
  await post(app, 'tenant-a', undefined, { a: 1 });
  assert.equal(await effects('tenant-a'), 3);
});

test('the same key with another request is 422 ERP_HTTP_IDEMPOTENCY_KEY_REUSED, no effect', async (t) => {
  const { effects, app } = await setup(t);
  await post(app, 'tenant-a', 'k-2', { a: 1 });
  const other = await post(app, 'tenant-a', 'k-2', { a: 2 });
  assert.equal(other.statusCode, 422);
  assert.equal(other.json().error.code, 'ERP_HTTP_IDEMPOTENCY_KEY_REUSED');
  assert.equal(await effects('tenant-a'), 1);
});

test('keys are per tenant, and a malformed key is 400 ERP_HTTP_INVALID_IDEMPOTENCY_KEY', async (t) => {
  const { effects, app } = await setup(t);
  await post(app, 'tenant-a', 'shared', { a: 1 });
  const b = await post(app, 'tenant-b', 'shared', { a: 1 });
  assert.equal(b.statusCode, 201);
  assert.equal(b.headers['idempotent-replayed'], undefined);
  assert.deepEqual([await effects('tenant-a'), await effects('tenant-b')], [1, 1]);
  for (const key of ['', 'x'.repeat(256), 'with space', 'tab\tkey']) {
    const bad = await post(app, 'tenant-a', key, { a: 1 });
    assert.equal(bad.statusCode, 400, JSON.stringify(key));
    assert.equal(bad.json().error.code, 'ERP_HTTP_INVALID_IDEMPOTENCY_KEY');
  }
  assert.equal(await effects('tenant-a'), 1);
});

test('concurrent retries of one request have one effect and one answer', async (t) => {
  const { effects, app } = await setup(t);
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => post(app, 'tenant-a', 'k-race', { a: 1 })),
  );
  assert.deepEqual(new Set(answers.map((a) => a.statusCode)), new Set([201]));
  assert.equal(new Set(answers.map((a) => a.body)).size, 1, 'every answer is the first one');
  assert.equal(await effects('tenant-a'), 1);
});

test('keys older than the retention are pruned; newer ones stay', async (t) => {
  const { database, app } = await setup(t);
  await post(app, 'tenant-a', 'old', { a: 1 });
  await post(app, 'tenant-a', 'new', { a: 1 });
  await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`.execute(
    database.db,
  );
  assert.equal(await pruneIdempotencyKeys(database.db, new Date(Date.now() - 24 * 3_600_000)), 1);
  const keys = await sql<{ key: string }>`SELECT key FROM idempotency_keys`.execute(database.db);
  assert.deepEqual(
    keys.rows.map((r) => r.key),
    ['new'],
  );
});
