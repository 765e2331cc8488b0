/**
 * `npm run cli -- schemas register | check | diff | export`: the contract's JSON Schemas against
 * the schema registry at SCHEMA_REGISTRY_URL, one subject per event type and major version on its
 * topic (`<topic>-<event type>`). The functions take their client and subjects, so tests run
 * them on changed schemas without changing the contract.
 *
 * `export --dir` writes the subjects as files (`<subject>.json`) and `register --dir` registers
 * such files instead of the contract: the repository keeps the released contract in
 * schemas/released/, and CI registers it into a fresh registry before it checks the contract
 * against it, so that a breaking change fails CI as it would fail against production's registry.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describeChange, diffSchemas } from '../contract/index.ts';
import type { JsonSchema } from '../contract/index.ts';
import {
  compatibilityOf,
  createSchemaRegistryClient,
  SCHEMA_COMPATIBILITY,
  SchemaRegistryErrorCodes,
  schemaSubjects,
} from '../messaging/index.ts';
import type { SchemaRegistryClient, SchemaSubject } from '../messaging/index.ts';
import { isAppError, loadConfig } from '../platform/index.ts';
import type { Output } from './dlq.ts';
import { parseCommand } from './args.ts';
import { usageError } from './errors.ts';

export const SCHEMAS_USAGE = `Usage: npm run cli -- schemas <command> [--subject <name>] [--dir <folder>]

Commands:
  register   set every subject's compatibility (${SCHEMA_COMPATIBILITY}) and register the
             contract's schema; a schema the registry refuses is named with its fields (exit 1)
  check      exit 1 naming the subject and the field when the contract's schema is incompatible
             with what the registry holds; 0 when every subject holds it or may take it
  diff       print what changed, field by field, from each subject's latest version to the
             contract
  export     write the contract's schemas into --dir, one <subject>.json each (no registry)

Options:
  --subject <name>  only this subject (e.g. inventory-events-inventory.low_stock)
  --dir <folder>    export: where to write; register: register the files there (e.g. the
                    released contract, schemas/released) instead of the contract
  -h, --help        this text

The registry is SCHEMA_REGISTRY_URL (e.g. http://127.0.0.1:8280/apis/ccompat/v7); subjects follow
KAFKA_INVENTORY_TOPIC and KAFKA_SALES_TOPIC. Exit status: 0 done, 1 failed, 2 bad usage.`;

/** A subject and its schema: all that register, check and diff need. */
type Subject = Pick<SchemaSubject, 'subject' | 'schema'>;

export interface SchemasOptions {
  client: SchemaRegistryClient;
  /**
   * What to register or compare: the contract's (schemaSubjects), or files (register --dir), or
   * a test's changed schemas.
   */
  subjects: readonly Subject[];
}

const breakingLines = (subject: string, changes: readonly string[]): string[] =>
  changes.length === 0
    ? [`${subject}: incompatible (the registry gives no detail)`]
    : changes.map((c) => `${subject}: ${c}`);

/** Sets each subject's compatibility, then registers its schema. Resolves to the exit status. */
export async function schemasRegister(options: SchemasOptions, output: Output): Promise<number> {
  let refused = 0;
  for (const s of options.subjects) {
    await options.client.setCompatibility(s.subject, SCHEMA_COMPATIBILITY);
    try {
      const id = await options.client.register(s.subject, s.schema);
      output.out(`registered  ${s.subject}  id ${id}`);
    } catch (err) {
      if (!isAppError(err) || err.code !== SchemaRegistryErrorCodes.INCOMPATIBLE) throw err;
      refused++;
      const state = await compatibilityOf(options.client, s);
      output.out(`refused     ${s.subject}`);
      for (const line of breakingLines(s.subject, state.breaking.map(describeChange))) {
        output.err(`incompatible ${line}`);
      }
    }
  }
  output.err(
    `${options.subjects.length - refused} subject(s) registered, ${refused} refused (${SCHEMA_COMPATIBILITY})`,
  );
  return refused === 0 ? 0 : 1;
}

/** Exit 1 when a subject cannot take the contract's schema; every such field on stderr. */
export async function schemasCheck(options: SchemasOptions, output: Output): Promise<number> {
  let incompatible = 0;
  for (const s of options.subjects) {
    const found = await options.client.lookup(s.subject, s.schema);
    if (found !== undefined) {
      output.out(`ok          ${s.subject}  id ${found.id}, version ${found.version}`);
      continue;
    }
    const state = await compatibilityOf(options.client, s);
    if (!state.registered) {
      // Nothing to break: a new event type, or a registry not filled yet (`schemas register`).
      output.out(`new         ${s.subject}  not registered yet`);
    } else if (state.compatible) {
      output.out(`compatible  ${s.subject}  not registered yet`);
    } else {
      incompatible++;
      output.out(`INCOMPATIBLE ${s.subject}`);
      for (const line of breakingLines(s.subject, [
        ...state.breaking.map(describeChange),
        ...state.messages,
      ])) {
        output.err(`incompatible ${line}`);
      }
    }
  }
  output.err(
    `${options.subjects.length} subject(s) checked, ${incompatible} incompatible (${SCHEMA_COMPATIBILITY})`,
  );
  return incompatible === 0 ? 0 : 1;
}

