/**
 * The Electron main process: lifecycle, windows, menu, the app protocol and the wiring of the desktop core
 * (main/src/core.ts: hub, local venue with the simulated market, firm connections, keychain). Thin on
 * purpose: everything with logic lives in main/src and is tested under plain Node.
 *
 *   single-instance lock ─► second launch focuses the first
 *   ready ─► session hardening (permissions, network filter, downloads) ─► tradedesk:// protocol (CSP)
 *        ─► core (userData/venue.sqlite, profiles, keychain: keytar → safeStorage) ─► IPC connect ─► menu
 *        ─► workspace window (+ the pop-outs open at the last quit)
 *   quit ─► remember pop-outs ─► close the core (venue snapshot) ─► exit
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, app, dialog, protocol, safeStorage, session, shell } from 'electron';
import type { PanelKind } from '../../engine/protocol/index.js';
import { startDesktopCore, type DesktopCore } from '../src/core.js';
import { resolveStatic } from '../../engine/host/static.js';
import { aboutText, menuTemplate } from '../src/menu.js';
import { messagePortMainPort } from '../src/message-port.js';
import { saveTextFile } from '../src/save-file.js';
import { SECURITY_HEADERS, strictCsp } from '../src/security/csp.js';
import { makeRequestFilter, permissionCheckHandler, permissionRequestHandler } from '../src/security/handlers.js';
import { APP_HOST, APP_SCHEME } from '../src/security/web-preferences.js';
import { WindowRegistry, loadOpenPopOuts, saveOpenPopOuts } from '../src/windows/registry.js';
import { focusFirstInstance } from '../src/windows/single-instance.js';
import { WindowStateStore } from '../src/windows/state.js';
import { registerConnectHandler } from './ipc.js';
import { DesktopWindows } from './windows.js';

const here = fileURLToPath(new URL('.', import.meta.url)); // dist/main/
const PRELOAD = join(here, '..', 'preload', 'preload.cjs');
const RENDERER_DIR = join(here, '..', 'renderer');
const DEV = !app.isPackaged;
const APP_NAME = 'TradeDesk';
const CSP = strictCsp();

// Our pages load from tradedesk://app/: a standard, secure scheme (its own origin; fetch works on it).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

function log(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message, ...data });
  if (level === 'error') console.error(line);
  else console.log(line);
}

let core: DesktopCore | undefined;
let windows: DesktopWindows | undefined;
/** Opens the workspace window and the pop-outs that were open when it last closed (set once started). */
let openSession: (() => void) | undefined;
const registry = new WindowRegistry();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (windows === undefined) return;
    if (focusFirstInstance(windows.main, windows.all()) === 'reopen') openSession?.();
  });
  // Belt and braces: every webContents ever created (also ones we did not create) gets the guards.
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  app.whenReady().then(start, (e: unknown) => fatal(e));
}

