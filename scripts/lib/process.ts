import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Runs a command to completion, collecting output for error messages. */
export function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, out }));
  });
}

/** Alive and not a zombie: a dead child of a still-running parent stays in the table as "Z". */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return procState(pid) !== 'Z'; // null without /proc (macOS): kill(0) is all we have
}

/** The state letter in /proc/<pid>/stat (R, S, T for stopped, Z...), null without /proc. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Pids get reused: a live pid counts as ours only when its command line passes `isOurs`. */
export function isOurProcess(pid: number, isOurs: (argv: string[]) => boolean): boolean {
  if (!isAlive(pid)) return false;
  try {
    return isOurs(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return true; // no /proc (macOS): kill(0) is all we have
  }
}

/** After a SIGTERM: waits until `deadline`, then SIGKILLs (`beforeKill` says so) and waits again. */
export async function awaitExit(
  pid: number,
  deadline: number,
  beforeKill: () => void,
): Promise<void> {
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) {
    beforeKill();
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
}
