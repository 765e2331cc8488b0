import { readFile, rm } from 'node:fs/promises';

/** The pid a pid file's text names, null when it names none. */
export function parsePid(raw: string): number | null {
  const n = Number(raw.trim());
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The pid in `file` while `isOurs(pid)`; a file naming a process that is gone is removed on the
 * way. `removeUnparsable` also removes a file that names no pid at all (the single broker has
 * always left such a file alone, the cluster removes it).
 */
export async function readLivePid(
  file: string,
  isOurs: (pid: number) => boolean,
  { removeUnparsable }: { removeUnparsable: boolean },
): Promise<number | null> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const pid = parsePid(raw);
  if (pid !== null && isOurs(pid)) return pid;
  if (pid !== null || removeUnparsable) await rm(file, { force: true });
  return null;
}
