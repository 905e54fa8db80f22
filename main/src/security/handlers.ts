/**
 * The handlers every window and the session get (wired in main/electron; written against small interfaces
 * so the tests pass fake events):
 *
 * - navigation (`will-navigate`, `will-redirect`, `will-frame-navigate`): denied unless it stays on our own
 *   pages; an in-app reload is the only navigation the UI makes (routing is client-side).
 * - `window.open` / target=_blank: always denied as a browser window. A request for one of our own pop-out
 *   URLs (`tradedesk://app/index.html?panel=chart&symbol=ACME`) is handed to `onPopOut`, which creates a
 *   managed window (webPreferences factory, bounds, hub session) instead.
 * - `<webview>`: never attached.
 * - permission requests and checks (camera, notifications, geolocation, clipboard-read, HID, ...): denied.
 * - network: the renderer loads only our own scheme (and DevTools in development); every other request
 *   (http, https, ws, file) is cancelled, so even injected markup cannot reach out.
 * - downloads: cancelled.
 *
 * Every handler is total: it never throws, whatever the event or URL looks like.
 */
import { PanelKindSchema, PanelParamsSchema, type PanelKind } from '../../../engine/protocol/index.js';
import { APP_ENTRY, isAppUrl } from './web-preferences.js';

export interface PreventableEvent {
  preventDefault(): void;
}

/** `will-navigate` / `will-redirect`: deny everything that leaves our pages. Returns true when allowed. */
export function guardNavigation(event: PreventableEvent, url: string): boolean {
  let ok = false;
  try {
    ok = isAppUrl(url);
  } catch {
    ok = false;
  }
  if (!ok) event.preventDefault();
  return ok;
}

export interface PopOutRequest {
  panel: PanelKind;
  params: Record<string, string | number | boolean>;
}

/** A pop-out URL of ours → what to open; anything else → undefined. */
export function parsePopOutUrl(url: string): PopOutRequest | undefined {
  if (!isAppUrl(url)) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (`${u.protocol}//${u.host}${u.pathname}` !== APP_ENTRY && u.pathname !== '/') return undefined;
  const panel = PanelKindSchema.safeParse(u.searchParams.get('panel'));
  if (!panel.success || panel.data === 'workspace') return undefined;
  const raw: Record<string, string> = {};
  for (const [k, v] of u.searchParams) if (k !== 'panel' && k !== 'window') raw[k] = v;
  const params = PanelParamsSchema.safeParse(raw);
  if (!params.success) return undefined;
  return { panel: panel.data, params: params.data };
}

export interface WindowOpenDetails {
  url: string;
  disposition?: string;
  features?: string;
}

/** For `webContents.setWindowOpenHandler`: never a browser-created window; our pop-outs go to `onPopOut`. */
export function makeWindowOpenHandler(onPopOut: (req: PopOutRequest) => void): (details: WindowOpenDetails) => { action: 'deny' } {
  return (details) => {
    try {
      const req = parsePopOutUrl(typeof details?.url === 'string' ? details.url : '');
      if (req !== undefined) onPopOut(req);
    } catch {
      // deny whatever happened
    }
    return { action: 'deny' };
  };
}

/** For `session.setPermissionRequestHandler`: every permission is refused. */
export function permissionRequestHandler(_webContents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  try {
    callback(false);
  } catch {
    // nothing to grant
  }
}

/** For `session.setPermissionCheckHandler` and `setDevicePermissionHandler`: nothing is granted. */
export function permissionCheckHandler(): boolean {
  return false;
}

/** For `will-attach-webview`: no <webview>, ever. */
export function denyWebview(event: PreventableEvent): void {
  event.preventDefault();
}

/** For `session.webRequest.onBeforeRequest`: true when the request must be cancelled. */
export function blockRequest(url: string, options: { devTools?: boolean } = {}): boolean {
  try {
    if (isAppUrl(url)) return false;
    const u = new URL(url);
    if (u.protocol === 'data:') return false; // inline images in our own CSS (CSP allows img data:)
    if (options.devTools === true && (u.protocol === 'devtools:' || u.protocol === 'chrome-extension:')) return false;
    return true;
  } catch {
    return true;
  }
}

/** A tidy handler for `onBeforeRequest`. */
export function makeRequestFilter(options: { devTools?: boolean } = {}): (details: { url: string }, callback: (r: { cancel: boolean }) => void) => void {
  return (details, callback) => {
    let cancel = true;
    try {
      cancel = blockRequest(details.url, options);
    } catch {
      cancel = true;
    }
    callback({ cancel });
  };
}
