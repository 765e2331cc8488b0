// Lint rules that encode the architecture (see ARCHITECTURE in README). The layers of src/, lowest first:
// contract → platform → messaging → the services → cli. Imports only go downward, a lower layer is used
// through its index.ts, and services never import each other. test/lint/architecture.test.ts proves each rule fires.
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The bounded contexts. Every per-service rule below is generated from this list: adding a service is one entry.
export const SERVICES = ['inventory', 'sales'];

// no-restricted-imports matches the import specifier as written, with gitignore-style patterns:
// '**/messaging/**' is any path through a folder named messaging, however deep the importing file is.
// So a subfolder of src/ must not reuse the name of a layer or a service.
const never = (folders, message) => ({
  group: folders.map((folder) => `**/${folder}/**`),
  message,
});
const throughIndex = (layer, who) => ({
  group: [`**/${layer}/**`, `!**/${layer}/index.ts`],
  message: `${who} ${layer} through src/${layer}/index.ts only: its internals may change.`,
});
const otherService = (service) =>
  never(
    [service],
    `Bounded contexts talk through Kafka and the contract, never by importing each other (${service}).`,
  );
const restrictImports = (files, ...patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

// Flat config replaces, not merges, the options of a rule set in two matching blocks:
// each block below covers files that no other no-restricted-imports block covers.
const architecture = [
  restrictImports(
    ['src/contract/**/*.ts'],
    {
      regex: '^(?!\\.|zod(/|$)|node:)',
      message: 'The contract depends on zod only: every service and tool loads it.',
    },
    never(
      ['platform', 'messaging', 'cli', ...SERVICES],
      'The contract is the bottom layer: it imports no other part of src.',
    ),
  ),
  restrictImports(
    ['src/platform/**/*.ts'],
    throughIndex('contract', 'Platform uses'),
    never(
      ['messaging', 'cli', ...SERVICES],
      'Platform sits below messaging, the services and the CLI: it never imports them.',
    ),
  ),
  restrictImports(
    ['src/messaging/**/*.ts'],
    throughIndex('contract', 'Messaging uses'),
    throughIndex('platform', 'Messaging uses'),
    never(
      ['cli', ...SERVICES],
      'Messaging knows nothing about the services or the CLI that build on it.',
    ),
  ),
  ...SERVICES.map((service) =>
    restrictImports(
      [`src/${service}/**/*.ts`],
      throughIndex('contract', 'Services use'),
      throughIndex('platform', 'Services use'),
      throughIndex('messaging', 'Services use'),
      ...SERVICES.filter((other) => other !== service).map(otherService),
      never(['cli'], 'Services never import the CLI: it is an operator tool built on top of them.'),
    ),
  ),
  restrictImports(
    ['src/cli/**/*.ts'],
    throughIndex('contract', 'The CLI uses'),
    throughIndex('platform', 'The CLI uses'),
    throughIndex('messaging', 'The CLI uses'),
    // The top layer: operator commands that are a service's own work (rebuild Inventory's read
    // model, run a shadow Sales for a replay) use the service as its main does, through its index.
    ...SERVICES.map((service) => throughIndex(service, 'The CLI uses')),
  ),
  restrictImports(
    ['src/console/**/*.ts'],
    throughIndex('contract', 'The console uses'),
    throughIndex('platform', 'The console uses'),
    throughIndex('messaging', 'The console uses'),
    // It reads the services over HTTP and writes only through the CLI's dead-letter functions.
    never(SERVICES, 'The console reads the services through their HTTP APIs, never their code.'),
  ),
  // Tests, benches and scripts may import any file of src (tests mirror sources), but a service's tests
  // stay inside its bounded context.
  ...SERVICES.map((service) =>
    restrictImports(
      [`test/${service}/**/*.ts`],
      ...SERVICES.filter((other) => other !== service).map(otherService),
    ),
  ),
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads only files with these extensions (default: .js ones): without this line
      // no-cycle silently finds nothing. Imports are relative with an explicit .ts extension,
      // so Node's resolution is all they need.
      'import-x/extensions': ['.ts'],
      'import-x/resolver-next': [createNodeResolver()],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
];

export default tseslint.config(
  // src/console/assets: the console's browser script, served as it is (no build step); prettier
  // still formats it and the console's browser test runs it.
  {
    ignores: [
      'node_modules/**',
      '.cache/**',
      '.data/**',
      'eslint.config.js',
      'src/console/assets/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  ...architecture,
);
