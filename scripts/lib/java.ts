import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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

/** Major version of the JDK at `home`; null when its `bin/java` cannot be run or says nothing known. */
function javaMajorAt(home: string): number | null {
  const r = spawnSync(join(home, 'bin', 'java'), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /version "(\d+)/.exec(r.stderr + r.stdout);
  return m ? Number(m[1]) : null;
}

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
  return candidates.find((home) => (javaMajorAt(home) ?? 0) >= major);
}
