import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'demo/out/**', 'examples/app/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Only src/actions/core-io.ts may talk to the runner; shared code stays testable without it.
      'no-restricted-imports': ['error', { patterns: [{ group: ['@actions/*'], message: 'Import @actions/* only in src/actions/core-io.ts.' }] }],
    },
  },
  {
    files: ['src/actions/core-io.ts', 'src/notify/github-lookups.ts', 'test/**', 'action-*/src/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
