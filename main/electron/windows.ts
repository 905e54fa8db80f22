/**
 * Creates and tracks the app's windows (the workspace and pop-outs) with the one webPreferences factory,
 * bounds and display restored and clamped to the screens present, state saved on close, and the security
 * handlers attached to every webContents.
 */
import { BrowserWindow, screen, type BrowserWindowConstructorOptions } from 'electron';
import type { PanelKind } from '../../engine/protocol/index.js';
import { guardNavigation, makeWindowOpenHandler, denyWebview } from '../src/security/handlers.js';
import { webPreferences, windowUrl } from '../src/security/web-preferences.js';
import { WindowRegistry, stateRole, type ManagedWindow } from '../src/windows/registry.js';
import { boundsFromParams, minSizeOf, restoreWindowState, type Rect, type WindowStateStore } from '../src/windows/state.js';

const DEFAULT_SIZE: Record<PanelKind, { width: number; height: number }> = {
  workspace: { width: 1440, height: 900 },
  chart: { width: 900, height: 600 },
  ticket: { width: 380, height: 560 },
  ladder: { width: 420, height: 760 },
  blotter: { width: 1000, height: 420 },
  positions: { width: 800, height: 400 },
  watchlist: { width: 420, height: 640 },
  account: { width: 520, height: 480 },
  tape: { width: 420, height: 640 },
  alerts: { width: 520, height: 480 },
};

export interface DesktopWindowsOptions {
  registry: WindowRegistry;
  states: WindowStateStore;
  preload: string;
  devTools: boolean;
  version: string;
  appName: string;
  onClosed?(w: ManagedWindow): void;
  /** The workspace window is closing (its pop-outs are still open). */
  onWorkspaceClose?(): void;
}

export class DesktopWindows {
  readonly #o: DesktopWindowsOptions;
  readonly #windows = new Map<string, BrowserWindow>();

  constructor(o: DesktopWindowsOptions) {
    this.#o = o;
  }

  get main(): BrowserWindow | undefined {
    return this.#windows.get('main');
  }

  all(): BrowserWindow[] {
    return [...this.#windows.values()];
  }

  /** Opens the workspace window, or focuses it when it is open. */
  openWorkspace(): BrowserWindow {
    const existing = this.#windows.get('main');
    if (existing !== undefined && !existing.isDestroyed()) {
      existing.focus();
      return existing;
    }
    return this.#create(this.#o.registry.add('workspace', {}, 'main'));
  }

  /**
   * Opens a pop-out; returns its window id (the hub's `hub.window.open`). Bounds in the params (a restored
   * layout's pop-out) place it, clamped to the screens present; otherwise it opens where its kind was last.
   */
  openPopOut(panel: Exclude<PanelKind, 'workspace'>, params: Record<string, string | number | boolean>): string {
    const { bounds, params: rest } = boundsFromParams(params);
    const w = this.#o.registry.add(panel, rest);
    this.#create(w, bounds);
    return w.id;
  }

  #create(w: ManagedWindow, at?: Rect): BrowserWindow {
    const saved = at !== undefined ? { bounds: at } : this.#o.states.get(stateRole(w));
    const displays = screen.getAllDisplays();
    const min = minSizeOf(w.panel);
    const restored = restoreWindowState(saved, displays, DEFAULT_SIZE[w.panel], screen.getPrimaryDisplay().id, min);
    // no larger than the screen it opens on (a small screen still gets the whole window)
    const area = (displays.find((d) => d.id === restored.displayId) ?? screen.getPrimaryDisplay()).workArea;
    // Every window's webPreferences come from the one factory (contextIsolation, sandbox, no Node, no
    // webview, Auxclick off). Electronegativity reads only literal options, so main/test/electronegativity
    // .test.ts runs it over the factory's real output; these checks are verified there, not here.
    const prefs = webPreferences({ preload: this.#o.preload, devTools: this.#o.devTools, version: this.#o.version });
    const options: BrowserWindowConstructorOptions = {
      ...restored.bounds,
      minWidth: Math.min(min.width, area.width),
      minHeight: Math.min(min.height, area.height),
      show: false,
      title: w.panel === 'workspace' ? this.#o.appName : `${this.#o.appName} — ${w.panel}`,
      backgroundColor: '#101418',
      webPreferences: prefs,
    };
    const win = new BrowserWindow(options); // eng-disable CONTEXT_ISOLATION_JS_CHECK SANDBOX_JS_CHECK AUXCLICK_JS_CHECK
    this.#windows.set(w.id, win);
    this.#o.registry.bind(w.id, win.webContents.id);
    const contents = win.webContents;
    contents.on('will-navigate', (e, url) => guardNavigation(e, url));
    contents.on('will-redirect', (e, url) => guardNavigation(e, url));
    contents.on('will-attach-webview', (e) => denyWebview(e));
    contents.setWindowOpenHandler(makeWindowOpenHandler((req) => this.openPopOut(req.panel as Exclude<PanelKind, 'workspace'>, req.params)));
    win.once('ready-to-show', () => {
      if (restored.fullScreen) win.setFullScreen(true);
      else if (restored.maximized) win.maximize();
      win.show();
    });
    win.on('close', () => {
      if (w.panel === 'workspace') this.#o.onWorkspaceClose?.();
      const bounds = win.getNormalBounds();
      this.#o.states.set(stateRole(w), {
        bounds,
        displayId: screen.getDisplayMatching(bounds).id,
        maximized: win.isMaximized(),
        fullScreen: win.isFullScreen(),
      });
    });
    win.on('closed', () => {
      this.#windows.delete(w.id);
      this.#o.registry.remove(w.id);
      this.#o.onClosed?.(w);
    });
    void win.loadURL(windowUrl(w.id));
    return win;
  }
}
