import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Major version of `javaBin()`: null when it cannot be run, NaN when its banner is unknown. */
export function javaMajor(): number | null {
  const r = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  // "1.8.0_392" is Java 8, "17.0.15" is Java 17.
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr + r.stdout);
  return m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
}
