/**
 * A protocol Port over the browser's WebSocket. Resolves once the socket is open; rejects when it cannot
 * open (the Connection then retries with backoff). Messages are JSON text frames.
 */
import type { CloseInfo, Port } from '../../../engine/protocol/index.js';

export function openWebSocketPort(url: string, protocols?: string[]): Promise<Port> {
  return new Promise<Port>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, protocols);
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    let opened = false;
    let closed = false;
    let info: CloseInfo | undefined;
    const listeners = new Set<(m: unknown) => void>();
    const closeListeners = new Set<(i: CloseInfo) => void>();
    const early: unknown[] = [];
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (listeners.size === 0) early.push(msg);
      else for (const cb of [...listeners]) cb(msg);
    };
    ws.onclose = (ev: CloseEvent) => {
      closed = true;
      info = { code: ev.code, reason: ev.reason };
      if (!opened) {
        reject(new Error(`Could not connect to ${new URL(url).host} (${ev.code})`));
        return;
      }
      const i = info;
      for (const cb of [...closeListeners]) cb({ ...i });
      closeListeners.clear();
    };
    ws.onerror = () => undefined;
    const port: Port = {
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
        if (info !== undefined && opened) {
          const i = info;
          let removed = false;
          queueMicrotask(() => {
            if (!removed) cb({ ...i });
          });
          return () => {
            removed = true;
          };
        }
        closeListeners.add(cb);
        return () => closeListeners.delete(cb);
      },
      close(code?: number, reason?: string) {
        if (closed) return;
        closed = true;
        try {
          ws.close(code === undefined || code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
        } catch {
          ws.close();
        }
      },
    };
    ws.onopen = () => {
      opened = true;
      resolve(port);
    };
  });
}

/** ws:// or wss:// URL for a path on the page's own origin. */
export function sameOriginWs(path: string): string {
  const u = new URL(path, location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}
