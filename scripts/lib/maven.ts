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
