/**
 * The project's command-line tool: `npm run cli -- <command>`. Parses arguments, reads the
 * Kafka settings from the environment like the services do, and dispatches. Exit status: 0 done,
 * 1 failed (`error <code>: <message>` on stderr), 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { isContractError } from '../contract/index.ts';
import { DLQ_SUFFIX, kafkaConnectionFrom } from '../messaging/index.ts';
import { isAppError, loadConfig, PlatformErrorCodes } from '../platform/index.ts';
import { authCommand } from './auth.ts';
import { inventoryCommand } from './inventory.ts';
import type { DeadLetterFilter } from './dead-letter-view.ts';
import { docsCommand } from './docs.ts';
import { DEFAULT_LIST_LIMIT, dlqList, dlqRedrive, dlqShow } from './dlq.ts';
import type { Output } from './dlq.ts';
import { CliErrorCodes, usageError } from './errors.ts';
import { schemasCommand } from './schemas.ts';
import { parseTime } from './positions.ts';
import { replayCommand } from './replay.ts';

export const USAGE = `Usage: npm run cli -- dlq <command> [options]
       npm run -s cli -- auth token --tenant <tenant> [--scope "<scopes>"] [--ttl 1h]
                               (auth --help for its options)
       npm run cli -- schemas register|check|diff [--subject <name>]
                               (schemas --help; needs SCHEMA_REGISTRY_URL)
       npm run -s cli -- docs asyncapi [--out <file>]
                               the AsyncAPI document of the topics (docs --help)
       npm run cli -- inventory rebuild [--tenant <id>] [--verify-only]
                               (inventory --help for what it does)
       npm run cli -- replay --from <time | p:o,...> [--to ...] [--tenant <id>]
                               [--event-type <type>] [--apply]   (replay --help)

Commands:
  dlq list                     one line per dead letter: position, time, code, event type,
                               tenant, original topic/partition@offset, error message
  dlq show <partition>:<offset>
                               every header, the key and the value of one dead letter
  dlq redrive                  send matching dead letters back to their original topic, key and
                               value bytes untouched (the inbox still deduplicates them)

Options:
  --topic <name>        dead-letter topic (default: $KAFKA_INVENTORY_TOPIC.dlq)
  --code <ERP_...>      only this error code (dlq.error.code)          list, redrive
  --event-type <type>   only this event type                            list, redrive
  --tenant <id>         only this tenant                                list, redrive
  --since <ISO time>    dead-lettered at or after                       list, redrive
  --until <ISO time>    dead-lettered before                            list, redrive
  --limit <n>           at most n (list default: ${DEFAULT_LIST_LIMIT}; redrive: all)   list, redrive
  --json                one JSON object per line                        list
  --dry-run             print what would be sent, send nothing          redrive
  --to <topic>          send to this topic instead of the original      redrive
  -h, --help            this text

Kafka is reached as the services reach it: KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, ...
Exit status: 0 done, 1 failed, 2 bad usage or configuration.`;

const OPTIONS = {
  topic: { type: 'string' },
  code: { type: 'string' },
  'event-type': { type: 'string' },
  tenant: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  to: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

const FILTERS: OptionName[] = ['code', 'event-type', 'tenant', 'since', 'until', 'limit'];
const ALLOWED: Record<string, OptionName[]> = {
  list: ['topic', ...FILTERS, 'json'],
  show: ['topic'],
  redrive: ['topic', ...FILTERS, 'dry-run', 'to'],
};

/** Variables to read the Kafka settings from. Default (undefined): the process environment. */
export type Env = Record<string, string | undefined> | undefined;

function parseLimit(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw usageError(`--limit must be a positive integer, got "${text}"`);
  }
  return Number(text);
}

function parsePosition(text: string | undefined): { partition: number; offset: bigint } {
  const match = text === undefined ? null : /^(\d+):(\d+)$/.exec(text);
  if (match === null) {
    throw usageError(
      `dlq show needs <partition>:<offset>, e.g. 0:42${text === undefined ? '' : `, got "${text}"`}`,
    );
  }
  return { partition: Number(match[1]), offset: BigInt(match[2]!) };
}

