/**
 * The BUNDLED Electron main process (built like `npm run build:main`, with `electron` replaced by a
 * recording stand-in, main/test/electron-fake.ts) run under plain Node: lifecycle, session hardening, the
 * app protocol with its CSP, windows from the factory, the guarded connect IPC carrying a real hub session
 * to the local venue with the simulated market, pop-outs, second instance, quit.
 * What this cannot show (Chromium, the real preload, native dialogs) is listed in main/README.md.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProtocolClient } from '../../engine/protocol/index.js';
import { Venue } from '../../engine/venue/index.js';
import { messagePortMainPort } from '../src/message-port.js';
import { webPreferences } from '../src/security/web-preferences.js';
import { MAX_POP_OUTS } from '../src/windows/registry.js';
import type { BrowserWindow as FakeWindow, handle as FakeHandle } from './electron-fake.js';
import { until } from './helpers.js';

describe('bundled Electron main process (fake Electron)', () => {
  // inside the project so the bundle's external packages resolve from node_modules
  const out = resolve('.vitest', `electron-main-${process.pid}`);
  const userData = join(out, 'userData');
  let fake: typeof FakeHandle;
  const windows = (): FakeWindow[] => fake.BrowserWindow.all;

  /** Builds the main process into its own folder (a fresh module instance: a fresh app) and starts it. */
  async function launch(tag: string): Promise<typeof FakeHandle> {
    const dir = join(out, tag);
    mkdirSync(join(dir, 'renderer'), { recursive: true });
    writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>TradeDesk</title>');
    await build({
      entryPoints: { main: 'main/electron/main.ts' },
      outdir: join(dir, 'main'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      alias: { electron: resolve('main/test/electron-fake.ts') },
      logLevel: 'silent',
    });
    await import(pathToFileURL(join(dir, 'main', 'main.js')).href);
    const f = (globalThis as unknown as { __electronFake: typeof FakeHandle }).__electronFake;
    f.state.userData = userData;
    f.state.ready();
    await until(() => f.BrowserWindow.all.length > 0 && f.state.menu !== undefined, 60_000, 'the workspace window');
    return f;
  }

  beforeAll(async () => {
    // main logs JSON lines to the console; keep the test output readable
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    mkdirSync(userData, { recursive: true });
    fake = await launch('first');
  }, 90_000);

  afterAll(async () => {
    if (fake !== undefined && fake.state.exitCode === undefined) {
      fake.app.emit('before-quit');
      fake.app.emit('will-quit', { preventDefault() {} });
      await until(() => fake.state.exitCode !== undefined, 30_000, 'exit');
    }
    rmSync(out, { recursive: true, force: true });
    vi.restoreAllMocks();
  }, 40_000);

  it('takes the single-instance lock, registers the privileged scheme and hardens the session', async () => {
    expect(fake.state.errors).toEqual([]);
    expect(fake.state.schemes).toEqual([{ scheme: 'tradedesk', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    const granted: boolean[] = [];
    fake.state.permissionRequest!({}, 'media', (ok) => granted.push(ok));
    expect(granted).toEqual([false]);
    expect(fake.state.permissionCheck!()).toBe(false);
    expect(fake.state.devicePermission!()).toBe(false);
    const cancel = (url: string): boolean => {
      let c = false;
      fake.state.beforeRequest!({ url }, (r) => (c = r.cancel));
      return c;
    };
    expect(cancel('https://evil.example/x.js')).toBe(true);
    expect(cancel('tradedesk://app/index.html')).toBe(false);
    let downloadPrevented = false;
    fake.state.sessionEvents.emit('will-download', { preventDefault: () => (downloadPrevented = true) });
    expect(downloadPrevented).toBe(true);
  });

  it('serves its pages from tradedesk://app with the strict CSP', async () => {
    const res = await fake.state.protocolHandler!(new Request('tradedesk://app/index.html'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<title>TradeDesk</title>');
    expect((await fake.state.protocolHandler!(new Request('tradedesk://other/index.html'))).status).toBe(404);
    expect((await fake.state.protocolHandler!(new Request('tradedesk://app/missing.js'))).status).toBe(404);
  });

  it('opens the workspace window with the factory webPreferences and the guards attached', () => {
    const main = windows()[0]!;
    const prefs = (main.options as { webPreferences: Record<string, unknown> }).webPreferences;
    expect(prefs).toEqual(webPreferences({ preload: join(out, 'first', 'preload', 'preload.cjs'), devTools: true, version: '0.1.0-test' }));
    expect(main.url).toBe('tradedesk://app/index.html?window=main');
    expect(main.calls).toContain('show');
    // navigation away is prevented; window.open is denied
    let prevented = false;
    main.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(main.webContents.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    // the About box and the menu are set
    expect(JSON.stringify(fake.state.aboutOptions)).toContain('TradingView');
    expect(JSON.stringify(fake.state.menu)).toContain('CmdOrCtrl+Shift+N');
  });

  it('a window\'s connect IPC becomes a hub session on the local venue; a foreign sender is refused', async () => {
    const main = windows()[0]!;
    const [mainEnd, windowEnd] = fake.FakeMessagePortMain.pair();
    const event = { sender: main.webContents, senderFrame: main.webContents.mainFrame, ports: [mainEnd] };
    fake.ipcMain.emit('tradedesk:connect', event, { v: 1 });
    const client = new ProtocolClient(messagePortMainPort(windowEnd), { timeoutMs: 20_000 });
    await client.connect({ client: 'fake-renderer' });
    expect(await client.call('hub.info')).toEqual({ windowId: 'main', panel: 'workspace', params: {}, host: 'electron', version: '0.1.0-test' });
    expect(await client.call('hub.profiles.list')).toMatchObject({ activeId: 'local' });
    const instruments = await client.call('instruments.list');
    expect(instruments.length).toBeGreaterThan(3); // the simulated market's universe
    expect((await client.call('account.get')).cash).toBeGreaterThan(0);

    // a webContents that is not one of our windows gets nothing
    const [strayMain, strayWindow] = fake.FakeMessagePortMain.pair();
    const stray = { sender: { id: 9999, mainFrame: main.webContents.mainFrame }, senderFrame: main.webContents.mainFrame, ports: [strayMain] };
    fake.ipcMain.emit('tradedesk:connect', stray, { v: 1 });
    const strayClient = new ProtocolClient(messagePortMainPort(strayWindow), { timeoutMs: 300 });
    await expect(strayClient.connect({ client: 'stray' })).rejects.toMatchObject({ code: 'TIMEOUT' });

    // hub.window.open pops a chart out into its own window, which gets its own session
    const { windowId } = await client.call('hub.window.open', { panel: 'chart', params: { symbol: instruments[0]!.symbol } });
    const pop = windows().find((w) => w.url.endsWith(`window=${windowId}`));
    expect(pop).toBeDefined();
    const [popMain, popWindow] = fake.FakeMessagePortMain.pair();
    fake.ipcMain.emit('tradedesk:connect', { sender: pop!.webContents, senderFrame: pop!.webContents.mainFrame, ports: [popMain] }, { v: 1 });
    const popClient = new ProtocolClient(messagePortMainPort(popWindow), { timeoutMs: 20_000 });
    await popClient.connect({ client: 'fake-popout' });
    expect(await popClient.call('hub.info')).toMatchObject({ windowId, panel: 'chart', params: { symbol: instruments[0]!.symbol } });

    // a restored layout's pop-out opens where it was (clamped to the screen); the bounds are not panel params
    const placed = await client.call('hub.window.open', { panel: 'ticket', params: { pid: 'ticket-1', winX: 1500, winY: 40, winW: 380, winH: 620 } });
    const ticket = windows().find((w) => w.url.endsWith(`window=${placed.windowId}`))!;
    const o = ticket.options as { x: number; y: number; width: number; height: number };
    expect({ x: o.x, y: o.y, width: o.width, height: o.height }).toEqual({ x: 1500, y: 40, width: 380, height: 620 });
    const [tMain, tWindow] = fake.FakeMessagePortMain.pair();
    fake.ipcMain.emit('tradedesk:connect', { sender: ticket.webContents, senderFrame: ticket.webContents.mainFrame, ports: [tMain] }, { v: 1 });
    const tClient = new ProtocolClient(messagePortMainPort(tWindow), { timeoutMs: 20_000 });
    await tClient.connect({ client: 'fake-ticket' });
    expect((await tClient.call('hub.info')).params).toEqual({ pid: 'ticket-1' });

    // hub.file.save: the save dialog over the window the user is in, offering the name in the downloads
    // folder; cancelled, nothing is written; chosen, the text is written there whole
    const downloads = join(out, 'downloads');
    mkdirSync(downloads, { recursive: true });
    fake.state.downloads = downloads;
    fake.state.focused = ticket;
    const text = 'id,action\r\n1,"a, b"\r\n2,é\r\n';
    expect(await tClient.call('hub.file.save', { name: 'audit-desk.csv', text })).toEqual({ saved: false });
    expect(fake.state.saveAsked.at(-1)).toEqual({ parent: ticket, options: { defaultPath: join(downloads, 'audit-desk.csv'), filters: [{ name: 'CSV', extensions: ['csv'] }] } });
    fake.state.savePath = join(downloads, 'chosen.csv');
    expect(await tClient.call('hub.file.save', { name: 'audit-desk.csv', text })).toEqual({ saved: true, path: join(downloads, 'chosen.csv') });
    expect(readFileSync(join(downloads, 'chosen.csv'), 'utf8')).toBe(text);
    // a name with a folder in it is refused before any dialog
    const asked = fake.state.saveAsked.length;
    await expect(tClient.call('hub.file.save', { name: '../evil.csv', text })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(tClient.call('hub.file.save', { name: 'x.exe', text })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(fake.state.saveAsked.length).toBe(asked);
    // a folder that cannot be written: a typed error, and no file left behind
    fake.state.savePath = join(downloads, 'no-such-folder', 'x.csv');
    await expect(tClient.call('hub.file.save', { name: 'x.csv', text })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('could not be saved') });
    expect(readdirSync(downloads)).toEqual(['chosen.csv']);
    fake.state.savePath = undefined;
    fake.state.focused = undefined;
    ticket.close();
  }, 60_000);

  it('a "New … Window" menu item past the most pop-outs open says so in a message box (no exception out of the click)', () => {
    type Item = { label?: string; submenu?: Item[]; click?: () => void };
    const file = (fake.state.menu as { template: Item[] }).template.find((m) => m.label === '&File')!;
    const newChart = file.submenu!.find((i) => i.label === 'New Chart Window')!;
    const before = windows().filter((w) => !w.destroyed);
    const popOuts = before.length - 1; // all but the workspace
    for (let i = popOuts; i < MAX_POP_OUTS; i++) newChart.click!();
    const opened = windows().filter((w) => !w.destroyed && !before.includes(w));
    expect(opened.length).toBe(MAX_POP_OUTS - popOuts);
    expect(fake.state.messageBoxes).toEqual([]);
    // one more: refused, and told
    expect(() => newChart.click!()).not.toThrow();
    expect(windows().filter((w) => !w.destroyed).length).toBe(before.length + opened.length);
    expect(fake.state.messageBoxes).toEqual([
      { type: 'warning', title: 'TradeDesk', message: 'The window could not be opened', detail: `${MAX_POP_OUTS} windows are open already: close one first` },
    ]);
    for (const w of opened) w.close();
    // with one closed, the menu opens windows again
    newChart.click!();
    const again = windows().filter((w) => !w.destroyed && !before.includes(w));
    expect(again.length).toBe(1);
    again[0]!.close();
  });

  it('a second launch focuses the first; closing the workspace closes and remembers its pop-outs; quitting closes the venue', async () => {
    const main = windows()[0]!;
    fake.app.emit('second-instance', {}, ['tradedesk'], '/');
    expect(main.calls.at(-1)).toBe('focus');
    const pops = windows().filter((w) => w !== main && !w.destroyed);
    expect(pops.length).toBe(1);
    main.close();
    expect(pops.every((w) => w.destroyed)).toBe(true);
    fake.app.emit('before-quit');
    fake.app.emit('will-quit', { preventDefault() {} });
    await until(() => fake.state.exitCode !== undefined, 30_000, 'exit');
    expect(fake.state.exitCode).toBe(0);
    const saved = JSON.parse(readFileSync(join(userData, 'windows.json'), 'utf8')) as { popOuts: { panel: string }[] };
    expect(saved.popOuts.map((p) => p.panel)).toEqual(['chart']);
    // the venue was closed (its lock released) with the local account in it
    const venue = Venue.open(join(userData, 'venue.sqlite'));
    try {
      expect(venue.view.accountView(1)?.cash).toBeGreaterThan(0);
    } finally {
      venue.close({ snapshot: false });
    }
  }, 40_000);

  it('the next start reopens the remembered pop-out and restores the workspace bounds', async () => {
    const states = JSON.parse(readFileSync(join(userData, 'window-state.json'), 'utf8')) as Record<string, { bounds: object }>;
    expect(Object.keys(states).sort()).toEqual(['chart', 'ticket', 'workspace']);
    const second = await launch('second');
    try {
      const ws = second.BrowserWindow.all.filter((w) => !w.destroyed);
      expect(ws.map((w) => w.url.replace(/window=.*$/, 'window=…'))).toEqual([
        'tradedesk://app/index.html?window=…',
        'tradedesk://app/index.html?window=…',
      ]);
      expect(ws[0]!.url).toBe('tradedesk://app/index.html?window=main');
      const o = ws[0]!.options as { x: number; y: number; width: number; height: number };
      expect({ x: o.x, y: o.y, width: o.width, height: o.height }).toEqual(states.workspace!.bounds);
      // the pop-out came back as a chart window with its params
      const [a, b] = second.FakeMessagePortMain.pair();
      second.ipcMain.emit('tradedesk:connect', { sender: ws[1]!.webContents, senderFrame: ws[1]!.webContents.mainFrame, ports: [a] }, { v: 1 });
      const c = new ProtocolClient(messagePortMainPort(b), { timeoutMs: 20_000 });
      await c.connect({ client: 'restored-popout' });
      expect(await c.call('hub.info')).toMatchObject({ panel: 'chart' });
    } finally {
      second.app.emit('before-quit');
      second.app.emit('will-quit', { preventDefault() {} });
      await until(() => second.state.exitCode !== undefined, 30_000, 'exit');
    }
  }, 90_000);

  it("Windows' shutdown or logoff (the workspace's 'session-end', with no 'before-quit' nor 'will-quit'): the pop-outs are remembered and the venue closed", async () => {
    const third = await launch('third');
    const ws = third.BrowserWindow.all.filter((w) => !w.destroyed);
    expect(ws.length).toBe(2);
    rmSync(join(userData, 'windows.json'));
    ws[0]!.emit('session-end', {});
    await until(() => third.state.exitCode !== undefined, 30_000, 'exit');
    expect(third.state.exitCode).toBe(0);
    const saved = JSON.parse(readFileSync(join(userData, 'windows.json'), 'utf8')) as { popOuts: { panel: string }[] };
    expect(saved.popOuts.map((p) => p.panel)).toEqual(['chart']);
    // the venue was closed: its lock is released
    Venue.open(join(userData, 'venue.sqlite')).close({ snapshot: false });
  }, 90_000);
});
