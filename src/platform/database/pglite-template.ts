/**
 * A new PGlite cluster starts as a copy of a freshly initialised one instead of running initdb.
 * initdb is most of the cost of opening an empty PGlite (measured under load: 3.8 s with initdb,
 * 0.8 s from the copy), and the tests open hundreds of in-memory databases, each service process
 * a fresh folder. The copy is PGlite's own `dumpDataDir` tarball of an empty cluster (about 40 MB
 * uncompressed; gzip would make every open pay for inflating it), kept in the process and in the
 * OS temp folder keyed by PGlite's version and the user, so later processes skip initdb too.
 * It is written under a temporary name and renamed, so a reader never sees half of it; a copy
 * PGlite refuses is deleted and initdb runs as before.
 */
import { readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';

let inProcess: Promise<Blob | undefined> | undefined;

/** The empty cluster to start from, if one was made by this process or an earlier one. */
export function emptyClusterTemplate(): Promise<Blob | undefined> {
  inProcess ??= readFile(templateFile()).then(
    (bytes) => new Blob([bytes]),
    () => undefined,
  );
  return inProcess;
}

/** Keeps the cluster of a PGlite that just ran initdb (and nothing else) as the template. */
export async function rememberEmptyCluster(pglite: PGlite): Promise<void> {
  const template = await pglite.dumpDataDir('none');
  inProcess = Promise.resolve(template);
  const file = templateFile();
  const partial = `${file}.${process.pid}.partial`;
  try {
    await writeFile(partial, new Uint8Array(await template.arrayBuffer()));
    await rename(partial, file);
  } catch {
    // Only a speed-up: a read-only or full temp folder leaves every process running initdb.
    await rm(partial, { force: true });
  }
}

/** After PGlite refused the template: the next new cluster runs initdb and makes a new one. */
export async function forgetEmptyCluster(): Promise<void> {
  inProcess = undefined;
  await rm(templateFile(), { force: true });
}

let file: string | undefined;
/** Where the template is kept between processes. */
export function templateFile(): string {
  file ??= join(tmpdir(), `erp-events-pglite-${pgliteVersion()}-${userInfo().uid}.tar`);
  return file;
}

function pgliteVersion(): string {
  // The package's exports hide its package.json; it sits beside dist/, where the entry point is.
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const manifest = join(dirname(dirname(entry)), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
