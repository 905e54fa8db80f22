/**
 * A protocol Port over a `ws` client socket (Node): for tests, the benchmark and tools that talk to the
 * server with ProtocolClient. Browsers use their own WebSocket in the renderer.
 */
import WebSocket from 'ws';
import type { CloseInfo, Port } from '../../../engine/protocol/index.js';

export interface ConnectWsOptions {
  token?: string;
  /** Send the token as `bearer.<token>` subprotocol instead of the Authorization header. */
  tokenAs?: 'header' | 'subprotocol';
  origin?: string;
  headers?: Record<string, string>;
}

export function wsPort(ws: WebSocket): Port {
  let closed = ws.readyState >= WebSocket.CLOSING;
  let info: CloseInfo | undefined;
  const closeListeners = new Set<(i: CloseInfo) => void>();
  const early: unknown[] = [];
  const listeners = new Set<(m: unknown) => void>();
  ws.on('message', (data) => {
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (listeners.size === 0) early.push(msg);
    else for (const cb of [...listeners]) cb(msg);
  });
  ws.on('error', () => undefined);
  ws.on('close', (code, reason) => {
    closed = true;
    info = { code, reason: reason.toString() };
    for (const cb of [...closeListeners]) cb({ ...info });
    closeListeners.clear();
  });
  return {
    get closed() {
      return closed;
    },
    send(msg) {
      if (closed || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify(msg));
    },
    onMessage(cb) {
      listeners.add(cb);
      if (early.length > 0) {
        const q = early.splice(0);
        queueMicrotask(() => q.forEach((m) => cb(m)));
      }
      return () => listeners.delete(cb);
    },
    onClose(cb) {
      if (info !== undefined) {
        const i = info;
        queueMicrotask(() => cb({ ...i }));
        return () => undefined;
      }
      closeListeners.add(cb);
      return () => closeListeners.delete(cb);
    },
    close(code, reason) {
      if (closed) return;
      closed = true;
      ws.close(code ?? 1000, reason);
    },
  };
}

/** Opens a WebSocket to `url` (ws://host:port/ws) and resolves once it is open (rejects with the HTTP status). */
export function connectWs(url: string, o: ConnectWsOptions = {}): Promise<WebSocket> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  const protocols = ['tradedesk.v1'];
  if (o.token !== undefined) {
    if (o.tokenAs === 'subprotocol') protocols.push(`bearer.${o.token}`);
    else headers.Authorization = `Bearer ${o.token}`;
  }
  const wsOpts: WebSocket.ClientOptions = { headers, perMessageDeflate: false };
  if (o.origin !== undefined) wsOpts.origin = o.origin;
  const ws = new WebSocket(url, protocols, wsOpts);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const err = new Error(`HTTP ${res.statusCode}: ${body}`) as Error & { status?: number; body?: string; headers?: unknown };
        err.status = res.statusCode;
        err.body = body;
        err.headers = res.headers;
        reject(err);
      });
    });
    ws.once('error', reject);
  });
}