async function start(): Promise<void> {
  try {
    hardenSession();
    serveAppProtocol();
    const userDataDir = app.getPath('userData');
    const states = new WindowStateStore(join(userDataDir, 'window-state.json'));
    // The pop-outs open when the workspace closes (or the app quits) are reopened with it next time.
    const sessionFile = join(userDataDir, 'windows.json');
    let sessionSaved = false;
    const saveSession = (): void => {
      if (sessionSaved) return;
      sessionSaved = true;
      saveOpenPopOuts(sessionFile, registry.popOuts());
    };
    windows = new DesktopWindows({
      registry,
      states,
      preload: PRELOAD,
      devTools: DEV,
      version: app.getVersion(),
      appName: APP_NAME,
      // Closing the workspace closes its pop-outs (and, except on macOS, quits through window-all-closed).
      onWorkspaceClose: () => {
        saveSession();
        for (const other of windows?.all() ?? []) if (other !== windows?.main && !other.isDestroyed()) other.close();
      },
    });
    const w = windows;
    core = await startDesktopCore({
      userDataDir,
      host: 'electron',
      version: app.getVersion(),
      safeStorage,
      openWindow: (panel, params) => w.openPopOut(panel as Exclude<PanelKind, 'workspace'>, params),
      // an export: the save dialog over the window the user is in (main/src/save-file.ts)
      saveFile: (name, text) =>
        saveTextFile(
          async (defaultPath) => {
            const opts = { defaultPath, filters: [{ name: extname(name).slice(1).toUpperCase(), extensions: [extname(name).slice(1)] }] };
            const parent = BrowserWindow.getFocusedWindow() ?? w.main;
            const r = parent !== undefined ? await dialog.showSaveDialog(parent, opts) : await dialog.showSaveDialog(opts);
            return r.canceled ? undefined : r.filePath;
          },
          app.getPath('downloads'),
          name,
          text,
        ),
      log,
    });
    const c = core;
    log('info', 'credentials', { backend: c.credentials.backend });
    registerConnectHandler({
      windowOf: (id) => registry.windowOf(id),
      connect: (port, windowId) => {
        const mw = registry.get(windowId);
        if (mw === undefined) return;
        c.hub.attach(messagePortMainPort(port), { windowId, panel: mw.panel, params: mw.params });
      },
      onRefused: (reason, details) => log('warn', 'IPC refused', { reason, ...details }),
    });
    const about = aboutText(APP_NAME, app.getVersion(), process.versions);
    app.setAboutPanelOptions({ applicationName: APP_NAME, applicationVersion: app.getVersion(), credits: about.detail, copyright: about.detail });
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(
          { appName: APP_NAME, platform: process.platform, devTools: DEV },
          {
            openPanel: (panel) => {
              try {
                w.openPopOut(panel, {});
              } catch (e) {
                // (the most pop-outs are open already): said to the user, not thrown out of a menu click
                const detail = e instanceof Error ? e.message : String(e);
                log('warn', 'window not opened', { panel, err: detail });
                dialog.showMessageBox({ type: 'warning', title: APP_NAME, message: 'The window could not be opened', detail }).catch(() => undefined);
              }
            },
            about: () => {
              if (process.platform === 'win32') void dialog.showMessageBox({ type: 'info', title: about.title, message: about.message, detail: about.detail });
              else app.showAboutPanel();
            },
            showUserData: () => void shell.openPath(userDataDir),
          },
        ),
      ),
    );
    let quitting = false;
    const quit = (): void => {
      quitting = true;
      void c.close().finally(() => app.exit(0));
    };
    openSession = () => {
      sessionSaved = false;
      // Windows ends the app at a shutdown, restart or logoff without 'before-quit' or 'will-quit' (Electron's
      // docs): there the workspace's 'session-end' remembers the pop-outs (at once) and starts closing the
      // venue, which Windows may cut short (every commit is on the disk already, synchronous=FULL: the next
      // start replays the journal from the last snapshot).
      w.openWorkspace().once('session-end', () => {
        saveSession();
        if (!quitting) quit();
      });
      for (const p of loadOpenPopOuts(sessionFile)) w.openPopOut(p.panel as Exclude<PanelKind, 'workspace'>, p.params);
    };
    openSession();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openSession?.();
    });
    app.on('window-all-closed', () => {
      if (process.platform !== 'darwin') app.quit();
    });
    // Quitting closes the windows in no particular order: remember the pop-outs before that starts.
    app.on('before-quit', () => {
      if (w.main !== undefined && !w.main.isDestroyed()) saveSession();
    });
    app.on('will-quit', (e) => {
      if (quitting) return;
      e.preventDefault();
      quit();
    });
  } catch (e) {
    fatal(e);
  }
}

/** Permissions, network and downloads for the default session (all our windows use it). */
function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler(permissionRequestHandler);
  ses.setPermissionCheckHandler(permissionCheckHandler);
  ses.setDevicePermissionHandler(permissionCheckHandler);
  ses.webRequest.onBeforeRequest(makeRequestFilter({ devTools: DEV }));
  ses.on('will-download', (e) => e.preventDefault());
}

/** tradedesk://app/<path> → the renderer's built files, with the strict CSP on every response. */
function serveAppProtocol(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST || request.method !== 'GET') return new Response('Not found', { status: 404 });
    const f = resolveStatic(RENDERER_DIR, url.pathname);
    if (f === undefined) return new Response('Not found', { status: 404, headers: { ...SECURITY_HEADERS } });
    const body = await readFile(f.file);
    return new Response(body, { status: 200, headers: { 'Content-Type': f.type, 'Content-Security-Policy': CSP, ...SECURITY_HEADERS } });
  });
}

function fatal(e: unknown): void {
  log('error', 'start-up failed', { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  dialog.showErrorBox(`${APP_NAME} could not start`, e instanceof Error ? e.message : String(e));
  app.exit(1);
}
