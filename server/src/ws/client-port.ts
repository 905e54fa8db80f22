/**
 * A protocol Port over a `ws` client socket (Node): for tests, the benchmark and tools that talk to the
 * server with ProtocolClient. Browsers use their own WebSocket in the renderer.
 */
import WebSocket from 'ws';
import { socketPort, type Port } from '../../../engine/protocol/index.js';

export interface ConnectWsOptions {
  token?: string;
  /** Send the token as `bearer.<token>` subprotocol instead of the Authorization header. */
  tokenAs?: 'header' | 'subprotocol';
  origin?: string;
  headers?: Record<string, string>;
}

export function wsPort(ws: WebSocket): Port {
  return socketPort(ws, { terminate: () => ws.terminate() });
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
