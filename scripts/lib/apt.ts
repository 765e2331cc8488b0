/**
 * Debian packages the project needs at test time (prometheus, chromium), installed with apt-get
 * the first time, as root (CI and these machines run as root), so that a fresh machine needs
 * nothing installed by hand. One process at a time (parallel test files both ask); apt-get also
 * waits for dpkg's own lock.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../src/platform/errors.ts';
import { run } from './process.ts';
import { withStartLock } from './start-lock.ts';

export interface DebianPackage {
  /** The package, e.g. `chromium`. */
  name: string;
  /** What it installs that we run: installed means all of them exist. */
  binaries: string[];
  /** Where the install lock lives (the component's .data folder). */
  lockDir: string;
  /** Coded error of a failed install, e.g. ERP_CHROMIUM_INSTALL_FAILED. */
  errorCode: string;
  say: (line: string) => void;
  /** Run after a fresh install (e.g. stop a system service the package started). */
  afterInstall?: () => Promise<void>;
}

export async function ensureDebianPackage(pkg: DebianPackage): Promise<void> {
  const installed = () => pkg.binaries.every((b) => existsSync(b));
  if (installed()) return;
  // The end of apt-get's output, where the reason is.
  const failure = (what: string, out: string) =>
    new AppError(pkg.errorCode, `${what}:\n${out.slice(-3000)}`);
  await mkdir(pkg.lockDir, { recursive: true });
  await withStartLock(
    {
      file: join(pkg.lockDir, 'install.lock'),
      startTimeoutMs: 600_000,
      timeoutError: (owner) =>
        failure(`another process (${owner}) has been installing ${pkg.name} for too long`, ''),
    },
    async () => {
      if (installed()) return;
      if (process.getuid?.() !== 0) {
        throw failure(`${pkg.name} is not installed and only root can install it`, '');
      }
      pkg.say(`installing the Debian package ${pkg.name} (once)…`);
      const started = Date.now();
      const aptGet = (...args: string[]) =>
        run('env', [
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          '-o',
          'DPkg::Lock::Timeout=300',
          ...args,
        ]);
      const install = () => aptGet('install', '-y', '--no-install-recommends', pkg.name);
      let result = await install();
      // A machine whose package lists were never fetched knows no such package: fetch them once.
      if (result.code !== 0) {
        const updated = await aptGet('update');
        if (updated.code !== 0) throw failure('apt-get update failed', updated.out);
        result = await install();
      }
      if (result.code !== 0) throw failure(`apt-get install ${pkg.name} failed`, result.out);
      await pkg.afterInstall?.();
      pkg.say(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  );
}
