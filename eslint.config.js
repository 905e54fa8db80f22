// ESLint flat config. typescript-eslint "recommended" (syntax only, no type-aware rules, so it stays fast)
// plus the layer boundaries of shared ARCHITECTURE.md ("Layers and what each may import"):
//
//   folder           may import                              must not import
//   engine/core      nothing outside engine/core             any package, node:*, clock, randomness
//   engine/protocol  engine/core, zod                        node:*, electron, other engine layers
//   engine/sim       engine/core, engine/protocol            node:*, I/O packages, clock, randomness
//   engine/venue     engine/*, better-sqlite3, node:*        electron, server, main, preload, renderer
//   engine/live      engine/core, protocol, venue, sim,      electron, server, main, preload, renderer,
//                    node:*                                  other packages, tests
//   server           engine/*, node:*, packages              electron, main, preload, renderer
//   main             engine/*, preload (types only)          renderer, server
//   preload          electron; anything else types only      node:*, other packages
//   renderer         engine/protocol; engine/core/types.js   node:*, electron, main, server, engine/core
//                    and codes.js (types only)               internals, venue, sim
// Raw `ipcMain`/`ipcRenderer` may be imported only in main/ipc*.ts, main/electron/ipc*.ts and preload/.
//
// How the patterns work: no-restricted-imports sees the import string, not the resolved file, so a
// cross-layer import is recognised by a relative path that climbs out (`../`) and then names another
// layer's folder (`../protocol/x.js` from engine/core, `../../server/src/x.js` from main). A sub-folder
// inside a layer that happens to share a layer's name (say engine/core/sim/) would be flagged by mistake:
// don't name sub-folders like layers. Note that with flat config a later block's `no-restricted-imports`
// replaces an earlier one's for the same file, so each file gets exactly one import rule built below.
// engine/test/tooling/boundaries.test.ts proves these rules bite.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const ENGINE_LAYERS = ['core', 'protocol', 'venue', 'sim', 'live', 'test'];
const TOP_FOLDERS = ['engine', 'server', 'main', 'preload', 'renderer', 'bench', 'scripts', 'build'];

/** @param {string} s */
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** @param {readonly string[]} names */
const alt = (names) => names.map(escape).join('|');
/** @param {readonly string[]} all @param {readonly string[]} allowed */
const except = (all, allowed) => all.filter((n) => !allowed.includes(n));

/** Any import that is not relative (a package, `node:*`, a builtin, an absolute path), except `allowed`.
 * @param {readonly string[]} allowed */
const bareExcept = (allowed) =>
  allowed.length === 0 ? '^(?!\\.{1,2}/)' : `^(?!\\.{1,2}/|(?:${alt(allowed)})(?:/|$))`;
const NODE_BUILTINS = `^(?:node:|(?:${alt(builtinModules)})(?:/|$))`;
const ELECTRON = '^electron(?:/|$)';

/** From a file in engine/<layer>/: relative paths into sibling engine layers (or back via engine/).
 * @param {readonly string[]} layers */
const intoEngineSiblings = (layers) => `^(?:\\.\\./)+(?:engine/)?(?:${alt(layers)})(?:/|$)`;
/** From a file in a top-level folder: relative paths into engine/<layer>.
 * @param {readonly string[]} layers */
const intoEngineLayers = (layers) => `^(?:\\.\\./)+engine/(?:${alt(layers)})(?:/|$)`;
/** Relative paths that climb out and enter one of these top-level folders.
 * @param {readonly string[]} folders */
const intoTop = (folders) => `^(?:\\.\\./)+(?:${alt(folders)})(?:/|$)`;

const IPC_PATHS = [
  { name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'Raw IPC only in main/ipc*.ts (typed wrappers) and preload/.' },
  { name: 'electron/main', importNames: ['ipcMain'], message: 'Raw IPC only in main/ipc*.ts (typed wrappers).' },
  { name: 'electron/renderer', importNames: ['ipcRenderer'], message: 'Raw IPC only in preload/.' },
];

/** @typedef {[regex: string, message: string, extra?: { allowTypeImports?: boolean }]} Pattern */

/**
 * One complete no-restricted-imports entry. `ipc: true` adds the raw-IPC ban.
 * @param {Pattern[]} patterns
 * @param {{ ipc?: boolean }} [options]
 * @returns {import('eslint').Linter.RulesRecord}
 */
