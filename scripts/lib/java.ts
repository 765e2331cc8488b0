import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Major version of the `java` at `bin`: null when it cannot be run, NaN when its banner is unknown. */
function javaMajorOf(bin: string): number | null {
  const r = spawnSync(bin, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  // "1.8.0_392" is Java 8, "17.0.15" is Java 17.
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr + r.stdout);
  return m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
}

/** Major version of `javaBin()`: null when it cannot be run, NaN when its banner is unknown. */
export const javaMajor = (): number | null => javaMajorOf(javaBin());

/**
 * A JDK of Java `major` or newer for a component that refuses older ones (Quarkus apps need 21+
 * while Kafka and Zipkin run on the machine's Java 17): the first of `preferred` (variables'
 * values) that qualifies, else the newest under /usr/lib/jvm; undefined when none does.
 */
export function javaHomeAtLeast(
  major: number,
  preferred: readonly (string | undefined)[],
): string | undefined {
  const candidates = [
    ...preferred,
    ...(existsSync('/usr/lib/jvm')
      ? readdirSync('/usr/lib/jvm')
          .map((d) => join('/usr/lib/jvm', d))
          .sort()
          .reverse()
      : []),
  ].filter((h): h is string => h !== undefined && h !== '');
  // null and NaN (cannot run, unknown banner) never qualify.
  return candidates.find((home) => (javaMajorOf(join(home, 'bin', 'java')) ?? NaN) >= major);
}
