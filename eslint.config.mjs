// ESLint 10 flat config: typescript-eslint `recommended` (syntactic only, no type information, so it
// stays fast), import-x cycle detection, and the layer boundaries of the house plan, DESIGN.md (data flows
// server → resolvers → loaders → idmap/sources; nothing below calls anything above it).
//
// Boundaries use `import-x/no-restricted-paths`: it resolves every import (through the TypeScript
// resolver) to a file before it checks a zone, so `../../x` and `../x` are judged by what they
// reach, not by how they are spelled. Zones are absolute paths built from this file's folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const abs = (p) => path.join(ROOT, p);
// A single file as a glob (`src/errors.@(ts)`): a zone whose `from` is a glob needs glob exceptions.
const fileGlob = (p) => abs(p).replace(/\.(\w+)$/, '.@($1)');

// Source kinds: every directory directly under src/sources/ (read at lint time, so a new kind is
// covered without editing this file).
const SOURCE_KINDS = fs
  .readdirSync(abs('src/sources'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

// "Anything in the project": the glob `from` of the allow-list zones below. Exceptions are globs too
// (absolute, since no-restricted-paths matches them against the resolved import path as given).
const ANYWHERE = abs('**');
const NODE_MODULES = abs('node_modules/**');

const zones = [
  // Layer: vocabulary is the bottom. src/vocabulary/** imports only itself and src/errors.ts
  // (type-only; the value-import ban is the no-restricted-imports block further down).
  {
    target: abs('src/vocabulary/**'),
    from: ANYWHERE,
    except: [NODE_MODULES, abs('src/vocabulary/**'), fileGlob('src/errors.ts')],
    message: 'src/vocabulary imports only src/vocabulary and (type-only) src/errors.ts.',
  },

  // Layer: capabilities are contracts over the vocabulary. src/capabilities/** imports only
  // src/vocabulary/** (and itself).
  {
    target: abs('src/capabilities/**'),
    from: ANYWHERE,
    except: [NODE_MODULES, abs('src/capabilities/**'), abs('src/vocabulary/**')],
    message: 'src/capabilities imports only src/vocabulary.',
  },

  // Layer: sources sit below loaders/resolvers/server. src/sources/** imports only src/sources/**:
  // the shared files directly in src/sources/ (kind.ts, http.ts, sql.ts, observe.ts, breaker.ts,
  // registry.ts, options.ts, fields.ts, ...) and its own kind folder (cross-kind imports are caught by
  // the kind zones below); plus vocabulary, capabilities and the leaf helpers
  // errors/canonical/identifiers/db/config-error.
  // Not loaders, golden, insights, timeline, access, idmap, resolvers, server, gateway, config, ...
  {
    target: abs('src/sources/**'),
    from: ANYWHERE,
    except: [
      NODE_MODULES,
      abs('src/sources/*.ts'),
      abs('src/sources/*/**'),
      abs('src/vocabulary/**'),
      abs('src/capabilities/**'),
      ...['errors', 'canonical', 'identifiers', 'db', 'config-error'].map((f) => fileGlob(`src/${f}.ts`)),
    ],
    message: 'src/sources/** may import only src/sources/**, src/vocabulary, src/capabilities and src/{errors,canonical,identifiers,db,config-error}.ts.',
  },

  // Layer: a source kind is private to its folder. Nothing outside src/sources/<kind>/ imports it,
  // except src/sources/registry.ts (which discovers kinds) and tests under test/ (not in `target`).
  ...SOURCE_KINDS.map((kind) => ({
    target: [
      abs('src/*.ts'),
      abs('src/!(sources)/**'),
      abs('src/sources/!(registry).ts'),
      abs(`src/sources/!(${kind})/**`),
      abs('resolvers/**'),
      abs('demo/**'),
      abs('bench/**'),
    ],
    from: abs(`src/sources/${kind}`),
    message: `src/sources/${kind}/ is private to its kind: only its own files, src/sources/registry.ts and test/ may import it.`,
  })),

  // Layer: stand-ins play the existing enterprise systems, so they share no code with the gateway:
  // demo/systems/**, demo/*-server.ts, demo/world.ts, demo/schema.ts, demo/system.ts import nothing from src/.
  {
    target: [abs('demo/systems/**'), abs('demo/*-server.ts'), abs('demo/faults.ts'), abs('demo/store.ts'), abs('demo/world.ts'), abs('demo/schema.ts'), abs('demo/system.ts')],
    from: abs('src'),
    message: 'Stand-ins (demo systems) must not import gateway code from src/.',
  },

  // Layer: the OneID store sits below loaders/resolvers/server. src/idmap/** imports nothing from
  // resolvers/, src/access, src/loaders.ts, src/server.ts, src/gateway.ts.
  {
    target: abs('src/idmap/**'),
    from: [abs('resolvers'), abs('src/access'), abs('src/loaders.ts'), abs('src/server.ts'), abs('src/gateway.ts')],
    message: 'src/idmap must not import resolvers, access, loaders, server or gateway.',
  },
];

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'data/', 'bench/results/', 'coverage/', '.scratch/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
  },

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    files: ['**/*.ts'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },

  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.cjs', '.mjs'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: abs('tsconfig.json'), alwaysTryTypes: true })],
    },
    rules: {
      // Imports must resolve: an unresolved path would also slip past the boundary zones.
      'import-x/no-unresolved': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }],
    },
  },

  // Relaxations of `recommended`, each where the existing code legitimately differs:
  {
    files: ['**/*.ts'],
    rules: {
      // The code marks deliberately unused bindings with a leading underscore, and drops keys with
      // rest destructuring (`const { http: _http, ...extensions } = ...`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // jose is ESM-only and loaded lazily with require() (src/access/auth.ts) so API-key-only setups
      // and jest never load it.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^jose$'] }],
      // `any` remains at untyped driver edges (knex raw rows, pool hooks) and in generic constraints;
      // visible as a warning, not a failure.
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    // Tests read GraphQL response bodies and fixtures loosely (`res.body.data as any`).
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // Layer: vocabulary may use src/errors.ts for types only (its zone above allows the path; this bans
  // value imports of it).
  {
    files: ['src/vocabulary/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+errors$',
              allowTypeImports: true,
              message: 'src/vocabulary may import src/errors.ts only with `import type`.',
            },
          ],
        },
      ],
    },
  },
);
