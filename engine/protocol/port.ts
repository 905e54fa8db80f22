/**
 * A Port is the one transport abstraction: an ordered, message-oriented, bidirectional channel. Electron
 * MessagePorts/IPC, a `ws` socket and the in-memory pair below all implement it, so one protocol suite
 * runs over each of them.
 *
 * Contract every implementation keeps:
 * - messages arrive in the order they were sent, and never synchronously inside `send`;
 * - `send` after close is dropped silently (it never throws because the peer went away);
 * - close is one-shot: `closed` turns true, the close listeners run once (also a listener added later,
 *   asynchronously), and messages sent before the close are still delivered before the close listeners.
 */
export interface CloseInfo {
  code?: number;
  reason?: string;
}

export interface Port {
  send(msg: unknown): void;
  /**
   * Optional: sends `{ t: 'push', sub, seq, data }` exactly as send() would, without the caller building
   * the message (a quote fan-out sends a million pushes a second; an adapter that writes them itself skips an
   * object each).
   */
  sendPush?(sub: number, seq: number, data: unknown): void;
  /** Adds a listener; returns a function that removes it. */
  onMessage(cb: (msg: unknown) => void): () => void;
  /** Adds a close listener; returns a function that removes it. */
  onClose(cb: (info: CloseInfo) => void): () => void;
  close(code?: number, reason?: string): void;
  readonly closed: boolean;
}

/**
 * Calls every listener (over a copy of the set, so one may remove itself) with `make()`'s value; a listener
 * that throws does not stop the others: its error is rethrown asynchronously, where it is reported.
 */