function restrict(patterns, { ipc = true } = {}) {
  return {
    'no-restricted-imports': [
      'error',
      { paths: ipc ? IPC_PATHS : [], patterns: patterns.map(([regex, message, extra]) => ({ regex, message, ...extra })) },
    ],
  };
}

/** @type {Pattern[]} */
const SERVER_PATTERNS = [
  [ELECTRON, 'server must not import electron (ARCHITECTURE.md).'],
  [intoTop(['main', 'preload', 'renderer']), 'server must not import main, preload or renderer.'],
];

/** @param {boolean} ipc */
const mainImports = (ipc) =>
  restrict(
    [
      [intoTop(['renderer', 'server']), 'main must not import renderer or server code (ARCHITECTURE.md).'],
      [intoTop(['preload']), 'main may import only the preload contract types: use `import type`.', { allowTypeImports: true }],
    ],
    { ipc },
  );

// The engine reads no clock, no randomness and no host: time and ids come in with each command.
/** @type {import('eslint').Linter.RulesRecord} */
const PURE_ENGINE_RULES = {
  'no-restricted-globals': [
    'error',
    ...[
      'process', 'performance', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
      'clearImmediate', 'queueMicrotask', 'crypto', 'fetch', 'globalThis',
    ].map((name) => ({ name, message: `No '${name}' in the pure engine: time, randomness and I/O come in as inputs.` })),
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'No clock in the pure engine: the timestamp comes with the command.' },
    { object: 'Math', property: 'random', message: 'No randomness in the pure engine: pass a seeded generator in.' },
    { object: 'performance', property: 'now', message: 'No clock in the pure engine.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date']", message: 'No `new Date` in the pure engine: timestamps are integers supplied with the command.' },
    { selector: "CallExpression[callee.name='Date']", message: 'No `Date()` in the pure engine: it reads the clock.' },
    { selector: 'ImportExpression', message: 'No dynamic import in the pure engine.' },
  ],
};

