/**
 * New PGlite clusters start from a copy of an empty one (src/platform/database/pglite-template.ts):
 * each must still be empty and independent, a folder must keep what was written to it, and a copy
 * PGlite refuses must cost a slower open, never a failed one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { openDatabase } from '../../../src/platform/index.ts';
import {
  forgetEmptyCluster,
  templateFile,
} from '../../../src/platform/database/pglite-template.ts';

async function tables(dataDir?: string): Promise<string[]> {
  const database = await openDatabase<unknown>(dataDir === undefined ? {} : { dataDir });
  try {
    const { rows } = await sql<{ name: string }>`
      SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'
      ORDER BY 1`.execute(database.db);
    return rows.map((r) => r.name);
  } finally {
    await database.close();
  }
}

test('a cluster made from the template is empty, whatever the cluster before it held', async () => {
  await forgetEmptyCluster();
  const first = await openDatabase<unknown>({});
  await sql`CREATE TABLE kept_by_the_first (id int)`.execute(first.db);
  await first.close();
  assert.ok((await stat(templateFile())).size > 1_000_000, 'the empty cluster is kept on disk');

  assert.deepEqual(await tables(), []);
});

test('a new folder made from the template keeps what is written to it', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'pglite-template-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'pglite');
  const database = await openDatabase<unknown>({ dataDir });
  await sql`CREATE TABLE products (id int)`.execute(database.db);
  await sql`INSERT INTO products VALUES (7)`.execute(database.db);
  await database.close();

  const again = await openDatabase<unknown>({ dataDir });
  t.after(() => again.close());
  const { rows } = await sql<{ id: number }>`SELECT id FROM products`.execute(again.db);
  assert.deepEqual(rows, [{ id: 7 }]);
});

test('a template PGlite refuses is replaced, and the open still succeeds', async () => {
  await forgetEmptyCluster();
  await writeFile(templateFile(), 'not a tarball');

  assert.deepEqual(await tables(), []);
  assert.ok((await stat(templateFile())).size > 1_000_000, 'a good template took its place');
});

test('a process that opens a cluster from the template and closes it without a query exits', async () => {
  await tables(); // makes sure the template exists, so the child starts from it
  const source = new URL('../../../src/platform/index.ts', import.meta.url).href;
  const script = `const { openDatabase } = await import(${JSON.stringify(source)});
    const database = await openDatabase({});
    await database.close();`;
  // Kysely closes PGlite only after a query through it, and such a PGlite kept the process
  // alive: every test file that only LISTENed hung until CI's time ran out.
  const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    timeout: 60_000,
  });
  await assert.doesNotReject(run, 'the process exits on its own');
});
