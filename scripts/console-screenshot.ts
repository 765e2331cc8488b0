/**
 * `npm run console:screenshot`: regenerates docs/console-overview.png, the README's picture of
 * the console. It runs the console's browser test (the real system on the running broker,
 * headless Chromium), which leaves its screenshots in .data/console-screenshots/, and copies the
 * overview taken at its end (an alert open, a dead letter redriven).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const run = spawnSync(
  process.execPath,
  ['--test', '--test-timeout=300000', 'test/console/console.test.ts'],
  { cwd: root, stdio: 'inherit' },
);
if (run.status !== 0) {
  console.error(
    '[console:screenshot] the console test failed: docs/console-overview.png unchanged',
  );
  process.exit(run.status ?? 1);
}
const target = join(root, 'docs', 'console-overview.png');
copyFileSync(join(root, '.data', 'console-screenshots', 'overview-final.png'), target);
console.log(`[console:screenshot] ${target} (${Math.round(statSync(target).size / 1024)} KiB)`);