/** Runs one command; resolves to the exit status. Never calls process.exit (tests call it). */
export async function runCli(argv: string[], output: Output, env?: Env): Promise<number> {
  try {
    return await dispatch(argv, output, env);
  } catch (err) {
    if (isAppError(err) || isContractError(err)) {
      output.err(`error ${err.code}: ${err.message}`);
      if (err.code === CliErrorCodes.USAGE) output.err('run with --help for usage');
      return err.code === CliErrorCodes.USAGE || err.code === PlatformErrorCodes.CFG_INVALID
        ? 2
        : 1;
    }
    output.err(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

async function dispatch(argv: string[], output: Output, env: Env): Promise<number> {
  if (argv[0] === 'auth') return authCommand(argv.slice(1), output, env);
  if (argv[0] === 'schemas') return schemasCommand(argv.slice(1), output, env);
  if (argv[0] === 'docs') return docsCommand(argv.slice(1), output, env);
  if (argv[0] === 'inventory') return inventoryCommand(argv.slice(1), output, env);
  if (argv[0] === 'replay') return replayCommand(argv.slice(1), output, env);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util reports unknown options and missing values as TypeErrors with ERR_PARSE_ARGS_*.
    throw usageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length === 0) {
    output.out(USAGE);
    return values.help === true ? 0 : 2;
  }
  const [area, command, ...rest] = positionals;
  if (area !== 'dlq') {
    throw usageError(
      `unknown command "${area}"; try "dlq", "auth", "schemas", "docs", "inventory" or "replay"`,
    );
  }
  if (command === undefined || !(command in ALLOWED)) {
    throw usageError(
      `dlq needs one of ${Object.keys(ALLOWED).join(', ')}${command === undefined ? '' : `, got "${command}"`}`,
    );
  }
  const allowed = ALLOWED[command]!;
  for (const name of Object.keys(values) as OptionName[]) {
    if (!allowed.includes(name)) throw usageError(`--${name} does not apply to dlq ${command}`);
  }
  const extra = command === 'show' ? rest.slice(1) : rest;
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`);

  const filter: DeadLetterFilter = {};
  if (values.code !== undefined) filter.code = values.code;
  if (values['event-type'] !== undefined) filter.eventType = values['event-type'];
  if (values.tenant !== undefined) filter.tenant = values.tenant;
  if (values.since !== undefined) filter.since = parseTime('since', values.since);
  if (values.until !== undefined) filter.until = parseTime('until', values.until);
  const limit = values.limit === undefined ? undefined : parseLimit(values.limit);
  if (values.topic === '' || values.to === '') throw usageError('a topic name cannot be empty');
  const position = command === 'show' ? parsePosition(rest[0]) : undefined;

  // Arguments first: a usage error should not depend on the environment being right.
  const config = loadConfig(env);
  const conn = kafkaConnectionFrom(config.kafka, 'cli');
  const topic = values.topic ?? `${config.kafka.inventoryTopic}${DLQ_SUFFIX}`;

  switch (command) {
    case 'list':
      await dlqList(
        {
          conn,
          topic,
          filter,
          json: values.json === true,
          ...(limit === undefined ? {} : { limit }),
        },
        output,
      );
      return 0;
    case 'show':
      await dlqShow({ conn, topic, ...position! }, output);
      return 0;
    default:
      await dlqRedrive(
        {
          conn,
          topic,
          filter,
          dryRun: values['dry-run'] === true,
          ...(limit === undefined ? {} : { limit }),
          ...(values.to === undefined ? {} : { to: values.to }),
        },
        output,
      );
      return 0;
  }
}

if (import.meta.main) {
  const stdio: Output = {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
  };
  process.exitCode = await runCli(process.argv.slice(2), stdio);
}
