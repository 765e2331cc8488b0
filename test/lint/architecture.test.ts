// Proves that each architecture rule of eslint.config.js fires, with its message, and that the imports
// the architecture allows pass. It lints with the real config file but without type information:
// projectService refuses files outside the TS program, and these snippets (and the temporary files of
// the cycle test) are not in it. Only the architecture rules run (ruleFilter), so the type-aware
// rules switched off here lose nothing. The linted tree lives in a temporary folder, outside the
// repository, so the test does not depend on the state of src/.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import type { Linter } from 'eslint';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const configFile = path.join(repoRoot, 'eslint.config.js');
// The one list of services lives in the config; the cases below are generated from it too.
const { SERVICES } = (await import(pathToFileURL(configFile).href)) as { SERVICES: string[] };
const LAYERS = ['contract', 'platform', 'messaging', 'cli', 'console'];
const ARCHITECTURE_RULES = new Set(['no-restricted-imports', 'import-x/no-cycle']);

// An empty root for the snippets, and another for the files of the cycle test: import-x caches
// resolutions (found or not) per folder, so the two must not share paths.
async function linter(): Promise<{ root: string; eslint: ESLint }> {
  const root = await mkdtemp(path.join(tmpdir(), 'erp-events-architecture-'));
  after(() => rm(root, { recursive: true, force: true }));
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: configFile,
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => ARCHITECTURE_RULES.has(ruleId),
  });
  return { root, eslint };
}
const { root, eslint } = await linter();

// Architecture errors, and fatal ones (a snippet that does not parse must not pass as "allowed").
function architectureErrors(results: ESLint.LintResult[]): Linter.LintMessage[] {
  return results.flatMap((result) =>
    result.messages.filter(
      (m) => m.fatal === true || (m.ruleId !== null && ARCHITECTURE_RULES.has(m.ruleId)),
    ),
  );
}

async function lintImport(filePath: string, specifier: string): Promise<Linter.LintMessage[]> {
  const code = `import { x } from '${specifier}';\nexport const y = x;\n`;
  return architectureErrors(await eslint.lintText(code, { filePath: path.join(root, filePath) }));
}

const show = (errors: Linter.LintMessage[]): string =>
  errors.map((e) => `${e.ruleId ?? 'fatal'}: ${e.message}`).join('\n') || '(no error)';

async function refused(filePath: string, specifier: string, why: string): Promise<void> {
  const errors = await lintImport(filePath, specifier);
  assert.equal(errors.length, 1, show(errors));
  assert.equal(errors[0]!.ruleId, 'no-restricted-imports', show(errors));
  assert.ok(errors[0]!.message.includes(`'${specifier}'`), show(errors));
  assert.ok(
    errors[0]!.message.endsWith(why),
    `expected the reason "${why}", got:\n${show(errors)}`,
  );
}

async function allowed(filePath: string, specifier: string): Promise<void> {
  assert.equal(show(await lintImport(filePath, specifier)), '(no error)');
}

type Case = readonly [file: string, specifier: string, why?: string];

async function check(t: test.TestContext, cases: readonly Case[]): Promise<void> {
  for (const [file, specifier, why] of cases) {
    const name = `${file} imports ${specifier}: ${why === undefined ? 'allowed' : 'refused'}`;
    await t.test(name, () =>
      why === undefined ? allowed(file, specifier) : refused(file, specifier, why),
    );
  }
}

const throughIndex = (who: string, layer: string): string =>
  `${who} ${layer} through src/${layer}/index.ts only: its internals may change.`;
const boundary = (service: string): string =>
  `Bounded contexts talk through Kafka and the contract, never by importing each other (${service}).`;
const otherServices = (service: string): string[] => SERVICES.filter((s) => s !== service);