/** Every change from each subject's latest version to the contract's schema. */
export async function schemasDiff(options: SchemasOptions, output: Output): Promise<number> {
  for (const s of options.subjects) {
    const latest = await options.client.latest(s.subject);
    if (latest === undefined) {
      output.out(`${s.subject}: not registered`);
      continue;
    }
    const changes = diffSchemas(latest.schema, s.schema);
    output.out(
      `${s.subject}: version ${latest.version} (id ${latest.id}) → contract: ${
        changes.length === 0 ? 'no change' : `${changes.length} change(s)`
      }`,
    );
    for (const change of changes) output.out(`  ${describeChange(change)}`);
  }
  return 0;
}

/** One file per subject, `<subject>.json`: what `register --dir` reads back. */
export async function schemasExport(
  subjects: readonly SchemaSubject[],
  dir: string,
  output: Output,
): Promise<number> {
  await mkdir(dir, { recursive: true });
  for (const s of subjects) {
    const file = join(dir, `${s.subject}.json`);
    await writeFile(file, `${JSON.stringify(s.schema, null, 2)}\n`);
    output.out(`exported    ${s.subject}  ${file}`);
  }
  return 0;
}

/**
 * The subjects of the `<subject>.json` files in `dir`, as `register` takes them (only subject and
 * schema are read from them).
 */
export async function subjectsFromFiles(dir: string): Promise<Subject[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  if (names.length === 0) throw usageError(`--dir ${dir} holds no <subject>.json file`);
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(dir, name), 'utf8');
      let schema: unknown;
      try {
        schema = JSON.parse(text);
      } catch (err) {
        throw usageError(`${join(dir, name)} is not JSON: ${(err as Error).message}`);
      }
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
        throw usageError(`${join(dir, name)} is not a JSON Schema object`);
      }
      const subject = basename(name, '.json');
      return { subject, schema: schema as JsonSchema };
    }),
  );
}

const COMMANDS = { register: schemasRegister, check: schemasCheck, diff: schemasDiff } as const;

export async function schemasCommand(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined> | undefined,
): Promise<number> {
  const parsed = parseCommand(
    argv,
    { subject: { type: 'string' }, dir: { type: 'string' } },
    SCHEMAS_USAGE,
    (line) => output.out(line),
  );
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (command === undefined || !(Object.hasOwn(COMMANDS, command) || command === 'export')) {
    throw usageError(
      `schemas needs one of ${[...Object.keys(COMMANDS), 'export'].join(', ')}${command === undefined ? '' : `, got "${command}"`}`,
    );
  }
  if (rest.length > 0) throw usageError(`unexpected argument "${rest[0]}"`);
  if (values.dir !== undefined && command !== 'export' && command !== 'register') {
    throw usageError(`--dir applies to export and register, not to ${command}`);
  }
  const config = loadConfig(env);
  if (command === 'export') {
    if (values.dir === undefined) throw usageError('schemas export needs --dir <folder>');
    return schemasExport(
      selected(schemaSubjects(config.kafka), values.subject),
      values.dir,
      output,
    );
  }
  if (config.schemaRegistryUrl === undefined) {
    throw usageError(
      'SCHEMA_REGISTRY_URL is not set (e.g. http://127.0.0.1:8280/apis/ccompat/v7; `npm run registry:start` runs one)',
    );
  }
  const subjects = selected(
    values.dir === undefined ? schemaSubjects(config.kafka) : await subjectsFromFiles(values.dir),
    values.subject,
  );
  const client = createSchemaRegistryClient({ url: config.schemaRegistryUrl });
  return COMMANDS[command as keyof typeof COMMANDS]({ client, subjects }, output);
}

/** `subjects`, or only the one named by --subject (a usage error when there is no such subject). */
function selected<S extends Subject>(subjects: S[], name: string | undefined): S[] {
  if (name === undefined) return subjects;
  const found = subjects.filter((s) => s.subject === name);
  if (found.length === 0) {
    throw usageError(
      `no subject "${name}"; there are: ${subjects.map((s) => s.subject).join(', ')}`,
    );
  }
  return found;
}
