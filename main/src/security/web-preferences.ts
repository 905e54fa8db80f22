/**
 * The ONE place every window's webPreferences come from, and the app's own origin. Every BrowserWindow
 * (the workspace and each pop-out) is created with `webPreferences(...)`; nothing else sets them.
 *
 * Pages load from the app's privileged scheme `tradedesk://app/...` (served from the packaged renderer
 * files with the strict CSP), never from file:// or the network.
 */
import type { WebPreferences } from 'electron';

export const APP_SCHEME = 'tradedesk';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

export interface WebPreferencesOptions {
  /** Absolute path of the bundled preload (CommonJS: sandboxed preloads cannot be ES modules). */
  preload: string;
  /** DevTools only in development builds. */
  devTools?: boolean;
  /** The app version, handed to the preload (a sandboxed preload cannot ask the app). */
  version?: string;
}

/** The preload reads the app version from this argument. */
export const VERSION_ARG = '--tradedesk-version=';

export function webPreferences(o: WebPreferencesOptions): WebPreferences {
  return {
    preload: o.preload,
    // The renderer is a web page: no Node, isolated from the preload's world, in Chromium's sandbox.
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    // Same-origin policy and mixed-content rules stay on.
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    // Middle-click (auxclick) could open links in new windows; window.open is denied anyway.
    disableBlinkFeatures: 'Auxclick',
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    enableWebSQL: false,
    autoplayPolicy: 'document-user-activation-required',
    devTools: o.devTools ?? false,
    ...(o.version !== undefined ? { additionalArguments: [`${VERSION_ARG}${o.version.replace(/[^0-9A-Za-z.+-]/g, '')}`] } : {}),
  };
}

/** True for a URL of our own pages (`tradedesk://app/...`). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** The URL a window of ours loads: the entry page with its window id (and nothing a page can forge). */
export function windowUrl(windowId: string): string {
  return `${APP_ENTRY}?window=${encodeURIComponent(windowId)}`;
}
