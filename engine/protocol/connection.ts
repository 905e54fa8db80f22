/**
 * A connection that stays up: it opens a transport, says hello, and when the transport drops it opens a
 * new one with exponential backoff (with jitter), says hello again (asking for a fresh token each time) and
 * re-subscribes every live subscription. The desktop hub uses it for a firm server; the browser UI uses it
 * for the hub or the exchange server.
 *
 * What it promises:
 * - `subscribe` returns at once; the subscription lives across reconnects until `unsubscribe()`, until the
 *   server refuses it (handlers.error, then it is over) or until `close()`. `interrupted` tells when the
 *   connection dropped (data is stale now); `resubscribed` tells when the stream is live again (its first
 *   push is a fresh snapshot). `ready` settles on the first subscribe: resolves, or rejects with the refusal.
 * - `call` made while (re)connecting waits for the connection (up to its timeout). A call in flight when the
 *   transport drops rejects with UNAVAILABLE and is NOT retried: whether an order reached the venue is for
 *   the caller to find out (orders.list / clientOrderId), never guessed.
 * - A handshake refused for a reason retrying cannot fix (`isFatal`: by default UNAUTHENTICATED,
 *   SESSION_REVOKED, FORBIDDEN, UNSUPPORTED_VERSION, INVALID_CREDENTIALS) stops the loop: state `closed`
 *   with that error. The owner fixes it (log in again, refresh a token) and calls `start()` again.
 */
import type { ErrorShape } from '../core/codes.js';
import {
  ProtocolClient,
  DEFAULT_TIMEOUT_MS,
  type CallArgs,
  type ClientOptions,
  type ConnectOptions,
  type Subscription,
} from './client.js';
import { ProtocolError, isProtocolError, toErrorShape } from './errors.js';
import type { Welcome } from './messages.js';
import type { ChannelData, ChannelName, ChannelParams, MethodName, ResultOf } from './methods.js';
import { callEach, type Port } from './port.js';

export interface BackoffOptions {
  /** First retry delay. Default 250 ms. */
  initialMs?: number;
  /** Largest delay. Default 10 s. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Spread: the delay is multiplied by a factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
}

export interface ConnectionOptions {
  /** Opens a fresh transport (a WebSocket, a MessagePort). Reject (or return a closed port) to fail the attempt. */
  open(): Promise<Port>;
  /** The hello for each attempt: ask for a current token here. A throw fails the attempt like a refusal would. */
  hello(): ConnectOptions | Promise<ConnectOptions>;
  backoff?: BackoffOptions;
  /** In [0, 1); for the jitter. Default Math.random (the protocol layer is not the deterministic engine). */
  random?(): number;
  /** Whether a handshake error means: stop retrying. */
  isFatal?(error: ErrorShape): boolean;
  client?: ClientOptions;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Failed attempts since the connection was last open (0 while open). */
  readonly attempt: number;
  /** While reconnecting: the delay before the next attempt. */
  readonly retryInMs?: number;
  /** Why the last attempt failed or the connection closed. */
  readonly error?: ErrorShape;
  /** The server's welcome while open. */
  readonly welcome?: Welcome;
}

export interface ConnectionSubscriptionHandlers<C extends ChannelName> {
  data(data: ChannelData<C>): void;
  /** The server refused or ended the stream for good (not a dropped connection); the subscription is over. */
  error?(error: ProtocolError): void;
  /** The connection dropped: no pushes until `resubscribed`. */
  interrupted?(): void;
  /** Live again after a reconnect or a resync; the next push is a fresh snapshot. */
  resubscribed?(): void;
}

export interface ConnectionSubscription {
  readonly channel: ChannelName;
  /** False once unsubscribed, refused/ended by the server or the connection was closed for good. */
  readonly active: boolean;
  /** Settles on the first subscribe: resolves once live, rejects with the server's refusal. */
  readonly ready: Promise<void>;
  unsubscribe(): Promise<void>;
}

const FATAL = new Set(['UNAUTHENTICATED', 'SESSION_REVOKED', 'FORBIDDEN', 'UNSUPPORTED_VERSION', 'INVALID_CREDENTIALS']);
export const defaultIsFatal = (e: ErrorShape): boolean => FATAL.has(e.code);

/** The delay before retry number `attempt` (1-based), jitter drawn from `r` in [0, 1). */
export function backoffDelay(attempt: number, b: BackoffOptions = {}, r = 0.5): number {
  const initial = b.initialMs ?? 250;
  const max = b.maxMs ?? 10_000;
  const factor = b.factor ?? 2;
  const jitter = b.jitter ?? 0.2;
  const base = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * r)));
}

interface LogicalSub {
  readonly channel: ChannelName;
  readonly params: unknown;
  readonly handlers: ConnectionSubscriptionHandlers<ChannelName>;
  active: boolean;
  /** The live upstream subscription on the current client, if any. */
  upstream: Subscription | undefined;
  /** Whether the stream has been live once (a later subscribe is a re-subscribe). */
  wasLive: boolean;
  resolveReady(): void;
  rejectReady(e: ProtocolError): void;
}