export function callEach<T>(listeners: Iterable<(value: T) => void>, make: () => T): void {
  for (const cb of [...listeners]) {
    try {
      cb(make());
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }
}

/**
 * The inbound half every adapter shares: `deliver` hands a message to the current listeners, or keeps it
 * until the first listener is added (then replays it asynchronously, in order); `onMessage` is the Port's.
 */
export function messageInbox(): { deliver(msg: unknown): void; onMessage(cb: (msg: unknown) => void): () => void } {
  const listeners = new Set<(m: unknown) => void>();
  const early: unknown[] = [];
  return {
    deliver(msg) {
      if (listeners.size === 0) early.push(msg);
      else for (const cb of [...listeners]) cb(msg);
    },
    onMessage(cb) {
      listeners.add(cb);
      if (early.length > 0) {
        const q = early.splice(0);
        queueMicrotask(() => q.forEach((m) => cb(m)));
      }
      return () => {
        listeners.delete(cb);
      };
    },
  };
}

/**
 * The one-shot close-listener rule every Port (and the client) keeps: before the close, `cb` joins
 * `listeners`; after it (`closedWith` given), `cb` still runs once, asynchronously, with a copy of the info.
 * Returns the function that removes the listener (or cancels that late call).
 */
export function addCloseListener<T extends object>(listeners: Set<(info: T) => void>, closedWith: T | undefined, cb: (info: T) => void): () => void {
  if (closedWith !== undefined) {
    const info = closedWith;
    let removed = false;
    queueMicrotask(() => {
      if (!removed) cb({ ...info });
    });
    return () => {
      removed = true;
    };
  }
  listeners.add(cb);
  return () => {
    listeners.delete(cb);
  };
}

export interface PortPairOptions {
  /**
   * Pass every message through JSON.stringify/JSON.parse, as a real transport would. `send` then throws a
   * TypeError for anything JSON would not carry faithfully (undefined at the top level or in an array,
   * functions, symbols, bigint, NaN/Infinity, class instances such as Date or Map, cycles), so tests
   * catch non-serialisable data at the sender. `undefined` object properties are allowed (JSON drops them).
   */
  serialize?: boolean;
}

/**
 * Two connected in-memory ports. Delivery is asynchronous (one microtask per message) and in order.
 * Closing either end closes both: both become `closed` at once, messages already sent are still delivered,
 * then both ends' close listeners run with the same `{code, reason}`. Messages that arrive while an end has
 * no message listener wait for the first listener (like MessagePort.start()).
 */
export function createPortPair(opts: PortPairOptions = {}): [Port, Port] {
  const a = new MemoryPort(opts.serialize === true);
  const b = new MemoryPort(opts.serialize === true);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryPort implements Port {
  peer: MemoryPort | undefined;
  #closed = false;
  #closeInfo: CloseInfo | undefined;
  #closeDispatched = false;
  readonly #listeners = new Set<(msg: unknown) => void>();
  readonly #closeListeners = new Set<(info: CloseInfo) => void>();
  /** Messages that arrived while there was no listener (or behind ones that did). */
  readonly #backlog: unknown[] = [];
  #flushScheduled = false;

  constructor(readonly serialize: boolean) {}

  get closed(): boolean {
    return this.#closed;
  }

  send(msg: unknown): void {
    if (this.#closed) return;
    const peer = this.peer;
    if (peer === undefined) return;
    if (this.serialize) {
      assertJsonSafe(msg);
      const text = JSON.stringify(msg);
      queueMicrotask(() => peer.#arrive(JSON.parse(text)));
    } else {
      queueMicrotask(() => peer.#arrive(msg));
    }
  }

  onMessage(cb: (msg: unknown) => void): () => void {
    this.#listeners.add(cb);
    if (this.#backlog.length > 0) this.#scheduleFlush();
    return () => {
      this.#listeners.delete(cb);
    };
  }

  onClose(cb: (info: CloseInfo) => void): () => void {
    return addCloseListener(this.#closeListeners, this.#closeDispatched ? (this.#closeInfo ?? {}) : undefined, cb);
  }

  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    const info: CloseInfo = {};
    if (code !== undefined) info.code = code;
    if (reason !== undefined) info.reason = reason;
    this.#shut(info);
    const peer = this.peer;
    if (peer !== undefined && !peer.#closed) peer.#shut(info);
  }

  /** Marks this end closed now; its close listeners run after everything already in flight to it. */
  #shut(info: CloseInfo): void {
    this.#closed = true;
    this.#closeInfo = info;
    queueMicrotask(() => this.#dispatchClose());
  }

  #arrive(msg: unknown): void {
    if (this.#closeDispatched) return;
    if (this.#listeners.size === 0 || this.#backlog.length > 0) {
      this.#backlog.push(msg);
      if (this.#listeners.size > 0) this.#scheduleFlush();
      return;
    }
    this.#dispatch(msg);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#backlog.length > 0 && this.#listeners.size > 0 && !this.#closeDispatched) {
      this.#dispatch(this.#backlog.shift());
    }
  }

  #dispatch(msg: unknown): void {
    for (const cb of [...this.#listeners]) {
      try {
        cb(msg);
      } catch (e) {
        // A listener's bug must not stop delivery to the others or of later messages; report it
        // as an uncaught error instead of swallowing it.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  #dispatchClose(): void {
    if (this.#closeDispatched) return;
    this.#flush();
    this.#closeDispatched = true;
    this.#backlog.length = 0;
    this.#listeners.clear();
    const info = this.#closeInfo ?? {};
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    callEach(listeners, () => ({ ...info }));
  }
}

/**
 * Throws a TypeError naming the first place where `value` would not survive JSON.stringify/parse
 * unchanged (see PortPairOptions.serialize).
 */
export function assertJsonSafe(value: unknown): void {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, inObject: boolean): void => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(v)) throw new TypeError(`Not JSON-serialisable: ${String(v)} at ${path}`);
        return;
      case 'undefined':
        if (inObject) return;
        throw new TypeError(`Not JSON-serialisable: undefined at ${path}`);
      case 'object': {
        if (v === null) return;
        if (seen.has(v)) throw new TypeError(`Not JSON-serialisable: cycle at ${path}`);
        seen.add(v);
        if (Array.isArray(v)) {
          v.forEach((item, i) => walk(item, `${path}[${i}]`, false));
        } else {
          const proto: unknown = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) {
            const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
            throw new TypeError(`Not JSON-serialisable: ${typeof name === 'string' ? name : 'class'} instance at ${path}`);
          }
          for (const [k, item] of Object.entries(v)) walk(item, `${path}.${k}`, true);
        }
        seen.delete(v);
        return;
      }
      default:
        throw new TypeError(`Not JSON-serialisable: ${typeof v} at ${path}`);
    }
  };
  walk(value, '$', false);
}
