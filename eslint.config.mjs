// Lint configuration: ESLint's recommended rules plus typescript-eslint's type-checked recommendations over every
// source file (product code, tests, benchmarks and the build scripts). Formatting is Prettier's job, not ESLint's.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals used by the plain JavaScript scripts (TypeScript files get theirs from @types/node). */
const nodeGlobals = {
  console: 'readonly',
  process: 'readonly',
  require: 'readonly',
  module: 'writable',
  URL: 'readonly',
};

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'coverage/', 'tmp/', '.icebridge/', '**/__azurite*', '**/__blobstorage__/', '**/__queuestorage__/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // tsconfig.json covers product code, test/ and bench/; the config and build scripts outside it get a default project.
        projectService: {
          allowDefaultProject: ['*.mjs', '*.mts', '.ci/*.mjs', 'infra/*.cjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      // The code is written for noUncheckedIndexedAccess (`xs[i]!`, ~740 deliberate assertions) though tsconfig lacks the flag; this rule would strip them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // As with tsc's noUnused* checks, a leading underscore marks a deliberately unused name; destructuring a field away is how the code omits it.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Test doubles and callbacks stand in for promise-returning code: async keeps their throws rejections, as in the real thing.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // A CommonJS script has no import statement to use instead.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
