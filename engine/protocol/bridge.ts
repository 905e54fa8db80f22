/**
 * The desktop bridge: what the preload exposes to the renderer as `window.tradedesk` (types only; the
 * preload implements it, the renderer consumes it). It is deliberately narrow: one way to open a Port to
 * the hub in main, plus two facts about the host. Everything else (profiles, login, keychain, link groups,
 * pop-outs) is a `hub.*` method over that Port, so the renderer speaks the same protocol in the desktop, in
 * the headless host (WebSocket `/hub`) and against an exchange server directly.
 *
 * Transport facts a renderer-side Port adapter relies on:
 * - `connect()` returns at once; messages sent before main has picked the port up are queued, not lost.
 *   Main answers only after the window's protocol `hello` (that is its "ready" signal).
 * - Messages are structured-cloned JSON values (protocol envelopes); `send` after close is ignored.
 * - `onClose` fires once when main closes the port (the hub shut the session, the app is quitting).
 * - Each `connect()` is a new session with the hub; close the old one first.
 */

/** A bidirectional message channel to the hub in main (shaped like engine/protocol's Port). */
export interface BridgePort {
  send(msg: unknown): void;
  /** Adds a listener; returns a function that removes it. */
  onMessage(cb: (msg: unknown) => void): () => void;
  /** Adds a close listener; returns a function that removes it. */
  onClose(cb: (info: { code?: number; reason?: string }) => void): () => void;
  close(code?: number, reason?: string): void;
}

export interface TradeDeskBridge {
  /** Opens a new session Port to the hub. */
  connect(): BridgePort;
  /** process.platform of the host ('darwin', 'win32', 'linux'). */
  readonly platform: string;
  /** The app version. */
  readonly version: string;
}

/**
 * Transport-level control frame on the MessagePort between preload and main (never a protocol message):
 * the side that closes sends it last, so the other side can report `{code, reason}` to its close listeners.
 */
export interface BridgeCloseFrame {
  t: '$close';
  code?: number;
  reason?: string;
}

/** Declared so `window.tradedesk` type-checks in the renderer (absent in a plain browser). */
declare global {
  interface Window {
    tradedesk?: TradeDeskBridge;
  }
}
