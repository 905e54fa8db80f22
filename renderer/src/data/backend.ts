/**
 * Where the UI's data comes from, decided once at start:
 * - desktop: the preload's `window.tradedesk.connect()` gives a port to the hub in Electron main;
 * - browser + headless host: `/config.json` says `{kind: "hub"}`: a WebSocket to the hub (`wsPath`);
 * - browser + exchange server: `{kind: "server"}`: sign in over REST (2FA), then a WebSocket with the
 *   subprotocols `tradedesk.v1, bearer.<token>`. Tokens live in memory only.
 * Every case ends in one reconnecting `Connection`, so the panels never know which it is.
 */
import { Connection, ProtocolError, type ErrorShape, type Port } from '../../../engine/protocol/index.js';
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

export interface SignedInUser {
  id: number;
  username: string;
  role: string;
  accountId: number | null;
  totpEnabled?: boolean;
  /** A temporary password from an admin: it must be changed before trading. */
  mustChangePassword?: boolean;
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: SignedInUser;
}

/** Sign-in against the exchange server's REST API; tokens are kept in memory only (never storage). */
export class ServerAuth {
  #pair: TokenPair | undefined;
  #expiresAt = 0;
  #refreshing: Promise<void> | undefined;
  readonly #base: string;
  readonly #apiBase: string;

  /** `base`: the sign-in routes (./api/v1/auth); the rest of the API is beside them. */
  constructor(base: string) {
    this.#base = base;
    this.#apiBase = base.replace(/\/auth$/, '');
  }

  get user(): SignedInUser | undefined {
    return this.#pair?.user;
  }
  get signedIn(): boolean {
    return this.#pair !== undefined;
  }

  /** Throws a ProtocolError (INVALID_CREDENTIALS, TWO_FACTOR_REQUIRED, INVALID_TWO_FACTOR_CODE, RATE_LIMITED...). */
  async login(username: string, password: string, code?: string): Promise<SignedInUser> {
    const body: Record<string, string> = { username, password };
    if (code !== undefined && code.trim() !== '') body.code = code.trim();
    const pair = await this.#post<TokenPair>('/login', body);
    this.#set(pair);
    return pair.user;
  }

  /** A current access token, refreshed when it is about to expire. */
  async token(): Promise<string> {
    if (this.#pair === undefined) throw new ProtocolError('UNAUTHENTICATED', 'Sign in first');
    if (Date.now() > this.#expiresAt - 30_000) await this.refresh();
    return this.#pair.accessToken;
  }

  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const cur = this.#pair;
        if (cur === undefined) throw new ProtocolError('UNAUTHENTICATED', 'Sign in first');
        this.#set(await this.#post<TokenPair>('/refresh', { refreshToken: cur.refreshToken }));
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Changes the password of the signed-in user (the session stays; other sessions are signed out). */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.#post('/password', { currentPassword, newPassword }, await this.token());
    if (this.#pair !== undefined) this.#pair = { ...this.#pair, user: { ...this.#pair.user, mustChangePassword: false } };
  }

  /**
   * An authenticated call to the server's REST API (`path` under /api/v1, e.g. "/admin/users"); answers
   * its JSON, or throws a ProtocolError with the server's code and message.
   */
  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return this.#request<T>(method, `${this.#apiBase}${path}`, body, await this.token());
  }

  async logout(): Promise<void> {
    const p = this.#pair;
    this.#pair = undefined;
    if (p === undefined) return;
    try {
      await fetch(`${this.#base}/logout`, { method: 'POST', headers: { Authorization: `Bearer ${p.accessToken}` } });
    } catch {
      // signed out locally either way
    }
  }

  #set(pair: TokenPair): void {
    this.#pair = pair;
    this.#expiresAt = Date.now() + pair.expiresIn * 1000;
  }

  #post<T>(path: string, body: unknown, token?: string): Promise<T> {
    return this.#request<T>('POST', `${this.#base}${path}`, body, token);
  }

  async #request<T>(method: 'GET' | 'POST', url: string, body: unknown, token?: string): Promise<T> {
    let r: Response;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    try {
      r = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ProtocolError('UNAVAILABLE', 'The server is not reachable');
    }
    const text = await r.text();
    let j: unknown;
    try {
      j = text === '' ? undefined : JSON.parse(text);
    } catch {
      j = undefined;
    }
    if (!r.ok) {
      const e = j as Partial<ErrorShape> | undefined;
      throw new ProtocolError(
        (typeof e?.code === 'string' ? e.code : r.status === 429 ? 'RATE_LIMITED' : 'INTERNAL') as ErrorShape['code'],
        typeof e?.message === 'string' ? e.message : `HTTP ${r.status}`,
        e?.details,
      );
    }
    return j as T;
  }
}
