/**
 * The WebSocket gateway: authenticates in the HTTP `upgrade` handler before the socket is accepted, checks
 * Origin, enforces caps per IP, per user and in total, wraps each socket as a protocol Port and serves it
 * with `serveSession` (engine/protocol) and the venue's handlers for that user's account. Keeps a registry
 * by user and by session so revocation closes sockets at once; pings every socket on one timer and
 * terminates those that did not answer the previous ping.
 *
 * Token transport: `Authorization: Bearer <token>` (native clients), or the subprotocol list
 * `tradedesk.v1, bearer.<token>` (browsers cannot set headers; the server answers `tradedesk.v1`, never
 * echoing the token). A token in the URL is refused: URLs end up in logs and proxies.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CHANNEL_NAMES,
  CHANNELS,
  CLOSE_CODES,
  ProtocolError,
  serveSession,
  toErrorShape,
  type ChannelHandlers,
  type MethodHandlers,
  type SessionHandle,
  type SessionInfo,
} from '../../../engine/protocol/index.js';
import { revoked, type Principal } from '../auth/service.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { rawErrorResponse } from '../http/errors.js';
import { Conn, SERVER_CLOSE } from './conn.js';
import { clientAddressReader } from '../http/client-address.js';

export interface GatewayDeps {
  config: Config;
  log: Logger;
  serverName: string;
  /** Principal for an access token; throws a ProtocolError when refused. */
  authenticate(token: string): Principal;
  /** Method handlers for a connection (shared for guests). */
  methods(p: Principal | undefined, ip: string): MethodHandlers;
  channels(conn: Conn): ChannelHandlers;
  isAllowedOrigin(origin: string, host: string | undefined): boolean;
  /** The clock sessions end by (the auth service's; default Date.now). */
  now?: () => number;
  metrics: {
    connections(delta: number): void;
    messagesIn(): void;
    framesOut(n: number): void;
    rateLimited(): void;
    slowConsumer(): void;
    rejectedUpgrade(reason: string): void;
  };
}

interface ConnState {
  conn: Conn;
  principal: Principal | undefined;
  handle: SessionHandle | undefined;
}

/** Streams of one account or of the admins (orders, executions, account, alerts, admin.users): never conflated, never dropped. */
const PRIVATE_CHANNELS = new Set<string>(CHANNEL_NAMES.filter((c) => CHANNELS[c].access !== 'public'));

export class Gateway {
  readonly wss: WebSocketServer;
  readonly #d: GatewayDeps;
  readonly #addressOf: (req: IncomingMessage) => string;
  readonly #all = new Set<ConnState>();
  readonly #byUser = new Map<number, Set<ConnState>>();
  readonly #bySession = new Map<string, Set<ConnState>>();
  readonly #byIp = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #accepting = true;

