// Proves that eslint.config.js enforces the layer table of ARCHITECTURE.md: each snippet is linted as if it
// were a file at the given path (the file need not exist).
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.js') });
});

async function lint(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (!result) throw new Error(`no lint result for ${file}`);
  return result.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

/** The snippet must be reported by `rule`. */
async function expectViolation(file: string, code: string, rule: string): Promise<void> {
  const messages = await lint(file, code);
  expect(messages.some((m) => m.startsWith(`${rule}:`)), `${file}: ${code}\n${messages.join('\n')}`).toBe(true);
}

/** The snippet must lint clean (no messages at all, so a parse error fails too). */
async function expectClean(file: string, code: string): Promise<void> {
  expect(await lint(file, code), `${file}: ${code}`).toEqual([]);
}

const IMPORTS = 'no-restricted-imports';

describe('engine/core is pure', () => {
  const f = 'engine/core/x.ts';
  it.each([
    ["import { readFileSync } from 'node:fs'; export const r = readFileSync;"],
    ["import { readFileSync } from 'fs'; export const r = readFileSync;"],
    ["import { z } from 'zod'; export const s = z.string();"],
    ["import type { Client } from '../protocol/client.js'; export type C = Client;"],
    ["import { Venue } from '../venue/venue.js'; export const v = Venue;"],
    ["import { x } from '../../server/src/app.js'; export const y = x;"],
  ])('rejects %s', async (code) => expectViolation(f, code, IMPORTS));

  it.each([
    ['export const now = () => Date.now();', 'no-restricted-properties'],
    ['export const r = () => Math.random();', 'no-restricted-properties'],
    ['export const d = () => new Date();', 'no-restricted-syntax'],
    ['export const d = () => Date();', 'no-restricted-syntax'],
    ['export const t = () => performance.now();', 'no-restricted-globals'],
    ['export const e = () => process.env.HOME;', 'no-restricted-globals'],
    ['export const t = () => setTimeout(() => {}, 1);', 'no-restricted-globals'],
    ['export const t = () => setInterval(() => {}, 1);', 'no-restricted-globals'],
    ["export const m = () => import('./types.js');", 'no-restricted-syntax'],
  ])('rejects %s', async (code, rule) => expectViolation(f, code, rule));

  it('accepts imports within engine/core, also from a sub-folder', async () => {
    await expectClean(f, "import type { Price } from './types.js';\nexport const p: Price = 100;\n");
    await expectClean('engine/core/book/x.ts', "import { CODES } from '../codes.js';\nexport const c = CODES;\n");
    await expectClean(f, 'export const later = (ts: number) => Date.UTC(2024, 0, 1) + ts;\n');
  });
});

describe('engine/protocol imports only engine/core (and zod)', () => {
  const f = 'engine/protocol/x.ts';
  it.each([
    ["import WebSocket from 'ws'; export const w = WebSocket;"],
    ["import { EventEmitter } from 'node:events'; export const e = EventEmitter;"],
    ["import { ipcRenderer } from 'electron'; export const i = ipcRenderer;"],
    ["import { Venue } from '../venue/venue.js'; export const v = Venue;"],
    ["import { bot } from '../sim/bot.js'; export const b = bot;"],
  ])('rejects %s', async (code) => expectViolation(f, code, IMPORTS));

  it('accepts engine/core, zod and timers', async () => {
    await expectClean(
      f,
      "import { z } from 'zod';\nimport { CODES } from '../core/codes.js';\n" +
        'export const s = z.string();\nexport const c = CODES;\nexport const t = () => setTimeout(() => {}, 1);\n',
    );
  });
});

describe('engine/sim', () => {
  const f = 'engine/sim/x.ts';
  it('rejects I/O, clocks and randomness', async () => {
    await expectViolation(f, "import { readFileSync } from 'node:fs'; export const r = readFileSync;", IMPORTS);
    await expectViolation(f, "import { Venue } from '../venue/venue.js'; export const v = Venue;", IMPORTS);
    await expectViolation(f, 'export const r = () => Math.random();', 'no-restricted-properties');
    await expectViolation(f, 'export const n = () => Date.now();', 'no-restricted-properties');
  });
  it('accepts core and protocol', async () => {
    await expectClean(
      f,
      "import type { Price } from '../core/types.js';\nimport { client } from '../protocol/client.js';\n" +
        'export const p: Price = 1;\nexport const c = client;\n',
    );
  });
});

describe('engine/venue', () => {
  const f = 'engine/venue/x.ts';
  it('rejects electron and the outer layers', async () => {
    await expectViolation(f, "import { app } from 'electron'; export const a = app;", IMPORTS);
    await expectViolation(f, "import { build } from '../../server/src/app.js'; export const b = build;", IMPORTS);
    await expectViolation(f, "import { hub } from '../../main/hub.js'; export const h = hub;", IMPORTS);
    await expectViolation(f, "import { App } from '../../renderer/src/App.js'; export const a = App;", IMPORTS);
  });
  it('accepts core, protocol, sim, better-sqlite3 and node:*', async () => {
    await expectClean(
      f,
      "import Database from 'better-sqlite3';\nimport { mkdtempSync } from 'node:fs';\n" +
        "import { CODES } from '../core/codes.js';\nimport { client } from '../protocol/client.js';\n" +
        "import { bot } from '../sim/bot.js';\nexport const all = [Database, mkdtempSync, CODES, client, bot];\n",
    );
  });
});

describe('engine/live', () => {
  const f = 'engine/live/x.ts';
  it('rejects electron, packages, tests and the outer layers', async () => {
    await expectViolation(f, "import { app } from 'electron'; export const a = app;", IMPORTS);
    await expectViolation(f, "import WebSocket from 'ws'; export const w = WebSocket;", IMPORTS);
    await expectViolation(f, "import { build } from '../../server/src/app.js'; export const b = build;", IMPORTS);
    await expectViolation(f, "import { hub } from '../../main/hub.js'; export const h = hub;", IMPORTS);
    await expectViolation(f, "import { t } from '../test/venue/helpers.js'; export const x = t;", IMPORTS);
  });
  it('accepts core, protocol, venue, sim and node:*', async () => {
    await expectClean(
      f,
      "import { mkdtempSync } from 'node:fs';\nimport { CODES } from '../core/codes.js';\n" +
        "import { client } from '../protocol/client.js';\nimport { Venue } from '../venue/venue.js';\n" +
        "import { MarketSim } from '../sim/market.js';\nexport const all = [mkdtempSync, CODES, client, Venue, MarketSim];\n",
    );
  });
  it('is not imported by the layers below it', async () => {
    await expectViolation('engine/venue/x.ts', "import { startLiveMarket } from '../live/market.js'; export const s = startLiveMarket;", IMPORTS);
    await expectViolation('engine/sim/x.ts', "import { startLiveMarket } from '../live/market.js'; export const s = startLiveMarket;", IMPORTS);
    await expectViolation('engine/protocol/x.ts', "import { startLiveMarket } from '../live/market.js'; export const s = startLiveMarket;", IMPORTS);
    await expectViolation('renderer/src/x.ts', "import { startLiveMarket } from '../../engine/live/market.js'; export const s = startLiveMarket;", IMPORTS);
  });
});

describe('server', () => {
  it('rejects electron, main, preload and renderer', async () => {
    const f = 'server/src/x.ts';
    await expectViolation(f, "import { app } from 'electron'; export const a = app;", IMPORTS);
    await expectViolation(f, "import { hub } from '../../main/hub.js'; export const h = hub;", IMPORTS);
    await expectViolation(f, "import type { Bridge } from '../../preload/contract.js'; export type B = Bridge;", IMPORTS);
    await expectViolation(f, "import { App } from '../../renderer/src/App.js'; export const a = App;", IMPORTS);
  });
  it('accepts engine/* and node:*', async () => {
    await expectClean(
      'server/src/x.ts',
      "import { createServer } from 'node:http';\nimport { WebSocketServer } from 'ws';\n" +
        "import { Venue } from '../../engine/venue/venue.js';\nexport const all = [createServer, WebSocketServer, Venue];\n",
    );
  });
});

describe('renderer', () => {
  const f = 'renderer/src/x.ts';
  it.each([
    ["import path from 'node:path'; export const p = path;"],
    ["import { readFile } from 'fs/promises'; export const r = readFile;"],
    ["import { ipcRenderer } from 'electron'; export const i = ipcRenderer;"],
    ["import { hub } from '../../main/hub.js'; export const h = hub;"],
    ["import { build } from '../../server/src/app.js'; export const b = build;"],
    ["import { Book } from '../../engine/core/book.js'; export const b = Book;"],
    ["import { CODES } from '../../engine/core/codes.js'; export const c = CODES;"],
    ["import { Venue } from '../../engine/venue/venue.js'; export const v = Venue;"],
    ["import { bridge } from '../../preload/contract.js'; export const b = bridge;"],
  ])('rejects %s', async (code) => expectViolation(f, code, IMPORTS));

  it('accepts the protocol client and core types/codes as types', async () => {
    await expectClean(
      f,
      "import { client } from '../../engine/protocol/client.js';\n" +
        "import type { Price } from '../../engine/core/types.js';\n" +
        "import type { ResultCode } from '../../engine/core/codes.js';\n" +
        "import type { Bridge } from '../../preload/contract.js';\n" +
        'export const c = client;\nexport type T = [Price, ResultCode, Bridge];\n',
    );
  });
});

describe('Electron main and preload', () => {
  it('bans raw IPC outside main/ipc*.ts and preload/', async () => {
    await expectViolation('main/window.ts', "import { ipcMain } from 'electron'; export const i = ipcMain;", IMPORTS);
    await expectViolation('main/window.ts', "import * as electron from 'electron'; export const e = electron;", IMPORTS);
    await expectViolation('engine/test/x.test.ts', "import { ipcRenderer } from 'electron'; export const i = ipcRenderer;", IMPORTS);
    await expectClean('main/ipc.ts', "import { ipcMain } from 'electron';\nexport const i = ipcMain;\n");
    await expectClean('main/ipcHandlers.ts', "import { ipcMain } from 'electron';\nexport const i = ipcMain;\n");
    await expectClean('preload/index.ts', "import { contextBridge, ipcRenderer } from 'electron';\nexport const all = [contextBridge, ipcRenderer];\n");
  });
  it('main may not import renderer or server, and preload only as types', async () => {
    const f = 'main/window.ts';
    await expectViolation(f, "import { App } from '../renderer/src/App.js'; export const a = App;", IMPORTS);
    await expectViolation(f, "import { build } from '../server/src/app.js'; export const b = build;", IMPORTS);
    await expectViolation(f, "import { bridge } from '../preload/contract.js'; export const b = bridge;", IMPORTS);
    await expectClean(
      f,
      "import { BrowserWindow } from 'electron';\nimport type { Bridge } from '../preload/contract.js';\n" +
        "import { Venue } from '../engine/venue/venue.js';\nexport const all = [BrowserWindow, Venue];\nexport type B = Bridge;\n",
    );
  });
  it('preload imports only electron and contract types', async () => {
    const f = 'preload/index.ts';
    await expectViolation(f, "import { readFileSync } from 'node:fs'; export const r = readFileSync;", IMPORTS);
    await expectViolation(f, "import { z } from 'zod'; export const s = z;", IMPORTS);
    await expectViolation(f, "import { client } from '../engine/protocol/client.js'; export const c = client;", IMPORTS);
    await expectClean(f, "import type { Message } from '../engine/protocol/messages.js';\nexport type M = Message;\n");
  });
});

describe('tests and tooling', () => {
  it('may import anything but raw IPC', async () => {
    await expectClean(
      'engine/test/core/x.test.ts',
      "import { readFileSync } from 'node:fs';\nimport { Book } from '../../core/book.js';\n" +
        "import { Venue } from '../../venue/venue.js';\nexport const all = [readFileSync, Book, Venue];\n",
    );
    await expectClean('scripts/x.mjs', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync(process.argv[1]);\n");
  });
});
