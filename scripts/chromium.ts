/**
 * Debian's Chromium for the browser tests (the API docs page, the operator console), driven by
 * playwright-core pointed at /usr/bin/chromium: no browser download, nothing fetched at run time
 * but the Debian package, installed with apt-get the first time (lib/apt.ts).
 *
 *   node scripts/chromium.ts install
 *
 * The launch flags keep a headless Chromium off the network it would otherwise call at every
 * start (component updates, sync, background lookups of Google's hosts, which this machine's
 * closed network refuses many at a time), and off the GPU and the sandbox a root container lacks.
 */
import { join, resolve } from 'node:path';
import { logger, runMain } from './lib/cli.ts';
import { ensureDebianPackage } from './lib/apt.ts';

const ROOT = resolve(import.meta.dirname, '..');
export const CHROMIUM = '/usr/bin/chromium';
const say = logger('chromium');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** The Chromium executable, installed first if it is not there. */
export async function ensureChromium(): Promise<string> {
  await ensureDebianPackage({
    name: 'chromium',
    binaries: [CHROMIUM],
    lockDir: join(ROOT, '.data', 'chromium'),
    errorCode: 'ERP_CHROMIUM_INSTALL_FAILED',
    say,
  });
  return CHROMIUM;
}

if (import.meta.main) {
  runMain('chromium', async () => {
    if (process.argv[2] === 'install') {
      say(`Chromium at ${await ensureChromium()}`);
    } else {
      console.error('usage: node scripts/chromium.ts install');
      process.exitCode = 2;
    }
  });
}
