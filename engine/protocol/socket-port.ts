/**
 * A protocol Port over an open WebSocket: the browser's own and the `ws` package's (both offer the WHATWG
 * `addEventListener` interface, which is all this needs), so the renderer, the desktop hub, the headless host
 * and the server's tools share one adapter. JSON text frames; a binary or non-JSON frame is dropped; messages
 * that arrive before the first listener wait for it; `send` after close is ignored; close listeners run once.
 */
import { addCloseListener, messageInbox, type CloseInfo, type Port } from './port.js';

/** The part of a WebSocket this adapter uses (structural: no DOM or Node types needed). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', cb: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', cb: (ev: { code: number; reason: unknown }) => void): void;
  addEventListener(type: 'error', cb: (ev: unknown) => void): void;
}

const OPEN = 1;
const CLOSING = 2;

export function socketPort(ws: WebSocketLike, options: { terminate?: () => void } = {}): Port {
  let closed = ws.readyState >= CLOSING;
  let info: CloseInfo | undefined;
  const closeListeners = new Set<(i: CloseInfo) => void>();
  const inbox = messageInbox();
  ws.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    inbox.deliver(msg);
  });
  ws.addEventListener('error', () => undefined); // a 'close' always follows
  ws.addEventListener('close', (ev) => {
    closed = true;
    info = { code: ev.code, reason: String(ev.reason ?? '') };
    const ls = [...closeListeners];
    closeListeners.clear();
    for (const cb of ls) cb({ ...info });
  });
  return {
    get closed() {
      return closed;
    },
    send(msg) {
      if (closed || ws.readyState !== OPEN) return;
      ws.send(JSON.stringify(msg));
    },
    onMessage: inbox.onMessage,
    onClose(cb) {
      return addCloseListener(closeListeners, info, cb);
    },
    close(code, reason) {
      if (closed) return;
      closed = true;
      try {
        ws.close(code ?? 1000, reason);
      } catch {
        // Browsers accept only 1000 and 3000-4999 from a page; `ws` refuses reserved codes: close plainly.
        try {
          ws.close();
        } catch {
          options.terminate?.();
        }
      }
    },
  };
}
