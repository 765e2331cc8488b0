import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process.ts';

export interface StartLock {
  /** The lock file; its folder must exist. It holds the owner's pid. */
  file: string;
  /** How long a start may take: waiters give up a minute after that. */
  startTimeoutMs: number;
  /** The error to throw when the owner is alive and still holds the lock past the wait. */
  timeoutError: (owner: number, file: string) => Error;
}

/**
 * Serialises starts across processes (test files run in parallel and each may start the broker).
 * A lock whose owner died is taken over.
 */
export async function withStartLock<T>(lock: StartLock, fn: () => Promise<T>): Promise<T> {
  const { file } = lock;
  const deadline = Date.now() + lock.startTimeoutMs + 60_000;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner > 0 && !isAlive(owner)) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw lock.timeoutError(owner, file);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
