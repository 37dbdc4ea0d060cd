// Lint configuration: ESLint's recommended rules plus typescript-eslint's type-checked recommendations over every
// source file (product code, tests, benchmarks and the build scripts). Formatting is Prettier's job, not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's globals used by the plain JavaScript scripts (TypeScript files get theirs from @types/node). */
const nodeGlobals = {
  console: 'readonly',
  process: 'readonly',
  require: 'readonly',
  module: 'writable',
  URL: 'readonly',
};

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', 'tmp/', '.icebridge/', '__azurite*', '__blobstorage__/', '__queuestorage__/'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The project service finds tsconfig.json for every file it includes (product code, test/, bench/); the few
        // config and build scripts outside it are checked against a default project.
        projectService: {
          allowDefaultProject: ['*.mjs', '*.mts', '.ci/*.mjs', 'infra/*.cjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      // The code indexes arrays as if tsconfig had noUncheckedIndexedAccess (`xs[i]!`, only 4 places short of it): those
      // assertions are deliberate, and this rule would strip ~740 of them while the flag is off.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Same convention as tsc's noUnusedLocals/noUnusedParameters: a leading underscore marks a deliberately unused
      // name, and destructuring a field away to keep the rest is how the code omits a field.
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