test('every folder of src/ is a layer or a listed service, so none escapes the rules', async () => {
  const folders = (await readdir(path.join(repoRoot, 'src'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  assert.deepEqual(folders, [...LAYERS, ...SERVICES].sort());
});

test('the contract depends on zod only', (t) => {
  const why = 'The contract is the bottom layer: it imports no other part of src.';
  const zodOnly = 'The contract depends on zod only: every service and tool loads it.';
  return check(t, [
    ['src/contract/codec.ts', 'zod'],
    ['src/contract/keys.ts', 'node:crypto'],
    ['src/contract/registry.ts', './events/inventory.ts'],
    ['src/contract/events/sales.ts', '../priority.ts'],
    ['src/contract/codec.ts', 'fastify', zodOnly],
    ['src/contract/codec.ts', 'kysely', zodOnly],
    ...['platform', 'messaging', 'cli', ...SERVICES].map((folder): Case => [
      'src/contract/codec.ts',
      `../${folder}/index.ts`,
      why,
    ]),
    ['src/contract/events/sales.ts', '../../platform/errors.ts', why],
  ]);
});

test('platform uses the contract through its index and never imports a layer above it', (t) => {
  const why = 'Platform sits below messaging, the services and the CLI: it never imports them.';
  return check(t, [
    ['src/platform/config.ts', '../contract/index.ts'],
    ['src/platform/database/errors.ts', '../../contract/index.ts'],
    ['src/platform/database/open.ts', '../errors.ts'],
    ['src/platform/startup.ts', './database/open.ts'],
    ['src/platform/config.ts', '../contract/codec.ts', throughIndex('Platform uses', 'contract')],
    [
      'src/platform/http/server.ts',
      '../../contract/events/sales.ts',
      throughIndex('Platform uses', 'contract'),
    ],
    ['src/platform/startup.ts', '../messaging/index.ts', why],
    ['src/platform/startup.ts', '../cli/main.ts', why],
    ...SERVICES.map((s): Case => ['src/platform/database/open.ts', `../../${s}/index.ts`, why]),
  ]);
});

test('messaging uses contract and platform through their index and knows no service', (t) => {
  const why = 'Messaging knows nothing about the services or the CLI that build on it.';
  return check(t, [
    ['src/messaging/router.ts', '../contract/index.ts'],
    ['src/messaging/router.ts', '../platform/index.ts'],
    ['src/messaging/kafka/connection.ts', '../../platform/index.ts'],
    ['src/messaging/outbox/relay.ts', './signal.ts'],
    ['src/messaging/outbox/relay.ts', '../errors.ts'],
    ['src/messaging/index.ts', './outbox/relay.ts'],
    ['src/messaging/router.ts', '../contract/codec.ts', throughIndex('Messaging uses', 'contract')],
    [
      'src/messaging/router.ts',
      '../platform/config.ts',
      throughIndex('Messaging uses', 'platform'),
    ],
    [
      'src/messaging/kafka/connection.ts',
      '../../platform/database/open.ts',
      throughIndex('Messaging uses', 'platform'),
    ],
    ['src/messaging/router.ts', '../cli/main.ts', why],
    ...SERVICES.map((s): Case => ['src/messaging/router.ts', `../${s}/app.ts`, why]),
  ]);
});

for (const service of SERVICES) {
  test(`${service} uses the lower layers through their index and never another service`, (t) => {
    const noCli = 'Services never import the CLI: it is an operator tool built on top of them.';
    return check(t, [
      [`src/${service}/app.ts`, '../messaging/index.ts'],
      [`src/${service}/app.ts`, '../platform/index.ts'],
      [`src/${service}/app.ts`, '../contract/index.ts'],
      [`src/${service}/handlers/x.ts`, '../../messaging/index.ts'],
      [`src/${service}/app.ts`, './routes.ts'],
      [`src/${service}/handlers/x.ts`, '../db.ts'],
      [
        `src/${service}/app.ts`,
        '../messaging/outbox/relay.ts',
        throughIndex('Services use', 'messaging'),
      ],
      [
        `src/${service}/app.ts`,
        '../messaging/kafka/index.ts',
        throughIndex('Services use', 'messaging'),
      ],
      [
        `src/${service}/handlers/x.ts`,
        '../../messaging/outbox.ts',
        throughIndex('Services use', 'messaging'),
      ],
      [`src/${service}/app.ts`, '../platform/config.ts', throughIndex('Services use', 'platform')],
      [`src/${service}/app.ts`, '../contract/codec.ts', throughIndex('Services use', 'contract')],
      [`src/${service}/main.ts`, '../cli/main.ts', noCli],
      ...otherServices(service).flatMap((other): Case[] => [
        [`src/${service}/app.ts`, `../${other}/index.ts`, boundary(other)],
        [`src/${service}/handlers/x.ts`, `../../${other}/errors.ts`, boundary(other)],
      ]),
    ]);
  });

  test(`${service}: re-exports and type imports of internals are refused too`, async () => {
    for (const code of [
      `export { relay } from '../messaging/outbox/relay.ts';\n`,
      `import type { Relay } from '../messaging/outbox/relay.ts';\nexport type R = Relay;\n`,
    ]) {
      const results = await eslint.lintText(code, {
        filePath: path.join(root, `src/${service}/a.ts`),
      });
      const errors = architectureErrors(results);
      assert.deepEqual(
        errors.map((e) => e.ruleId),
        ['no-restricted-imports'],
        show(errors),
      );
    }
  });
}

test('the CLI uses the lower layers and the services through their index only', (t) => {
  return check(t, [
    ['src/cli/main.ts', '../messaging/index.ts'],
    ['src/cli/main.ts', '../platform/index.ts'],
    ['src/cli/main.ts', '../contract/index.ts'],
    ['src/cli/main.ts', './dlq.ts'],
    ['src/cli/dlq.ts', '../messaging/dead-letter.ts', throughIndex('The CLI uses', 'messaging')],
    ['src/cli/main.ts', '../platform/errors.ts', throughIndex('The CLI uses', 'platform')],
    ['src/cli/main.ts', '../contract/codec.ts', throughIndex('The CLI uses', 'contract')],
    ...SERVICES.flatMap((s): Case[] => [
      ['src/cli/main.ts', `../${s}/index.ts`],
      ['src/cli/main.ts', `../${s}/app.ts`, throughIndex('The CLI uses', s)],
    ]),
  ]);
});

test('the console uses the lower layers through their index, the CLI, and no service', (t) => {
  return check(t, [
    ['src/console/app.ts', '../messaging/index.ts'],
    ['src/console/app.ts', '../platform/index.ts'],
    ['src/console/dead-letters.ts', '../cli/dlq.ts'],
    [
      'src/console/app.ts',
      '../messaging/kafka/group-lag.ts',
      throughIndex('The console uses', 'messaging'),
    ],
    [
      'src/console/app.ts',
      '../platform/auth/index.ts',
      throughIndex('The console uses', 'platform'),
    ],
    ...SERVICES.map((s): Case => [
      'src/console/app.ts',
      `../${s}/index.ts`,
      'The console reads the services through their HTTP APIs, never their code.',
    ]),
  ]);
});

test('tests, benches and scripts import any file of src, but service tests stay in their context', (t) =>
  check(t, [
    ['test/messaging/outbox/relay.test.ts', '../../../src/messaging/outbox/relay.ts'],
    ['test/platform/database/open.test.ts', '../../../src/platform/database/open.ts'],
    ['test/cli/main.test.ts', '../../src/cli/main.ts'],
    ['bench/run.ts', '../src/messaging/outbox/relay.ts'],
    ['scripts/start.ts', '../src/platform/config.ts'],
    ...SERVICES.flatMap((service): Case[] => [
      [`test/${service}/app.test.ts`, `../../src/${service}/handlers/x.ts`],
      [`test/${service}/app.test.ts`, '../../src/messaging/outbox/relay.ts'],
      [`test/e2e/flow.test.ts`, `../../src/${service}/app.ts`],
      ...otherServices(service).flatMap((other): Case[] => [
        [`test/${service}/app.test.ts`, `../../src/${other}/app.ts`, boundary(other)],
        [`test/${service}/app.test.ts`, `../${other}/fixtures.ts`, boundary(other)],
      ]),
    ]),
  ]));

test('no import cycles: the resolver follows relative .ts imports across folders', async (t) => {
  const { root, eslint } = await linter();
  const files: Record<string, string> = {
    // A direct cycle inside one service, through a subfolder.
    'src/sales/a.ts': `import { b } from './handlers/b.ts';\nexport const a = () => b;\n`,
    'src/sales/handlers/b.ts': `import { a } from '../a.ts';\nexport const b = () => a;\n`,
    // An indirect cycle across layers: messaging → platform → platform/database → messaging.
    'src/messaging/index.ts': `import { p } from '../platform/index.ts';\nexport const m = () => p;\n`,
    'src/platform/index.ts': `import { o } from './database/open.ts';\nexport const p = () => o;\n`,
    'src/platform/database/open.ts': `import { m } from '../../messaging/index.ts';\nexport const o = () => m;\n`,
    // No cycle: a chain.
    'src/inventory/c.ts': `import { d } from './d.ts';\nexport const c = () => d;\n`,
    'src/inventory/d.ts': `import { e } from './e.ts';\nexport const d = () => e;\n`,
    'src/inventory/e.ts': `export const e = 1;\n`,
    // A cycle of type-only imports is erased at run time (verbatimModuleSyntax): not reported.
    'src/cli/f.ts': `import type { G } from './g.ts';\nexport type F = { g?: G };\n`,
    'src/cli/g.ts': `import type { F } from './f.ts';\nexport type G = { f?: F };\n`,
  };
  for (const [file, code] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), code);
  }
  const cycleErrors = async (file: string): Promise<string[]> =>
    architectureErrors(await eslint.lintFiles([path.join(root, file)]))
      .filter((e) => e.ruleId !== 'no-restricted-imports')
      .map((e) => `${e.ruleId ?? 'fatal'}: ${e.message}`);

  await t.test('a direct cycle is reported on both files', async () => {
    assert.deepEqual(await cycleErrors('src/sales/a.ts'), [
      'import-x/no-cycle: Dependency cycle detected',
    ]);
    assert.deepEqual(await cycleErrors('src/sales/handlers/b.ts'), [
      'import-x/no-cycle: Dependency cycle detected',
    ]);
  });
  await t.test('an indirect cycle names the route', async () => {
    assert.deepEqual(await cycleErrors('src/messaging/index.ts'), [
      'import-x/no-cycle: Dependency cycle via "./database/open.ts:1"',
    ]);
  });
  await t.test('a chain is no cycle', async () => {
    for (const file of ['src/inventory/c.ts', 'src/inventory/d.ts', 'src/inventory/e.ts']) {
      assert.deepEqual(await cycleErrors(file), [], file);
    }
  });
  await t.test('a cycle of type-only imports is no cycle', async () => {
    assert.deepEqual(await cycleErrors('src/cli/f.ts'), []);
  });
});
