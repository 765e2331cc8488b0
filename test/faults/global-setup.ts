/**
 * `npm run test:faults` setup and teardown (node --test-global-setup): the cluster is started
 * once for every file and stopped at the end unless it was running before; the table of every
 * scenario is printed last.
 */
import { clusterStatus, ensureCluster, stopCluster } from '../../scripts/cluster.ts';
import { sagaResultsTable } from './saga-verify.ts';
import { clearResults, resultsTable } from './verify.ts';

let startedHere = false;

export async function globalSetup(): Promise<void> {
  startedHere = (await clusterStatus()).every((n) => n.pid === null);
  clearResults();
  await ensureCluster();
}

export async function globalTeardown(): Promise<void> {
  const saga = sagaResultsTable();
  console.log(`\nFault suite results\n${resultsTable()}\n${saga === '' ? '' : `\n${saga}\n`}`);
  if (startedHere && process.env['FAULTS_KEEP_CLUSTER'] !== '1') await stopCluster();
}
