/**
 * The protocol client: typed calls and subscriptions over any Port. Everything it hands to the caller has
 * been checked against the table in methods.ts; everything it sends has been checked before sending.
 */
import type { ErrorShape } from '../core/codes.js';
import { ProtocolError, issuesToDetails } from './errors.js';
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  ServerMessageSchema,
  SubResultSchema,
  type End,
  type Push,
  type Res,
  type SessionInfo,
  type Welcome,
} from './messages.js';
import {
  channelDef,
  isChannelName,
  isMethodName,
  methodDef,
  type ChannelData,
  type ChannelName,
  type ChannelParams,
  type MethodName,
  type ParamsOf,
  type ResultOf,
} from './methods.js';
import { addCloseListener, type CloseInfo, type Port } from './port.js';

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface ClientOptions {
  /** Default time a call (or subscribe/unsubscribe) may take before it rejects with TIMEOUT. 15 s. */
  timeoutMs?: number;
  /** Time the handshake may take. Defaults to `timeoutMs`. */
  connectTimeoutMs?: number;
}

export interface ConnectOptions {
  /** Who is connecting (e.g. "tradedesk-renderer/0.1.0"); for the server's logs. */
  client: string;
  token?: string;
}

export interface CallOptions {
  timeoutMs?: number;
}

/** `params` may be left out when the method takes none (or only optional ones). */
export type CallArgs<M extends MethodName> =
  Record<never, never> extends ParamsOf<M>
    ? [params?: ParamsOf<M>, options?: CallOptions]
    : [params: ParamsOf<M>, options?: CallOptions];

export interface SubscriptionHandlers<C extends ChannelName> {
  /** Each push, validated against the channel's schema, in order. */
  data(data: ChannelData<C>): void;
  /**
   * Something went wrong with the stream:
   * - RESYNC_REQUIRED: pushes were missed (a sequence gap, or the server ended the stream because this
   *   consumer fell behind). The client re-subscribes by itself once; `resubscribed` tells when the new
   *   stream is live (fetch a snapshot then). If that re-subscribe fails, `error` is called again with
   *   its error and the subscription is over.
   * - INTERNAL: a push did not match the channel's schema; it was dropped, the stream continues.
   * - UNAVAILABLE: the connection closed; the subscription is over.
   * - any other code: the server ended the stream (`end`); the subscription is over.
   */
  error?(error: ProtocolError): void;
  /** After an automatic re-subscribe the new stream is live (its first push is a fresh snapshot). */
  resubscribed?(): void;
}

export interface Subscription<C extends ChannelName = ChannelName> {
  readonly channel: C;
  /** False once unsubscribed, ended by the server, failed, or the connection closed. */
  readonly active: boolean;
  /** Stops the stream. Never rejects; unsubscribing twice is harmless. */
  unsubscribe(): Promise<void>;
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'closed';

export interface ClientCloseInfo extends CloseInfo {
  /** The last session-level `error` the server sent before closing (e.g. SESSION_REVOKED), if any. */
  error?: ErrorShape;
}

interface Pending {
  settle(res: Res): void;
  fail(error: ProtocolError): void;
  timer: ReturnType<typeof setTimeout>;
  /** For `sub` requests: if the reply comes after the caller gave up, unsubscribe from it. */
  isSub: boolean;
}

interface Stream {
  readonly channel: ChannelName;
  /** The validated parameters as sent. */
  readonly params: unknown;
  readonly handlers: SubscriptionHandlers<ChannelName>;
  serverId: number | undefined;
  nextSeq: number;
  active: boolean;
}

export class ProtocolClient {
  readonly #port: Port;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  #state: ClientState = 'idle';
  #welcome: Welcome | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Live streams by the server's subscription id. */
  readonly #streams = new Map<number, Stream>();
  /** Every subscription not yet over (also those between a gap and their re-subscribe). */
  readonly #subs = new Set<Stream>();
  /** Ids of `sub` requests that timed out: a late success is unsubscribed at once. */
  readonly #abandonedSubs = new Set<number>();
  #handshake: { resolve(w: Welcome): void; reject(e: ProtocolError): void; timer: ReturnType<typeof setTimeout> } | undefined;
  #lastError: ErrorShape | undefined;
  #closeInfo: ClientCloseInfo | undefined;
  readonly #closeListeners = new Set<(info: ClientCloseInfo) => void>();

