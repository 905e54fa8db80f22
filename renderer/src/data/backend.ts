/**
 * Where the UI's data comes from, decided once at start:
 * - desktop: the preload's `window.tradedesk.connect()` gives a port to the hub in Electron main;
 * - browser + headless host: `/config.json` says `{kind: "hub"}`: a WebSocket to the hub (`wsPath`);
 * - browser + exchange server: `{kind: "server"}`: sign in over REST (2FA), then a WebSocket with the
 *   subprotocols `tradedesk.v1, bearer.<token>`. Tokens live in memory only.
 * Every case ends in one reconnecting `Connection`, so the panels never know which it is.
 */
import { Connection, type Port } from '../../../engine/protocol/index.js';
import { ServerAuth } from './server-auth.js';
import type { BridgePort, TradeDeskBridge } from '../../../engine/protocol/bridge.js';
import { openWebSocketPort, sameOriginWs } from './ws-port.js';

export const CLIENT_NAME = 'tradedesk-renderer/0.1.0';

export type BackendKind = 'desktop' | 'hub' | 'server';

export interface RemoteConfig {
  kind: 'hub' | 'server';
  wsPath: string;
  name?: string;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly conn: Connection;
  /** Server mode: the REST sign-in. */
  readonly auth: ServerAuth | undefined;
  /** Hub modes: the hub answers hub.* methods and streams hub.status. */
  readonly hub: boolean;
  readonly name: string | undefined;
}

function desktopBridge(): TradeDeskBridge | undefined {
  const b = window.tradedesk;
  return b !== undefined && typeof b.connect === 'function' ? b : undefined;
}

/** The preload's BridgePort as a protocol Port (adds `closed`, and keeps close one-shot). */
export function bridgePort(b: BridgePort): Port {
  let closed = false;
  b.onClose(() => {
    closed = true;
  });
  return {
    get closed() {
      return closed;
    },
    send: (msg) => {
      if (!closed) b.send(msg);
    },
    onMessage: (cb) => b.onMessage(cb),
    onClose: (cb) => b.onClose(cb),
    close: (code, reason) => {
      if (closed) return;
      closed = true;
      b.close(code, reason);
    },
  };
}

export async function loadRemoteConfig(): Promise<RemoteConfig | undefined> {
  try {
    const r = await fetch('./config.json', { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!r.ok) return undefined;
    const j = (await r.json()) as Partial<RemoteConfig>;
    if ((j.kind === 'hub' || j.kind === 'server') && typeof j.wsPath === 'string') {
      return { kind: j.kind, wsPath: j.wsPath, ...(typeof j.name === 'string' ? { name: j.name } : {}) };
    }
  } catch {
    // not served by a host or server that knows us
  }
  return undefined;
}

const BACKOFF = { initialMs: 250, maxMs: 3000 };

export async function createBackend(): Promise<Backend> {
  const bridge = desktopBridge();
  if (bridge !== undefined) {
    const conn = new Connection({ open: async () => bridgePort(bridge.connect()), hello: () => ({ client: CLIENT_NAME }), backoff: BACKOFF });
    return { kind: 'desktop', conn, auth: undefined, hub: true, name: undefined };
  }
  const cfg = await loadRemoteConfig();
  if (cfg === undefined) throw new Error('This page is not served by a TradeDesk host or server (no /config.json).');
  if (cfg.kind === 'hub') {
    // A pop-out window tells the hub which panel it shows (?panel=chart&window=<id>).
    const q = new URLSearchParams(location.search);
    const pass = new URLSearchParams();
    for (const k of ['panel', 'window']) {
      const v = q.get(k);
      if (v !== null) pass.set(k, v);
    }
    const url = sameOriginWs(cfg.wsPath + (pass.size > 0 ? `?${pass.toString()}` : ''));
    const conn = new Connection({ open: () => openWebSocketPort(url), hello: () => ({ client: CLIENT_NAME }), backoff: BACKOFF });
    return { kind: 'hub', conn, auth: undefined, hub: true, name: cfg.name };
  }
  const url = sameOriginWs(cfg.wsPath);
  const auth = new ServerAuth('./api/v1/auth');
  const conn = new Connection({
    open: async () => openWebSocketPort(url, ['tradedesk.v1', `bearer.${await auth.token()}`]),
    hello: () => ({ client: CLIENT_NAME }),
    backoff: BACKOFF,
  });
  return { kind: 'server', conn, auth, hub: false, name: cfg.name };
}

export { ServerAuth, type SignedInUser } from './server-auth.js';
