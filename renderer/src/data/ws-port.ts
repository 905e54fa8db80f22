/**
 * A protocol Port over the browser's WebSocket. Resolves once the socket is open; rejects when it cannot
 * open (the Connection then retries with backoff). Messages are JSON text frames.
 */
import { socketPort, type Port } from '../../../engine/protocol/index.js';

export function openWebSocketPort(url: string, protocols?: string[]): Promise<Port> {
  return new Promise<Port>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, protocols);
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const refused = (ev: CloseEvent): void => reject(new Error(`Could not connect to ${new URL(url).host} (${ev.code})`));
    ws.addEventListener('close', refused);
    ws.addEventListener('open', () => {
      ws.removeEventListener('close', refused);
      resolve(socketPort(ws));
    });
  });
}

/** ws:// or wss:// URL for a path on the page's own origin. */
export function sameOriginWs(path: string): string {
  const u = new URL(path, location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}
