/**
 * The argument handling every subcommand shares: node:util parseArgs, strict, positionals allowed,
 * `-h/--help` printing the command's usage, and a bad option or value as ERP_CLI_USAGE (exit 2).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { usageError } from './errors.ts';

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

interface Config<O extends ParseArgsOptionsConfig> {
  args: string[];
  allowPositionals: true;
  strict: true;
  options: O & typeof HELP;
}

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<Config<O>>>;

/** The parsed arguments, or undefined once `--help` printed `usage` (the command exits 0). */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  usage: string,
  out: (line: string) => void,
): Parsed<O> | undefined {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs<Config<O>>({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...options, ...HELP },
    });
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    out(usage);
    return undefined;
  }
  return parsed;
}
