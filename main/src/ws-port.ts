/**
 * A protocol Port over a `ws` socket: the hub's link to a firm server (client socket) and, in the headless
 * host, each browser window's link to the hub (server-side socket). JSON text frames; a frame that is not
 * JSON is dropped; `send` after close is ignored; close listeners run once.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { socketPort, type FlowControl, type Port } from '../../engine/protocol/index.js';

export function wsPort(ws: WebSocket): Port {
  return socketPort(ws, { terminate: () => ws.terminate() });
}

export interface DialOptions {
  /** Sent as `Authorization: Bearer <token>` (native clients authenticate in the upgrade). */
  token?: string;
  headers?: Record<string, string>;
  /** Give up on the TCP/TLS/upgrade after this long. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Largest frame accepted from the server. Default 16 MiB. */
  maxPayload?: number;
}

/** An HTTP refusal of the upgrade: the status and the server's `{code, message}` body when it sent one. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'UpgradeRefused';
  }
}

/** Opens a WebSocket and resolves once it is open; rejects with UpgradeRefused or the socket error. */
export function dialWebSocket(url: string, o: DialOptions = {}): Promise<WebSocket> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
  const ws = new WebSocket(url, ['tradedesk.v1'], {
    headers,
    perMessageDeflate: false,
    handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
    maxPayload: o.maxPayload ?? 16 * 1024 * 1024,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on('end', () => {
        let code: string | undefined;
        let message = `HTTP ${res.statusCode ?? 0}`;
        try {
          const j = JSON.parse(body) as { code?: unknown; message?: unknown };
          if (typeof j.code === 'string') code = j.code;
          if (typeof j.message === 'string') message = j.message;
        } catch {
          // not JSON
        }
        reject(new UpgradeRefused(res.statusCode ?? 0, code, message));
        req.destroy();
      });
      res.on('error', () => reject(new UpgradeRefused(res.statusCode ?? 0, undefined, `HTTP ${res.statusCode ?? 0}`)));
    });
    ws.on('error', (e) => reject(e)); // later errors (after a refusal) are already answered
  });
}

/**
 * Backpressure for a session served over `ws` (the headless host's windows): congested while more than
 * `highWaterBytes` wait in the socket's buffer; the socket's 'drain' resumes. A slow browser tab then gets
 * conflated market data and, on private streams, RESYNC_REQUIRED instead of growing the host's memory.
 */
export function wsFlow(ws: Pick<WebSocket, 'bufferedAmount'>, highWaterBytes = 1024 * 1024): FlowControl {
  const socket = (): Socket | undefined => (ws as unknown as { _socket?: Socket })._socket;
  return {
    congested: () => ws.bufferedAmount > highWaterBytes,
    onDrain: (cb) => {
      const s = socket();
      if (s === undefined) return () => undefined;
      s.on('drain', cb);
      return () => {
        s.off('drain', cb);
      };
    },
  };
}
