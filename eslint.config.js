import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The floors of src/lib: each area may import only the areas listed (and itself). Lower floors
 * never import higher ones, so there is no cycle between areas; `import-x/no-cycle` keeps files
 * free of cycles too. A new area needs a line here (an unlisted folder may import only the floors).
 */
const AREAS = {
  sms: [],
  config: [],
  common: [],
  at: ['sms', 'common'],
  smsbackup: ['sms'],
  emulator: ['sms', 'common'],
  spool: ['sms', 'config', 'common', 'smsbackup'],
  services: ['sms', 'config', 'common', 'smsbackup', 'spool'],
  inject: ['sms', 'config', 'common', 'smsbackup', 'spool', 'services'],
  smpp: ['sms', 'config', 'common', 'smsbackup', 'spool', 'services'],
  monitor: ['sms', 'config', 'common', 'spool', 'smpp'],
  outlets: ['sms', 'config', 'common', 'smsbackup', 'spool', 'services', 'smpp'],
  daemon: [
    'sms',
    'config',
    'common',
    'smsbackup',
    'spool',
    'services',
    'at',
    'emulator',
    'monitor',
    'smpp',
    'outlets',
  ],
};
/** Files directly in src/lib that every area may use. */
const SHARED_FILES = ['./version.ts'];

const areaZones = Object.entries(AREAS).map(([area, allowed]) => ({
  target: `./src/lib/${area}`,
  from: './src/lib',
  except: [`./${area}`, ...allowed.map((a) => `./${a}`), ...SHARED_FILES],
  message: `src/lib/${area} may import only ${[...allowed, ...SHARED_FILES].join(', ') || 'itself'} (the floors: eslint.config.js)`,
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'spool/', 'coverage/', 'oclif.manifest.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The bins are CommonJS (bin/package.json) so a call starts no ES module loader.
    files: ['**/*.cjs', 'bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      // The TypeScript files themselves are parsed to follow imports (the default is .js only).
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // Dynamic imports count: a lazy import is still a dependency. Type-only imports too: a type
      // cycle is a design cycle, and it becomes a runtime one with the first value import.
      'import-x/no-cycle': ['error', { allowUnsafeDynamicCyclicDependency: false }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...areaZones,
            // Commands sit on top of lib; lib never reaches up into them.
            { target: './src/lib', from: './src/commands', message: 'src/lib never imports a command' },
          ],
        },
      ],
    },
  },
);