  constructor(port: Port, options: ClientOptions = {}) {
    this.#port = port;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? this.#timeoutMs;
    port.onMessage((msg) => this.#onMessage(msg));
    port.onClose((info) => this.#onPortClose(info));
  }

  get state(): ClientState {
    return this.#state;
  }
  /** The server's welcome, once connected. */
  get welcome(): Welcome | undefined {
    return this.#welcome;
  }
  /** Who the server says we are, once connected. */
  get session(): SessionInfo | undefined {
    return this.#welcome?.session;
  }

  /**
   * Says hello and waits for the welcome. Rejects with the server's error (UNSUPPORTED_VERSION,
   * UNAUTHENTICATED, ...), with UNAVAILABLE if the port closes, or with TIMEOUT. Calls made while
   * connecting are sent at once (the server answers them after the handshake).
   */
  connect(opts: ConnectOptions): Promise<Welcome> {
    if (this.#state !== 'idle' || this.#port.closed) {
      return Promise.reject(
        this.#state === 'closed' || this.#port.closed
          ? new ProtocolError('UNAVAILABLE', 'The connection is closed')
          : new ProtocolError('CONFLICT', 'connect() was already called'),
      );
    }
    this.#state = 'connecting';
    return new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#failHandshake(new ProtocolError('TIMEOUT', 'No welcome from the server in time'));
      }, this.#connectTimeoutMs);
      this.#handshake = { resolve, reject, timer };
      const hello: { t: 'hello'; v: number; client: string; token?: string } = {
        t: 'hello',
        v: PROTOCOL_VERSION,
        client: opts.client,
      };
      if (opts.token !== undefined) hello.token = opts.token;
      this.#port.send(hello);
    });
  }

