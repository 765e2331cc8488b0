import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../src/platform/errors.ts';
import { run } from './process.ts';

/**
 * `mvn dependency:copy-dependencies` of `pom` into `outputDirectory`: how the scripts assemble a
 * component from Maven Central (no other download is reachable here). `extra` narrows what is
 * copied (`-DincludeScope=runtime`, `-DexcludeTransitive=true`).
 */
export function copyDependencies(
  pom: string,
  outputDirectory: string,
  extra: string[],
): Promise<{ code: number; out: string }> {
  return run('mvn', [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    pom,
    'dependency:copy-dependencies',
    ...extra,
    `-DoutputDirectory=${outputDirectory}`,
  ]);
}

/** `<name>` of the pom's `<properties>` (the component's version); an AppError `code` when absent. */
export function pomProperty(pom: string, name: string, code: string): string {
  const escaped = name.replaceAll('.', '\\.');
  const value = new RegExp(`<${escaped}>([^<]+)</${escaped}>`)
    .exec(readFileSync(pom, 'utf8'))?.[1]
    ?.trim();
  if (!value) throw new AppError(code, `no <${name}> in ${pom}`);
  return value;
}

/**
 * Fills `dir` with the dependencies of `pom` unless it exists: copied into a temporary sibling,
 * `prepare`d there (unpacking an archive), then renamed into place, so that the folder's presence
 * means complete and two processes racing end with one copy. A failure gives Maven's (or
 * `prepare`'s) output for the caller's coded error; nothing is left behind.
 */
export async function fetchOnce(
  pom: string,
  dir: string,
  extra: string[],
  prepare: (tmp: string) => Promise<{ code: number; out: string }> = () =>
    Promise.resolve({ code: 0, out: '' }),
): Promise<{ code: number; out: string }> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const copied = await copyDependencies(pom, tmp, extra);
  const prepared = copied.code === 0 ? await prepare(tmp) : copied;
  if (prepared.code !== 0) {
    await rm(tmp, { recursive: true, force: true });
    return prepared;
  }
  await mkdir(resolve(dir, '..'), { recursive: true });
  try {
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw err; // else another process got there first: its copy is as good
  }
  return prepared;
}

/**
 * Unpacks a .tar.gz into its own folder and deletes it: the `prepare` step of `fetchOnce` for a
 * distribution that Maven Central serves as an archive.
 */
export async function unpackInPlace(archive: string): Promise<{ code: number; out: string }> {
  const unpacked = await run('tar', ['-xzf', archive, '-C', dirname(archive)]);
  if (unpacked.code === 0) await rm(archive);
  return unpacked;
}