export default defineConfig(
  globalIgnores(['**/node_modules/', '**/dist/', '**/out/', '**/coverage/', '.vitest/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  // Node-side by default (venue, server, main, preload, bench, scripts, build, tests, root files): Node
  // globals and the raw-IPC ban. The pure engine layers and the renderer get their own globals below.
  {
    files: ['**/*.{ts,tsx,mts,cts,js,mjs,cjs}'],
    ignores: ['engine/core/**', 'engine/protocol/**', 'engine/sim/**', 'renderer/**'],
    languageOptions: { globals: globals.node },
    rules: restrict([]),
  },

  {
    files: ['engine/core/**'],
    rules: {
      ...PURE_ENGINE_RULES,
      ...restrict([
        [bareExcept([]), 'engine/core imports nothing outside engine/core: no packages, no node:* (ARCHITECTURE.md).'],
        [intoEngineSiblings(except(ENGINE_LAYERS, ['core'])), 'engine/core imports nothing outside engine/core.'],
        [intoTop(except(TOP_FOLDERS, ['engine'])), 'engine/core imports nothing outside engine/core.'],
      ]),
    },
  },
  {
    files: ['engine/protocol/**'],
    rules: restrict([
      [bareExcept(['zod']), 'engine/protocol may import only engine/core and zod: no node:*, electron or DOM-only APIs.'],
      [intoEngineSiblings(['venue', 'sim', 'live', 'test']), 'engine/protocol may import only engine/core.'],
      [intoTop(except(TOP_FOLDERS, ['engine'])), 'engine/protocol may import only engine/core.'],
    ]),
  },
  {
    files: ['engine/sim/**'],
    rules: {
      ...PURE_ENGINE_RULES,
      ...restrict([
        [NODE_BUILTINS, 'engine/sim does no I/O beyond what it is given: no node:*.'],
        [`${ELECTRON}|^(?:better-sqlite3|ws)(?:/|$)`, 'engine/sim does no I/O beyond what it is given.'],
        [intoEngineSiblings(['venue', 'live', 'test']), 'engine/sim may import only engine/core and engine/protocol.'],
        [intoTop(except(TOP_FOLDERS, ['engine'])), 'engine/sim may import only engine/core and engine/protocol.'],
      ]),
    },
  },
  {
    files: ['engine/venue/**'],
    rules: restrict([
      [ELECTRON, 'engine/venue must not import electron (ARCHITECTURE.md).'],
      [intoEngineSiblings(['test']), 'engine/venue must not import tests.'],
      [intoEngineSiblings(['live']), 'engine/venue must not import engine/live (live builds on the venue).'],
      [intoTop(except(TOP_FOLDERS, ['engine'])), 'engine/venue must not import server, main, preload, renderer or tooling.'],
    ]),
  },
  {
    files: ['engine/live/**'],
    rules: restrict([
      [`${ELECTRON}|^(?!\\.{1,2}/|node:)`, 'engine/live may import only engine/core, protocol, venue, sim and node:* (no packages, no electron).'],
      [intoEngineSiblings(['test']), 'engine/live must not import tests.'],
      [intoTop(except(TOP_FOLDERS, ['engine'])), 'engine/live must not import server, main, preload, renderer or tooling.'],
    ]),
  },
  {
    files: ['engine/host/**'],
    rules: restrict([
      [`${ELECTRON}|^(?!\\.{1,2}/|node:)`, 'engine/host may import only node:* (no packages, no electron).'],
      [intoTop(except(TOP_FOLDERS, ['engine'])), 'engine/host must not import server, main, preload, renderer or tooling.'],
    ]),
  },
  { files: ['server/**'], rules: restrict(SERVER_PATTERNS) },
  {
    files: ['server/src/**'],
    rules: restrict([...SERVER_PATTERNS, ['^(?:\\.\\./)+test(?:/|$)', 'Production code must not import tests.']]),
  },
  { files: ['main/**'], rules: mainImports(true) },
  { files: ['main/ipc*.ts', 'main/electron/ipc*.ts'], rules: mainImports(false) },
  // main/src runs (and is tested) under plain Node; only the adapter in main/electron/ touches Electron.
  {
    files: ['main/src/**'],
    rules: restrict([
      [intoTop(['renderer', 'server']), 'main must not import renderer or server code (ARCHITECTURE.md).'],
      [intoTop(['preload']), 'main may import only the preload contract types: use `import type`.', { allowTypeImports: true }],
      [ELECTRON, 'main/src runs under plain Node: Electron types only (`import type`); Electron itself is main/electron/.', { allowTypeImports: true }],
    ]),
  },
  // main's tests may build a real exchange server (server/src buildServer) to test the firm connection.
  { files: ['main/test/**'], rules: restrict([[intoTop(['renderer']), 'main tests must not import renderer code.']]) },
  {
    files: ['preload/**'],
    rules: restrict(
      [
        [bareExcept(['electron']), 'preload may import only electron and the contract types (ARCHITECTURE.md).'],
        ['^(?:\\.\\./)+', 'preload may import only the contract types from outside preload/: use `import type`.', { allowTypeImports: true }],
      ],
      { ipc: false },
    ),
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: globals.browser },
    rules: restrict([
      [NODE_BUILTINS, 'The renderer runs in a sandbox and in plain browsers: no node:* (ARCHITECTURE.md).'],
      [`${ELECTRON}|^(?:better-sqlite3|ws)(?:/|$)`, 'The renderer must not import electron or Node-only packages.'],
      [intoTop(['main', 'server', 'bench', 'scripts', 'build']), 'The renderer must not import main or server code.'],
      [intoTop(['preload']), 'The renderer may import only the preload contract types: use `import type`.', { allowTypeImports: true }],
      [intoEngineLayers(['venue', 'sim', 'live', 'test']), 'The renderer talks to the engine only through engine/protocol.'],
      ['^(?:\\.\\./)+engine/core(?:/?$|/(?!(?:types|codes)\\.js$))', 'The renderer must not import engine/core internals; use engine/protocol.'],
      [
        '^(?:\\.\\./)+engine/core/(?:types|codes)\\.js$',
        'The renderer may use engine/core types and codes as types only: use `import type`.',
        { allowTypeImports: true },
      ],
    ]),
  },
  // The renderer's build config, E2E tests and scripts run under Node (vite, vitest, Playwright), not in the page.
  {
    files: ['renderer/vite.config.ts', 'renderer/test/**'],
    languageOptions: { globals: globals.node },
    rules: restrict([[ELECTRON, 'Renderer tooling must not import electron.']]),
  },
);