  constructor(deps: GatewayDeps) {
    this.#d = deps;
    this.#addressOf = clientAddressReader(deps.config);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.config.ws.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has('tradedesk.v1') ? 'tradedesk.v1' : false),
    });
    this.wss.on('error', (e) => deps.log.error('ws server error', { err: e }));
    // A handshake the library refuses (bad key, version, subprotocol list, method): answered in the API's
    // error shape here instead of the library's plain text. The socket's close gives its address slot back.
    this.wss.on('wsClientError', (e: Error, socket: Duplex, req: IncomingMessage) => {
      deps.metrics.rejectedUpgrade('BAD_REQUEST');
      if (req.method !== 'GET') return refuseUpgrade(socket, req.method === 'HEAD', 405, 'METHOD_NOT_ALLOWED', e.message, { Allow: 'GET' });
      refuseUpgrade(socket, false, 400, 'BAD_REQUEST', e.message, /Version/.test(e.message) ? { 'Sec-WebSocket-Version': '13, 8' } : {});
    });
    this.#timer = setInterval(() => this.#heartbeat(), deps.config.ws.pingIntervalMs);
    this.#timer.unref();
  }

  get size(): number {
    return this.#all.size;
  }

  // ---------------------------------------------------------------- upgrade

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (e) => this.#d.log.debug('upgrade socket error', { err: e.message }));
    const ip = this.#addressOf(req);
    // (the method, not the request: closures made here live as long as the connection, and what any of them
    // names stays in memory with it; the request would add about 1.3 KB to every idle connection)
    const headOnly = req.method === 'HEAD';
    const refuse = (status: number, code: string, message: string, extra: Record<string, string> = {}): void => {
      this.#d.metrics.rejectedUpgrade(code);
      refuseUpgrade(socket, headOnly, status, code, message, extra);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return refuse(400, 'BAD_REQUEST', 'The request target is not a valid URL');
    }
    try {
      if (url.pathname !== '/ws' && url.pathname !== '/api/v1/ws') return refuse(404, 'NOT_FOUND', 'WebSocket endpoint is /ws');
      if (!this.#accepting) return refuse(503, 'UNAVAILABLE', 'The server is shutting down', { 'Retry-After': '5' });
      for (const k of url.searchParams.keys()) {
        if (/token|auth|bearer|key/i.test(k)) return refuse(400, 'BAD_REQUEST', 'Never put a token in the URL: use the Authorization header or the bearer.<token> subprotocol');
      }
      const token = tokenOf(req);
      const origin = req.headers.origin;
      if (origin !== undefined) {
        if (!this.#d.isAllowedOrigin(origin, req.headers.host)) return refuse(403, 'FORBIDDEN', 'Origin not allowed');
      } else if (token === undefined) {
        return refuse(401, 'UNAUTHENTICATED', 'Connections without an Origin (native clients) must present a token');
      }
      let principal: Principal | undefined;
      if (token !== undefined) {
        try {
          principal = this.#d.authenticate(token);
        } catch (e) {
          const shape = toErrorShape(e);
          return refuse(shape.code === 'FORBIDDEN' ? 403 : 401, shape.code, shape.message);
        }
        if (principal.mustChangePassword) return refuse(403, 'FORBIDDEN', 'Change your password first (POST /api/v1/auth/password)');
      }
      const ws = this.#d.config.ws;
      if (this.#all.size >= ws.maxConnections) return refuse(503, 'UNAVAILABLE', 'Too many connections', { 'Retry-After': '10' });
      if ((this.#byIp.get(ip) ?? 0) >= ws.maxPerIp) return refuse(429, 'RATE_LIMITED', 'Too many connections from this address', { 'Retry-After': '10' });
      if (principal !== undefined && (this.#byUser.get(principal.userId)?.size ?? 0) >= ws.maxPerUser)
        return refuse(429, 'RATE_LIMITED', 'Too many connections for this user', { 'Retry-After': '10' });
      // Reserve the IP slot now so concurrent upgrades cannot overshoot the cap. The WebSocket library
      // may still refuse the handshake (a malformed Sec-WebSocket-Protocol or key): it then closes the
      // socket without a connection, and the slot is given back, or a few bad upgrades would lock the
      // address out for good.
      this.#byIp.set(ip, (this.#byIp.get(ip) ?? 0) + 1);
      const giveBack = (): void => this.#releaseIp(ip);
      socket.once('close', giveBack);
      this.wss.handleUpgrade(req, socket, head, (wsock) => {
        socket.off('close', giveBack);
        this.#accept(wsock, ip, principal, token);
      });
    } catch (e) {
      this.#d.log.error('upgrade failed', { err: e });
      refuse(500, 'INTERNAL', 'Internal error');
    }
  }

  #accept(ws: WebSocket, ip: string, principal: Principal | undefined, token: string | undefined): void {
    const cfg = this.#d.config.ws;
    const m = this.#d.metrics;
    ws.on('error', (e) => this.#d.log.debug('ws error', { err: e.message, ip }));
    const state: ConnState = { conn: undefined as unknown as Conn, principal, handle: undefined };
    const conn = new Conn(
      ws,
      ip,
      { rate: cfg.rate, burst: cfg.burst, abuseLimit: cfg.abuseLimit, highWaterBytes: cfg.highWaterBytes, maxBufferedBytes: cfg.maxBufferedBytes },
      {
        onRateLimited: () => m.rateLimited(),
        onOverflow: () => m.slowConsumer(),
        onFramesOut: (n) => m.framesOut(n),
        intercept: () => {
          m.messagesIn();
          return false;
        },
        // Before the welcome the first message must be hello: a frame that is not JSON fails the handshake
        // as any other message that is not a hello does (error BAD_REQUEST, close 1002). (authenticate() below
        // answers at once, so no frame is read between the hello and the welcome.)
        unparsable: () => {
          const h = state.handle;
          if (h === undefined || h.closed || h.session !== undefined) return false;
          conn.send({ t: 'error', error: { code: 'BAD_REQUEST', message: 'The first message must be a valid hello (one JSON object, in a text frame)' } });
          h.close(CLOSE_CODES.PROTOCOL_ERROR, 'BAD_REQUEST');
          return true;
        },
      },
    );
    state.conn = conn;
    this.#register(state);
    m.connections(1);
    conn.onClose(() => {
      this.#unregister(state);
      m.connections(-1);
    });
    // A private stream's `end` with RESYNC_REQUIRED means this consumer fell too far behind: disconnect it
    // with the reason, so it reconnects and resynchronises (never a silent drop).
    const send = conn.send.bind(conn);
    conn.send = (msg: unknown) => {
      send(msg);
      const m2 = msg as { t?: string; error?: { code?: string; details?: { channel?: string } } };
      if (m2.t === 'end' && m2.error?.code === 'RESYNC_REQUIRED' && PRIVATE_CHANNELS.has(m2.error.details?.channel ?? '')) {
        m.slowConsumer();
        conn.closeWithError(
          SERVER_CLOSE.RESYNC,
          { code: 'RESYNC_REQUIRED', message: 'You fell too far behind on a private stream; reconnect and resynchronise', details: m2.error.details ?? {} },
          'RESYNC_REQUIRED',
        );
      }
    };
    const info: SessionInfo =
      principal === undefined ? {} : { userId: String(principal.userId), accountId: principal.accountId, role: principal.role };
    state.handle = serveSession(conn, {
      serverName: this.#d.serverName,
      authenticate: (hello) => {
        if (hello.token !== undefined && hello.token !== token)
          throw new ProtocolError('UNAUTHENTICATED', 'Authenticate in the upgrade (Authorization header or bearer.<token> subprotocol), not in hello');
        return info;
      },
      handlers: this.#d.methods(principal, ip),
      channels: this.#d.channels(conn),
      flow: conn.flow,
      maxPendingPushes: cfg.maxPendingPushes,
      helloTimeoutMs: cfg.helloTimeoutMs,
      onInternalError: (e, where) => this.#d.log.error('session internal error', { err: e, ...where, userId: principal?.userId }),
    });
  }

  // ---------------------------------------------------------------- registry

  #register(s: ConnState): void {
    this.#all.add(s);
    const p = s.principal;
    if (p !== undefined) {
      add(this.#byUser, p.userId, s);
      add(this.#bySession, p.sessionId, s);
    }
  }

  #unregister(s: ConnState): void {
    if (!this.#all.delete(s)) return;
    this.#releaseIp(s.conn.ip);
    const p = s.principal;
    if (p !== undefined) {
      remove(this.#byUser, p.userId, s);
      remove(this.#bySession, p.sessionId, s);
    }
  }

  #releaseIp(ip: string): void {
    const n = (this.#byIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.#byIp.delete(ip);
    else this.#byIp.set(ip, n);
  }

  /** Closes every socket of these sessions at once (revoked, logged out, refresh reuse). */
  closeSessions(ids: readonly string[], reason: string): number {
    let n = 0;
    for (const id of ids) {
      for (const s of [...(this.#bySession.get(id) ?? [])]) {
        s.conn.closeWithError(1008, revoked(reason).toShape(), 'SESSION_REVOKED');
        this.#unregister(s);
        n++;
      }
    }
    return n;
  }

  /**
   * Closes every socket of a user (disabled, role changed). The sessions themselves may live on (a role
   * change), but the sockets' rights are gone: the client signs in again, told why in details.reason.
   */
  closeUser(userId: number, reason: string): number {
    let n = 0;
    for (const s of [...(this.#byUser.get(userId) ?? [])]) {
      s.conn.closeWithError(1008, { code: 'SESSION_REVOKED', message: `Signed out (${reason}); sign in again`, details: { reason } }, 'SESSION_REVOKED');
      this.#unregister(s);
      n++;
    }
    return n;
  }

  #heartbeat(): void {
    const now = this.#d.now?.() ?? Date.now();
    // (a socket closed or unregistered on the way leaves the set as it goes: a Set's iteration allows it)
    for (const s of this.#all) {
      const c = s.conn;
      // A session ends at its expiry, renewed or not: its sockets end with it (within a heartbeat), as a
      // revoked one's do at once. The client is told to sign in again.
      const ends = s.principal?.sessionExpiresAt;
      if (ends !== undefined && ends <= now) {
        c.closeWithError(1008, { code: 'UNAUTHENTICATED', message: 'The session expired; sign in again', details: { reason: 'session expired' } }, 'UNAUTHENTICATED');
        this.#unregister(s);
        continue;
      }
      try {
        if (!c.ping()) c.terminate();
      } catch {
        c.terminate();
      }
    }
  }

  /** Stops accepting and closes every socket with 1001 (going away). */
  shutdown(): Promise<void> {
    this.#accepting = false;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const all = [...this.#all];
    const closed = all.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.conn.ws.readyState === s.conn.ws.CLOSED) return resolve();
          s.conn.ws.once('close', () => resolve());
          s.conn.close(SERVER_CLOSE.GOING_AWAY, 'server shutting down');
          setTimeout(() => {
            s.conn.terminate();
            resolve();
          }, 2000).unref();
        }),
    );
    return Promise.all(closed).then(() => {
      this.wss.close();
    });
  }
}

function add<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(v);
}
function remove<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s === undefined) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

/** Answers an upgrade with an HTTP error in the API's shape `{code, message}` and closes the socket. */
function refuseUpgrade(socket: Duplex, headOnly: boolean, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  if (socket.writable) socket.end(rawErrorResponse(status, code, message, extra, headOnly));
  else socket.destroy();
}

/** The bearer token from the Authorization header or the `bearer.<token>` subprotocol. */
export function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (m !== null) return m[1];
  }
  const proto = req.headers['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    for (const p of proto.split(',')) {
      const t = p.trim();
      if (t.startsWith('bearer.') && t.length > 7) return t.slice(7);
    }
  }
  return undefined;
}

