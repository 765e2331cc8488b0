/** The zero-setup engine: PostgreSQL compiled to WASM, in process, one connection. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import { withCodedErrors } from './coded-errors.ts';
import { toNumber } from './database.ts';
import type { Database } from './database.ts';
import { toDatabaseError } from './errors.ts';
import {
  emptyClusterTemplate,
  forgetEmptyCluster,
  rememberEmptyCluster,
} from './pglite-template.ts';
import { TENANT_ROLE, TENANT_SETTING } from './tenant-isolation.ts';

export async function openPglite<DB>(dataDir: string | undefined): Promise<Database<DB>> {
  const release = dataDir === undefined ? () => {} : lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = await startPglite(dataDir);
  } catch (err) {
    release();
    throw new AppError(
      PlatformErrorCodes.DB_OPEN_FAILED,
      `cannot open PGlite at ${dataDir ?? 'memory'}`,
      { cause: err },
    );
  }
  const db = new Kysely<DB>({ dialect: withCodedErrors(new PGliteDialect({ pglite })) });
  const locks = new Set<string>();
  return {
    db,
    kind: 'pglite',
    inTenant(tenantId, fn) {
      // Both settings are local to the transaction: they end with it, commit or rollback.
      return db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('role', ${TENANT_ROLE}, true),
          set_config(${TENANT_SETTING}, ${tenantId}, true)`.execute(trx);
        return fn(trx);
      });
    },
    async exec(script) {
      try {
        await pglite.exec(script);
      } catch (err) {
        await pglite.exec('ROLLBACK').catch(() => {});
        throw toDatabaseError(err);
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
      // Kysely closes PGlite only if it ran a query through it; one opened from the template
      // and left open keeps the process alive (every test file that only LISTENed hung in CI).
      if (!pglite.closed) await pglite.close();
      release();
    },
  };
}

/** A cluster that is new (in memory, or an absent or empty folder) starts from the template. */
async function startPglite(dataDir: string | undefined): Promise<PGlite> {
  const options = {
    ...(dataDir === undefined ? {} : { dataDir }),
    parsers: { [pgliteTypes.INT8]: toNumber, [pgliteTypes.NUMERIC]: toNumber },
  };
  const fresh = dataDir === undefined || !existsSync(dataDir) || readdirSync(dataDir).length === 0;
  const template = fresh ? await emptyClusterTemplate() : undefined;
  if (template !== undefined) {
    try {
      const pglite = new PGlite({ ...options, loadDataDir: template });
      await pglite.waitReady;
      return pglite;
    } catch {
      await forgetEmptyCluster();
      // A half-extracted folder would look like an existing cluster; it was empty before.
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const pglite = new PGlite(options);
  await pglite.waitReady;
  if (fresh) await rememberEmptyCluster(pglite);
  return pglite;
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
        PlatformErrorCodes.DB_LOCKED,
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
