/**
 * `npm run -s cli -- docs asyncapi [--out <file>]`: the AsyncAPI document of the topics, for the
 * configuration in the environment (topic names, partitions, consumer group, brokers), as the
 * services serve it at /docs/asyncapi.json. Reads no broker: it works offline.
 */
import { writeFile } from 'node:fs/promises';
import { eventDocsFor } from '../messaging/index.ts';
import { loadConfig } from '../platform/index.ts';
import type { Output } from './dlq.ts';
import { parseCommand } from './args.ts';
import { usageError } from './errors.ts';

export const DOCS_USAGE = `Usage: npm run -s cli -- docs asyncapi [--out <file>]

Prints the AsyncAPI 3.0 document of the Kafka topics (JSON), for the configuration in the
environment (KAFKA_INVENTORY_TOPIC, KAFKA_SALES_TOPIC, KAFKA_CONSUMER_GROUP, ...).

Options:
  --out <file>   write it to this file instead of stdout
  -h, --help     this text`;

export async function docsCommand(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined> | undefined,
): Promise<number> {
  const parsed = parseCommand(argv, { out: { type: 'string' } }, DOCS_USAGE, (line) =>
    output.out(line),
  );
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  if (positionals[0] !== 'asyncapi' || positionals.length > 1) {
    throw usageError(
      `docs needs "asyncapi"${positionals[0] === undefined ? '' : `, got "${positionals.join(' ')}"`}`,
    );
  }
  if (values.out === '') throw usageError('--out needs a file name');
  const json = JSON.stringify(eventDocsFor(loadConfig(env)), null, 2);
  if (values.out === undefined) output.out(json);
  else await writeFile(values.out, `${json}\n`);
  return 0;
}