  /**
   * Calls a method. Parameters are validated first (BAD_REQUEST without a round trip); the result is
   * validated against the method's schema (a reply that does not match rejects with INTERNAL). Error
   * replies reject with a ProtocolError carrying the server's code, message and details.
   */
  call<M extends MethodName>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>> {
    const [params, options] = args as [unknown, CallOptions | undefined];
    if (!isMethodName(method)) {
      return Promise.reject(new ProtocolError('UNKNOWN_METHOD', `Unknown method: ${String(method).slice(0, 64)}`));
    }
    const notReady = this.#notReady();
    if (notReady) return Promise.reject(notReady);
    const def = methodDef(method);
    const parsed = def.params.safeParse(params ?? {});
    if (!parsed.success) {
      return Promise.reject(
        new ProtocolError('BAD_REQUEST', `Invalid parameters for ${method}`, { method, ...issuesToDetails(parsed.error.issues) }),
      );
    }
    return this.#request({ t: 'req', method, params: parsed.data }, options?.timeoutMs, false, (result) => {
      const r = def.result.safeParse(result);
      if (!r.success) {
        throw new ProtocolError('INTERNAL', `The server's reply to ${method} does not match its schema`, {
          method,
          ...issuesToDetails(r.error.issues),
        });
      }
      return r.data as ResultOf<M>;
    });
  }

  /**
   * Opens a stream. Resolves once the server has accepted it; rejects like `call` otherwise. Pushes are
   * validated, checked for sequence gaps and delivered in order to `handlers.data`.
   */
  async subscribe<C extends ChannelName>(
    channel: C,
    params: ChannelParams<C>,
    handlers: SubscriptionHandlers<C>,
    options?: CallOptions,
  ): Promise<Subscription<C>> {
    if (!isChannelName(channel)) {
      throw new ProtocolError('UNKNOWN_METHOD', `Unknown channel: ${String(channel).slice(0, 64)}`);
    }
    const notReady = this.#notReady();
    if (notReady) throw notReady;
    const parsed = channelDef(channel).params.safeParse(params ?? {});
    if (!parsed.success) {
      throw new ProtocolError('BAD_REQUEST', `Invalid parameters for channel ${channel}`, {
        channel,
        ...issuesToDetails(parsed.error.issues),
      });
    }
    const stream: Stream = {
      channel,
      params: parsed.data,
      handlers: handlers as unknown as SubscriptionHandlers<ChannelName>,
      serverId: undefined,
      nextSeq: 1,
      active: true,
    };
    this.#subs.add(stream);
    try {
      await this.#open(stream, options?.timeoutMs);
    } catch (e) {
      stream.active = false;
      this.#subs.delete(stream);
      throw e;
    }
    return {
      channel,
      get active() {
        return stream.active;
      },
      unsubscribe: () => this.#unsubscribe(stream),
    };
  }

  /** Runs `cb` once when the connection closes (at once, asynchronously, if it already has). */
  onClose(cb: (info: ClientCloseInfo) => void): () => void {
    return addCloseListener(this.#closeListeners, this.#closeInfo, cb);
  }

  /** Closes the port; pending calls reject with UNAVAILABLE and subscriptions end. */
  close(code: number = CLOSE_CODES.NORMAL, reason?: string): void {
    this.#port.close(code, reason);
  }

  // ---------------------------------------------------------------- internals

  #notReady(): ProtocolError | undefined {
    if (this.#state === 'idle') return new ProtocolError('UNAVAILABLE', 'Not connected: call connect() first');
    if (this.#state === 'closed' || this.#port.closed) return new ProtocolError('UNAVAILABLE', 'The connection is closed');
    return undefined;
  }

  /**
   * Sends a request and settles with `onOk(result)`, which runs synchronously when the reply is handled
   * (so a subscription is registered before the next message, its first push, is looked at).
   */
  #request<T>(
    msg: { t: 'req'; method: string; params: unknown } | { t: 'sub'; channel: string; params: unknown } | { t: 'unsub'; sub: number },
    timeoutMs: number | undefined,
    isSub: boolean,
    onOk: (result: unknown) => T,
  ): Promise<T> {
    const notReady = this.#notReady();
    if (notReady) return Promise.reject(notReady);
    const id = this.#nextId++;
    const ms = timeoutMs ?? this.#timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        if (isSub) this.#abandonedSubs.add(id);
        reject(new ProtocolError('TIMEOUT', `No reply in ${ms} ms`, { id }));
      }, ms);
      this.#pending.set(id, {
        isSub,
        timer,
        fail: reject,
        settle: (res) => {
          if (!res.ok) {
            reject(ProtocolError.from(res.error));
            return;
          }
          try {
            resolve(onOk(res.result));
          } catch (e) {
            reject(e instanceof ProtocolError ? e : new ProtocolError('INTERNAL', 'Could not handle the reply'));
          }
        },
      });
      try {
        this.#port.send({ ...msg, id });
      } catch (e) {
        // The transport refused the message (e.g. not serialisable): nothing was sent.
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new ProtocolError('BAD_REQUEST', `Could not send the request: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  }

  #open(stream: Stream, timeoutMs?: number): Promise<void> {
    return this.#request({ t: 'sub', channel: stream.channel, params: stream.params }, timeoutMs, true, (result) => {
      const r = SubResultSchema.safeParse(result);
      if (!r.success) {
        throw new ProtocolError('INTERNAL', 'The server accepted a subscription without a valid id', {
          channel: stream.channel,
        });
      }
      const serverId = r.data.sub;
      if (!stream.active) {
        // Unsubscribed while the (re-)subscribe was in flight.
        this.#sendUnsub(serverId);
        return;
      }
      stream.serverId = serverId;
      stream.nextSeq = 1;
      this.#streams.set(serverId, stream);
    });
  }

  async #unsubscribe(stream: Stream): Promise<void> {
    if (!stream.active) return;
    stream.active = false;
    this.#subs.delete(stream);
    const serverId = stream.serverId;
    if (serverId === undefined || this.#streams.get(serverId) !== stream) return;
    this.#streams.delete(serverId);
    try {
      await this.#request({ t: 'unsub', sub: serverId }, undefined, false, () => undefined);
    } catch {
      // Best effort: the stream is over for us either way (and over on the server if the port closed).
    }
  }

  #sendUnsub(serverId: number): void {
    this.#request({ t: 'unsub', sub: serverId }, undefined, false, () => undefined).catch(() => undefined);
  }

  #onMessage(raw: unknown): void {
    if (this.#state === 'closed') return;
    const parsed = ServerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.#onInvalidMessage(raw, parsed.error.issues);
      return;
    }
    const msg = parsed.data;
    switch (msg.t) {
      case 'welcome':
        if (this.#state !== 'connecting' || this.#handshake === undefined) return;
        if (msg.v !== PROTOCOL_VERSION) {
          this.#failHandshake(
            new ProtocolError('UNSUPPORTED_VERSION', `The server speaks protocol version ${msg.v}, not ${PROTOCOL_VERSION}`, {
              server: msg.v,
              client: PROTOCOL_VERSION,
            }),
          );
          return;
        }
        {
          const hs = this.#handshake;
          this.#handshake = undefined;
          clearTimeout(hs.timer);
          this.#state = 'open';
          this.#welcome = msg;
          hs.resolve(msg);
        }
        return;
      case 'error':
        this.#lastError = msg.error;
        if (this.#handshake !== undefined) this.#failHandshake(ProtocolError.from(msg.error));
        return;
      case 'res':
        this.#onRes(msg);
        return;
      case 'push':
        this.#onPush(msg);
        return;
      case 'end':
        this.#onEnd(msg);
        return;
    }
  }

  #onRes(msg: Res): void {
    const pending = this.#pending.get(msg.id);
    if (pending === undefined) {
      if (this.#abandonedSubs.delete(msg.id) && msg.ok) {
        const r = SubResultSchema.safeParse(msg.result);
        if (r.success) this.#sendUnsub(r.data.sub);
      }
      return;
    }
    this.#pending.delete(msg.id);
    clearTimeout(pending.timer);
    pending.settle(msg);
  }

  #onPush(msg: Push): void {
    const stream = this.#streams.get(msg.sub);
    if (stream === undefined) return; // an old or unsubscribed stream
    if (msg.seq !== stream.nextSeq) {
      this.#resync(
        stream,
        new ProtocolError('RESYNC_REQUIRED', `Missed pushes on ${stream.channel}: expected #${stream.nextSeq}, got #${msg.seq}`, {
          channel: stream.channel,
          expected: stream.nextSeq,
          got: msg.seq,
        }),
        true,
      );
      return;
    }
    stream.nextSeq++;
    const r = channelDef(stream.channel).data.safeParse(msg.data);
    if (!r.success) {
      this.#emitError(
        stream,
        new ProtocolError('INTERNAL', `A push on ${stream.channel} does not match its schema`, {
          channel: stream.channel,
          seq: msg.seq,
          ...issuesToDetails(r.error.issues),
        }),
      );
      return;
    }
    const handlers = stream.handlers;
    guard(() => handlers.data(r.data as ChannelData<ChannelName>));
  }

  #onEnd(msg: End): void {
    const stream = this.#streams.get(msg.sub);
    if (stream === undefined) return;
    const error = ProtocolError.from(msg.error);
    if (error.code === 'RESYNC_REQUIRED') {
      this.#resync(stream, error, false);
      return;
    }
    this.#streams.delete(msg.sub);
    stream.active = false;
    this.#subs.delete(stream);
    this.#emitError(stream, error);
  }

  /** Reports the gap, drops the old stream and re-subscribes once. */
  #resync(stream: Stream, error: ProtocolError, unsubscribeOld: boolean): void {
    const oldId = stream.serverId;
    if (oldId !== undefined) {
      this.#streams.delete(oldId);
      if (unsubscribeOld) this.#sendUnsub(oldId);
    }
    stream.serverId = undefined;
    this.#emitError(stream, error);
    if (!stream.active || this.#state !== 'open') return;
    this.#open(stream).then(
      () => {
        if (stream.active) guard(() => stream.handlers.resubscribed?.());
      },
      (e: unknown) => {
        if (!stream.active) return;
        stream.active = false;
        this.#subs.delete(stream);
        this.#emitError(stream, e instanceof ProtocolError ? e : new ProtocolError('INTERNAL', 'Re-subscribe failed'));
      },
    );
  }

  #emitError(stream: Stream, error: ProtocolError): void {
    const handlers = stream.handlers;
    if (handlers.error !== undefined) guard(() => handlers.error?.(error));
  }

  /** A message that fails the envelope schema: blame the request or stream it names, if any. */
  #onInvalidMessage(raw: unknown, issues: readonly { path: readonly PropertyKey[]; message: string; code?: string }[]): void {
    if (typeof raw !== 'object' || raw === null) return;
    const m = raw as { t?: unknown; id?: unknown; sub?: unknown };
    const error = new ProtocolError('INTERNAL', 'The server sent a malformed message', issuesToDetails(issues));
    if (m.t === 'res' && typeof m.id === 'number') {
      const pending = this.#pending.get(m.id);
      if (pending !== undefined) {
        this.#pending.delete(m.id);
        clearTimeout(pending.timer);
        pending.fail(error);
      }
    } else if ((m.t === 'push' || m.t === 'end') && typeof m.sub === 'number') {
      const stream = this.#streams.get(m.sub);
      if (stream !== undefined) this.#resync(stream, new ProtocolError('RESYNC_REQUIRED', error.message, error.details), true);
    } else if ((m.t === 'welcome' || m.t === 'error') && this.#handshake !== undefined) {
      this.#failHandshake(error);
    }
  }

  #failHandshake(error: ProtocolError): void {
    const hs = this.#handshake;
    if (hs === undefined) return;
    this.#handshake = undefined;
    clearTimeout(hs.timer);
    hs.reject(error);
    this.#port.close(error.code === 'UNSUPPORTED_VERSION' ? CLOSE_CODES.PROTOCOL_ERROR : CLOSE_CODES.NORMAL, error.code);
  }

  #onPortClose(info: CloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#state = 'closed';
    const closeInfo: ClientCloseInfo = { ...info };
    if (this.#lastError !== undefined) closeInfo.error = this.#lastError;
    this.#closeInfo = closeInfo;
    const details: Record<string, unknown> = {};
    if (info.code !== undefined) details.closeCode = info.code;
    if (info.reason !== undefined) details.closeReason = info.reason;
    if (this.#lastError !== undefined) details.cause = this.#lastError;
    const error = new ProtocolError('UNAVAILABLE', `The connection closed${info.reason ? `: ${info.reason}` : ''}`, details);
    if (this.#handshake !== undefined) {
      const hs = this.#handshake;
      this.#handshake = undefined;
      clearTimeout(hs.timer);
      hs.reject(this.#lastError !== undefined ? ProtocolError.from(this.#lastError) : error);
    }
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#abandonedSubs.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.fail(error);
    }
    const subs = [...this.#subs];
    this.#subs.clear();
    this.#streams.clear();
    for (const s of subs) {
      if (!s.active) continue;
      s.active = false;
      this.#emitError(s, error);
    }
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const cb of listeners) guard(() => cb({ ...closeInfo }));
  }
}

/** Runs a user callback; its exception surfaces as an uncaught error instead of breaking the client. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

