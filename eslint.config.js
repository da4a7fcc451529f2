// Type-checked lint for the whole tree. The import boundaries below keep the architecture honest:
// action/ (CI side) and sidecar/ (runtime side) share code only through shared/, and shared/ depends on neither.
// audit/ and admission/ depend only on shared/, and only cli/ depends on them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const boundary = (from, forbidden) => ({
  files: [`${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((dir) => ({
          group: [`**/${dir}/**`, `**/${dir}`],
          message: `${from}/ must not import ${dir}/: move the shared code to shared/.`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  boundary('action', ['sidecar', 'cli', 'audit', 'admission']),
  boundary('sidecar', ['action', 'cli', 'audit', 'admission']),
  boundary('shared', ['action', 'sidecar', 'cli', 'audit', 'admission']),
  // audit/ (answers for auditors) reads seals and events through shared/ only; only cli/ imports it.
  boundary('audit', ['action', 'sidecar', 'cli', 'admission']),
  // admission/ (the Kubernetes admission webhook) likewise: shared/ only; only cli/ imports it.
  boundary('admission', ['action', 'sidecar', 'cli', 'audit']),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
