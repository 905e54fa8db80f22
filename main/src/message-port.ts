/**
 * A protocol Port over Electron's MessagePortMain (main's end of the channel the preload created). The
 * close is signalled in-band with a `{t: '$close', code, reason}` frame (engine/protocol/bridge.ts) so
 * both sides report the same close info; Electron's own 'close' event (the renderer went away) closes too.
 * Written against a small interface: tests pass a fake port.
 */
import { addCloseListener, callEach, messageInbox, type CloseInfo, type Port } from '../../engine/protocol/index.js';
import type { BridgeCloseFrame } from '../../engine/protocol/bridge.js';

export interface MessagePortMainLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

function isCloseFrame(m: unknown): m is BridgeCloseFrame {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === '$close';
}

export function messagePortMainPort(p: MessagePortMainLike): Port {
  let closed = false;
  let info: CloseInfo | undefined;
  const inbox = messageInbox();
  const closeListeners = new Set<(i: CloseInfo) => void>();

  const finish = (i: CloseInfo): void => {
    if (info !== undefined) return;
    closed = true;
    info = i;
    const ls = [...closeListeners];
    closeListeners.clear();
    callEach(ls, () => ({ ...i }));
  };

  p.on('message', (e) => {
    if (info !== undefined) return;
    const m = e?.data;
    if (isCloseFrame(m)) {
      const i: CloseInfo = {};
      if (typeof m.code === 'number') i.code = m.code;
      if (typeof m.reason === 'string') i.reason = m.reason.slice(0, 123);
      try {
        p.close();
      } catch {
        // already closed
      }
      finish(i);
      return;
    }
    inbox.deliver(m);
  });
  p.on('close', () => finish(info ?? {}));
  p.start();

  return {
    get closed() {
      return closed;
    },
    send(msg) {
      if (closed) return;
      p.postMessage(msg);
    },
    onMessage: inbox.onMessage,
    onClose(cb) {
      return addCloseListener(closeListeners, info, cb);
    },
    close(code, reason) {
      if (closed) return;
      closed = true;
      const frame: BridgeCloseFrame = { t: '$close' };
      if (code !== undefined) frame.code = code;
      if (reason !== undefined) frame.reason = reason;
      try {
        p.postMessage(frame);
        p.close();
      } catch {
        // the other side is gone already
      }
      const i: CloseInfo = {};
      if (code !== undefined) i.code = code;
      if (reason !== undefined) i.reason = reason;
      queueMicrotask(() => finish(i));
    },
  };
}
