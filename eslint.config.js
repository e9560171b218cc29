import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The dependency direction: shared is pure and imports nothing of ours; client and
    // dashboard see only shared; nobody deep-imports another package.
    files: ['packages/shared/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', '@sync-engine/*', 'fs', 'path', 'crypto'] }],
    },
  },
  {
    files: ['packages/client/src/**/*.ts', 'packages/dashboard/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@sync-engine/server', '@sync-engine/server/*', '@sync-engine/*/src/*'] }],
    },
  },
  {
    // The client SDK targets apps (browsers, React Native, Node): no Node built-ins outside
    // the SQLite adapter, which is only loaded through `@sync-engine/client/sqlite`.
    files: ['packages/client/src/**/*.ts'],
    ignores: ['packages/client/src/store/sqlite-store.ts', 'packages/client/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:*',
            'fs',
            'path',
            'crypto',
            'better-sqlite3',
            '@sync-engine/server',
            '@sync-engine/server/*',
            '@sync-engine/*/src/*',
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname', '__filename', 'setImmediate'],
    },
  },
  {
    files: ['packages/server/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@sync-engine/*/src/*'] }] },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
);
