// Lint rules that encode the architecture (see ARCHITECTURE in README): bounded contexts never import each other.
import tseslint from 'typescript-eslint';

const boundary = (other) => ({
  patterns: [
    {
      group: [`**/${other}/**`, `**/${other}`],
      message: `Bounded contexts talk through Kafka and the contract, never by importing each other (${other}).`,
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.cache/**', '.data/**', 'eslint.config.js'] },
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
  {
    files: ['src/inventory/**/*.ts', 'test/inventory/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', boundary('sales')] },
  },
  {
    files: ['src/sales/**/*.ts', 'test/sales/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', boundary('inventory')] },
  },
  {
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/inventory/**', '**/sales/**', '**/messaging/**', '**/platform/**'],
              message: 'The contract depends on zod only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/messaging/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/inventory/**', '**/sales/**'],
              message: 'Messaging knows nothing about the services.',
            },
          ],
        },
      ],
    },
  },
);
