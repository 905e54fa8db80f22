/**
 * The preload: exposes `window.tradedesk` (engine/protocol/bridge.ts) and nothing else. `connect()` makes a
 * MessageChannel, hands one end to main over the app's single IPC message, and wraps the other end as a
 * small port object; the renderer never sees ipcRenderer, Node or Electron. Runs sandboxed (CommonJS
 * bundle), so it imports only `electron` and types.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { BridgeCloseFrame, BridgePort, TradeDeskBridge } from '../engine/protocol/bridge.js';

const CONNECT_CHANNEL = 'tradedesk:connect';
const VERSION_ARG = '--tradedesk-version=';

/** The DOM MessagePort as used here (the preload is type-checked without the DOM library). */
interface DomMessagePort {
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
}
declare const MessageChannel: new () => { port1: DomMessagePort; port2: DomMessagePort };

function isCloseFrame(m: unknown): m is BridgeCloseFrame {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === '$close';
}

function connect(): BridgePort {
  const channel = new MessageChannel();
  const port = channel.port1;
  const listeners = new Set<(msg: unknown) => void>();
  const closeListeners = new Set<(info: { code?: number; reason?: string }) => void>();
  let closedWith: { code?: number; reason?: string } | undefined;

  const finish = (info: { code?: number; reason?: string }): void => {
    if (closedWith !== undefined) return;
    closedWith = info;
    try {
      port.close();
    } catch {
      // already closed
    }
    for (const cb of [...closeListeners]) {
      try {
        cb({ ...info });
      } catch {
        // a renderer listener's error stays in the renderer
      }
    }
    closeListeners.clear();
    listeners.clear();
  };

  port.addEventListener('message', (e) => {
    if (closedWith !== undefined) return;
    const m = e.data;
    if (isCloseFrame(m)) {
      const info: { code?: number; reason?: string } = {};
      if (typeof m.code === 'number') info.code = m.code;
      if (typeof m.reason === 'string') info.reason = m.reason;
      finish(info);
      return;
    }
    for (const cb of [...listeners]) {
      try {
        cb(m);
      } catch {
        // keep delivering to the others
      }
    }
  });
  port.addEventListener('close', () => finish({}));
  port.start();
  (ipcRenderer.postMessage as (channel: string, message: unknown, transfer: unknown[]) => void)(CONNECT_CHANNEL, { v: 1 }, [channel.port2]);

  return {
    send(msg) {
      if (closedWith === undefined) port.postMessage(msg);
    },
    onMessage(cb) {
      listeners.add(cb);
      return () => {
        listeners.delete(cb);
      };
    },
    onClose(cb) {
      if (closedWith !== undefined) {
        const info = closedWith;
        queueMicrotask(() => cb({ ...info }));
        return () => undefined;
      }
      closeListeners.add(cb);
      return () => {
        closeListeners.delete(cb);
      };
    },
    close(code, reason) {
      if (closedWith !== undefined) return;
      const frame: BridgeCloseFrame = { t: '$close' };
      if (code !== undefined) frame.code = code;
      if (reason !== undefined) frame.reason = reason;
      try {
        port.postMessage(frame);
      } catch {
        // main is gone
      }
      const info: { code?: number; reason?: string } = {};
      if (code !== undefined) info.code = code;
      if (reason !== undefined) info.reason = reason;
      finish(info);
    },
  };
}

const versionArg = process.argv.find((a) => a.startsWith(VERSION_ARG));
const bridge: TradeDeskBridge = {
  connect,
  platform: process.platform,
  version: versionArg === undefined ? '' : versionArg.slice(VERSION_ARG.length),
};

contextBridge.exposeInMainWorld('tradedesk', bridge);