interface Waiter {
  resolve(c: ProtocolClient): void;
  reject(e: ProtocolError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Connection {
  readonly #o: ConnectionOptions;
  readonly #timeoutMs: number;
  #status: ConnectionStatus = { state: 'idle', attempt: 0 };
  #client: ProtocolClient | undefined;
  /** Bumped per attempt and by close(): stale async steps compare and give up. */
  #epoch = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #subs = new Set<LogicalSub>();
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(s: ConnectionStatus) => void>();

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.#timeoutMs = options.client?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }
  get state(): ConnectionState {
    return this.#status.state;
  }
  /** The server's welcome while open. */
  get welcome(): Welcome | undefined {
    return this.#status.welcome;
  }

  /** Calls `cb` on every status change; returns a function that removes it. */
  onStatus(cb: (s: ConnectionStatus) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Starts connecting (again, after a fatal stop or close). No-op while connecting or open. */
  start(): void {
    const s = this.#status.state;
    if (s === 'connecting' || s === 'open') return;
    if (s === 'reconnecting') {
      this.reconnectNow();
      return;
    }
    this.#attempt(0);
  }

  /** While waiting to retry: retry now. */
  reconnectNow(): void {
    if (this.#status.state !== 'reconnecting' || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#attempt(this.#status.attempt);
  }

  /** Drops the current transport (if any) and reconnects at once, e.g. after the token changed. */
  restart(): void {
    this.#stopTransport();
    this.#attempt(0);
  }

  /** Stops for good (until `start()`): pending calls reject with UNAVAILABLE; subscriptions end silently. */
  close(): void {
    this.#stopTransport();
    const err = new ProtocolError('UNAVAILABLE', 'The connection was closed');
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiters.clear();
    for (const s of this.#subs) {
      s.active = false;
      s.rejectReady(err);
    }
    this.#subs.clear();
    this.#setStatus({ state: 'closed', attempt: 0 });
  }

  /** Like ProtocolClient.call, waiting for the connection while it (re)connects. */
  async call<M extends MethodName>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>> {
    const timeoutMs = (args[1] as { timeoutMs?: number } | undefined)?.timeoutMs ?? this.#timeoutMs;
    const client = await this.#ready(timeoutMs);
    return client.call(method, ...args);
  }

  subscribe<C extends ChannelName>(
    channel: C,
    params: ChannelParams<C>,
    handlers: ConnectionSubscriptionHandlers<C>,
  ): ConnectionSubscription {
    let resolveReady!: () => void;
    let rejectReady!: (e: ProtocolError) => void;
    const ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => undefined); // a caller that does not look at `ready` still gets handlers.error
    let settled = false;
    const sub: LogicalSub = {
      channel,
      params,
      handlers: handlers as unknown as ConnectionSubscriptionHandlers<ChannelName>,
      active: true,
      upstream: undefined,
      wasLive: false,
      resolveReady: () => {
        if (settled) return;
        settled = true;
        resolveReady();
      },
      rejectReady: (e) => {
        if (settled) return;
        settled = true;
        rejectReady(e);
      },
    };
    if (this.#status.state === 'closed') {
      sub.active = false;
      sub.rejectReady(new ProtocolError('UNAVAILABLE', 'The connection is closed'));
    } else {
      this.#subs.add(sub);
      if (this.#client !== undefined && this.#status.state === 'open') void this.#open(sub, this.#client);
    }
    return {
      channel,
      get active() {
        return sub.active;
      },
      ready,
      unsubscribe: async () => {
        if (!sub.active) return;
        sub.active = false;
        this.#subs.delete(sub);
        sub.rejectReady(new ProtocolError('UNAVAILABLE', 'Unsubscribed'));
        const up = sub.upstream;
        sub.upstream = undefined;
        if (up !== undefined) await up.unsubscribe();
      },
    };
  }

  // ---------------------------------------------------------------- internals

  #setStatus(s: ConnectionStatus): void {
    this.#status = s;
    callEach(this.#listeners, () => s);
  }

  #stopTransport(): void {
    this.#epoch++;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const c = this.#client;
    this.#client = undefined;
    for (const s of this.#subs) s.upstream = undefined;
    c?.close();
  }

  #ready(timeoutMs: number): Promise<ProtocolClient> {
    const st = this.#status.state;
    if (st === 'open' && this.#client !== undefined) return Promise.resolve(this.#client);
    if (st === 'closed' || st === 'idle') {
      return Promise.reject(
        new ProtocolError('UNAVAILABLE', st === 'idle' ? 'Not connected yet' : 'Not connected', this.#status.error ? { cause: this.#status.error } : undefined),
      );
    }
    return new Promise<ProtocolClient>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(w);
          reject(new ProtocolError('UNAVAILABLE', 'Not connected (still trying)', this.#status.error ? { cause: this.#status.error } : undefined));
        }, timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  #attempt(failed: number): void {
    const epoch = ++this.#epoch;
    this.#retryTimer = undefined;
    const prev = this.#status;
    this.#setStatus({
      state: failed === 0 && (prev.state === 'idle' || prev.state === 'closed') ? 'connecting' : 'reconnecting',
      attempt: failed,
      ...(prev.error ? { error: prev.error } : {}),
    });
    void this.#connectOnce(epoch).then(
      (client) => {
        if (epoch !== this.#epoch) {
          client.close();
          return;
        }
        this.#onOpen(client, epoch);
      },
      (e: unknown) => {
        if (epoch !== this.#epoch) return;
        const err = asProtocolError(e);
        const shape: ErrorShape = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
        if ((this.#o.isFatal ?? defaultIsFatal)(shape)) {
          this.#failWaiters(err);
          this.#setStatus({ state: 'closed', attempt: failed + 1, error: shape });
          for (const s of this.#subs) s.rejectReady(err);
          return;
        }
        this.#scheduleRetry(failed + 1, shape);
      },
    );
  }

  async #connectOnce(epoch: number): Promise<ProtocolClient> {
    const hello = await this.#o.hello();
    const port = await this.#o.open();
    if (epoch !== this.#epoch) {
      port.close();
      throw new ProtocolError('UNAVAILABLE', 'Superseded');
    }
    const client = new ProtocolClient(port, this.#o.client);
    try {
      await client.connect(hello);
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  #scheduleRetry(attempt: number, error: ErrorShape): void {
    const delay = backoffDelay(attempt, this.#o.backoff, (this.#o.random ?? Math.random)());
    this.#setStatus({ state: 'reconnecting', attempt, retryInMs: delay, error });
    const epoch = this.#epoch;
    this.#retryTimer = setTimeout(() => {
      if (epoch === this.#epoch) this.#attempt(attempt);
    }, delay);
  }

  #failWaiters(err: ProtocolError): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiters.clear();
  }

  #onOpen(client: ProtocolClient, epoch: number): void {
    this.#client = client;
    client.onClose((info) => {
      if (epoch !== this.#epoch) return;
      this.#client = undefined;
      for (const s of this.#subs) {
        if (s.upstream !== undefined || s.wasLive) {
          s.upstream = undefined;
          if (s.active) safe(() => s.handlers.interrupted?.());
        }
      }
      const error: ErrorShape = info.error ?? { code: 'UNAVAILABLE', message: `The connection closed${info.reason ? `: ${info.reason}` : ''}` };
      if ((this.#o.isFatal ?? defaultIsFatal)(error)) {
        this.#epoch++;
        this.#failWaiters(ProtocolError.from(error));
        this.#setStatus({ state: 'closed', attempt: 0, error });
        return;
      }
      this.#scheduleRetry(1, error);
    });
    const welcome = client.welcome;
    this.#setStatus({ state: 'open', attempt: 0, ...(welcome ? { welcome } : {}) });
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve(client);
    }
    this.#waiters.clear();
    for (const s of [...this.#subs]) void this.#open(s, client);
  }

  async #open(sub: LogicalSub, client: ProtocolClient): Promise<void> {
    const again = sub.wasLive;
    try {
      const up = await client.subscribe(sub.channel, sub.params as ChannelParams<ChannelName>, {
        data: (d) => {
          if (sub.active) sub.handlers.data(d);
        },
        error: (e) => {
          if (!sub.active) return;
          if (e.code === 'UNAVAILABLE' || e.code === 'RESYNC_REQUIRED') return; // reconnect / client resync handle it
          if (e.code === 'INTERNAL') return; // one bad push dropped; the stream goes on
          sub.active = false;
          this.#subs.delete(sub);
          safe(() => sub.handlers.error?.(e));
        },
        resubscribed: () => {
          if (sub.active) safe(() => sub.handlers.resubscribed?.());
        },
      });
      if (!sub.active || this.#client !== client) {
        void up.unsubscribe();
        return;
      }
      sub.upstream = up;
      sub.wasLive = true;
      sub.resolveReady();
      if (again) safe(() => sub.handlers.resubscribed?.());
    } catch (e) {
      const err = asProtocolError(e);
      if (err.code === 'UNAVAILABLE' || !sub.active) return; // the connection dropped meanwhile: the next open retries
      sub.active = false;
      this.#subs.delete(sub);
      sub.rejectReady(err);
      safe(() => sub.handlers.error?.(err));
    }
  }
}

/** A transport failure (a refused socket, a DNS error) is UNAVAILABLE with its message; protocol errors keep their code. */
function asProtocolError(e: unknown): ProtocolError {
  if (isProtocolError(e)) return ProtocolError.from(toErrorShape(e));
  const message = e instanceof Error ? e.message : String(e);
  return new ProtocolError('UNAVAILABLE', message.slice(0, 300) || 'Could not connect');
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
