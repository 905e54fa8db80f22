/**
 * The transport-agnostic session server: one call of `serveSession` serves one connected Port. It owns the
 * handshake, envelope and parameter validation, access checks, request routing, error mapping, push
 * numbering and subscription cleanup, so the venue (or the desktop hub) only writes handlers.
 *
 * What the peer sees:
 * - The first message must be `hello`; anything else gets `error` BAD_REQUEST and the port is closed.
 *   A wrong version gets UNSUPPORTED_VERSION and close; a refused `authenticate` its error and close.
 * - After the handshake, a message that fails the envelope schema is answered (`res` with BAD_REQUEST when it
 *   carries a usable id, a non-fatal `error` otherwise) and the session stays open. Unknown names get
 *   UNKNOWN_METHOD, missing access FORBIDDEN (UNAUTHENTICATED for an anonymous session), bad params
 *   BAD_REQUEST with `details.issues`. A handler's thrown ProtocolError becomes the reply; anything else
 *   thrown becomes INTERNAL with a generic message (the cause goes to `onInternalError`, not the wire).
 * - Pushes are numbered 1, 2, 3, ... per subscription, and always follow the `res` that created it.
 *
 * Slow consumers. A Port has no backpressure of its own. A transport that can tell when its outgoing buffer
 * is full passes `flow`: while `flow.congested()` is true, pushes are queued per subscription instead of
 * sent. On conflated channels (market data) a queued push is replaced by a newer one with the same
 * `conflateKey` (latest value wins); on the others (private streams) pushes queue in order. A subscription
 * whose queue would exceed `maxPendingPushes` (beyond what it pushed while starting: its snapshot) is ended
 * with RESYNC_REQUIRED (the client re-subscribes and gets a fresh snapshot), so nothing is dropped silently. The queues are sent when `flow.onDrain` fires or
 * when the transport calls `handle.flush()`. Replies to calls are never queued or dropped.
 */
import { CODES, isResultCode } from '../core/codes.js';
import type { ErrorShape } from '../core/codes.js';
import type { AccountId } from '../core/types.js';
import { ProtocolError, isProtocolError, issuesToDetails, toErrorShape } from './errors.js';
import {
  CLOSE_CODES,
  ClientMessageSchema,
  HelloSchema,
  PROTOCOL_VERSION,
  SessionInfoSchema,
  type Hello,
  type Req,
  type SessionInfo,
  type Sub,
  type Unsub,
} from './messages.js';
import {
  ACCESS_RANK,
  channelDef,
  isChannelName,
  isMethodName,
  methodDef,
  roleRank,
  type Access,
  type ChannelData,
  type ChannelDef,
  type ChannelName,
  type HandlerChannelParams,
  type HandlerParamsOf,
  type MethodName,
  type ResultOf,
} from './methods.js';
import { FAST_PARAMS, fastReq } from './fast.js';
import type { CloseInfo, Port } from './port.js';
import type { HubChannelName, HubMethodName } from './hub.js';

export interface SessionContext {
  /** Who this session is (from `authenticate`); the account every private method acts on. */
  readonly session: Readonly<SessionInfo>;
  /** What the client called itself in `hello`. */
  readonly client: string | undefined;
  /** True once the session has closed (a late result is then dropped). */
  readonly closed: boolean;
}

export type MethodHandler<M extends MethodName> = (
  params: HandlerParamsOf<M>,
  ctx: SessionContext,
) => ResultOf<M> | Promise<ResultOf<M>>;
/** Every exchange method (what a venue serves); the `hub.*` methods are the desktop hub's own. */
export type ExchangeMethodName = Exclude<MethodName, HubMethodName>;
export type ExchangeChannelName = Exclude<ChannelName, HubChannelName>;
export type MethodHandlers = { [M in ExchangeMethodName]: MethodHandler<M> };
export type HubMethodHandlers = { [M in HubMethodName]: MethodHandler<M> };
/** Any subset of the table's methods: a missing one answers UNKNOWN_METHOD ("not available on this server"). */
export type AnyMethodHandlers = Partial<{ [M in MethodName]: MethodHandler<M> }>;

export interface PushSink<C extends ChannelName> {
  /** Sends (or, for a slow consumer, queues) one push. Ignored once the subscription is over. */
  push(data: ChannelData<C>): void;
  /** Ends the stream with an error (`end` message); the stop function is then called. */
  end(error: ErrorShape | ProtocolError): void;
  /** False once the subscription is over (unsubscribed, ended, session closed). */
  readonly active: boolean;
}

/**
 * Starts a stream: validate, register listeners, usually push the current snapshot, and return the stop
 * function (called exactly once, on unsub, end or close). Throw a ProtocolError to refuse the subscription.
 * Pushes made before the function returns are sent after the `res` that confirms the subscription.
 */
export type ChannelHandler<C extends ChannelName> = (
  params: HandlerChannelParams<C>,
  ctx: SessionContext,
  sink: PushSink<C>,
) => (() => void) | Promise<() => void>;
export type ChannelHandlers = { [C in ExchangeChannelName]: ChannelHandler<C> };
export type HubChannelHandlers = { [C in HubChannelName]: ChannelHandler<C> };
export type AnyChannelHandlers = Partial<{ [C in ChannelName]: ChannelHandler<C> }>;

/** Backpressure hook for transports that have an outgoing buffer (e.g. ws `bufferedAmount`). */
export interface FlowControl {
  /** True while the outgoing buffer is above its high-water mark. */
  congested(): boolean;
  /** Calls `cb` whenever the buffer has drained; returns a function that unregisters it. */
  onDrain(cb: () => void): () => void;
}

export interface ServeOptions {
  /** Sent in `welcome`. */
  serverName: string;
  /** Decides who the peer is. Throw a ProtocolError (e.g. UNAUTHENTICATED) to refuse. Default: anonymous `{}`. */
  authenticate?(hello: Hello): SessionInfo | Promise<SessionInfo>;
  handlers: AnyMethodHandlers;
  channels?: AnyChannelHandlers;
  /** Default: the session role's rank (public < viewer < trader < admin) must reach the level; public always passes. */
  checkAccess?(access: Access, ctx: SessionContext): boolean;
  /** Per subscription: the most pushes (or conflation keys) queued for a slow consumer. Default 1000. */
  maxPendingPushes?: number;
  /** Most simultaneous subscriptions per session (more get LIMIT_EXCEEDED). Default 256. */
  maxSubscriptions?: number;
  /** Most messages held while `authenticate` runs (more close the session). Default 256. */
  maxQueuedBeforeWelcome?: number;
  /** Close the port if no hello arrives in this many ms. Default: no limit (set it for network transports). */
  helloTimeoutMs?: number;
  flow?: FlowControl;
  /** Debug: check every result and push against the table before sending (a mismatch becomes INTERNAL). */
  validateOutgoing?: boolean;
  /** Anything thrown that is not a ProtocolError, and other internal failures (for logs; never sent). */
  onInternalError?(error: unknown, where: { phase: string; method?: string; channel?: string }): void;
}

export interface SessionHandle {
  /** Closes the port and stops every subscription. */
  close(code?: number, reason?: string): void;
  /** Who the peer is, once the handshake is done. */
  readonly session: SessionInfo | undefined;
  readonly closed: boolean;
  /** Sends pushes queued for a slow consumer, as far as `flow.congested()` allows. */
  flush(): void;
}

/** The account a private method acts on: the session's. FORBIDDEN when the session has none. */
export function requireAccount(ctx: SessionContext): AccountId {
  const id = ctx.session.accountId;
  if (id === undefined) throw new ProtocolError('FORBIDDEN', 'This session has no trading account');
  return id;
}

/** The default access rule: public always; otherwise the session role's rank must reach the level. */
export function defaultCheckAccess(access: Access, ctx: SessionContext): boolean {
  return access === 'public' || roleRank(ctx.session.role) >= ACCESS_RANK[access];
}

export function serveSession(port: Port, options: ServeOptions): SessionHandle {
  return new Session(port, options).handle;
}

// ---------------------------------------------------------------- implementation

const NOT_ADMITTED: unique symbol = Symbol('not admitted');

/** A method's name as error details, and where a call of it is (for onInternalError): made once per method, not per request. */
interface CallSite {
  readonly name: { readonly method: string };
  readonly where: { readonly phase: 'call'; readonly method: string };
}
const CALL_SITES = new Map<MethodName, CallSite>();
function callSite(method: MethodName): CallSite {
  let s = CALL_SITES.get(method);
  if (s === undefined) CALL_SITES.set(method, (s = Object.freeze({ name: Object.freeze({ method }), where: Object.freeze({ phase: 'call', method }) })));
  return s;
}

type Phase = 'hello' | 'auth' | 'open' | 'closed';

interface ServerSub {
  readonly id: number;
  readonly channel: ChannelName;
  readonly def: ChannelDef;
  /** starting: handler not returned yet (pushes wait); live; over: stop was or will be called. */
  state: 'starting' | 'live' | 'over';
  stop: (() => void) | undefined;
  stopped: boolean;
  seq: number;
  /** In-order queue (non-conflated channels, or anything pushed while starting). */
  readonly queue: unknown[];
  /** Latest value per conflation key (conflated channels while the consumer is behind). */
  readonly latest: Map<string | number, unknown>;
  /** `end` asked for while starting: sent right after the `res` that confirms the subscription. */
  endError: ErrorShape | undefined;
  /**
   * Pushes queued while starting (the channel's snapshot, however large: every user, every instrument) and
   * not sent yet: allowed beyond maxPendingPushes, which bounds how far the consumer falls behind after them.
   */
  snapshot: number;
  /** Where a failed push is reported from (one object per subscription, not one per push). */
  readonly pushWhere: { phase: string; channel: ChannelName };
}

const NO_KEY = '';

class Session {
  readonly handle: SessionHandle;
  readonly #port: Port;
  readonly #opts: ServeOptions;
  readonly #maxPending: number;
  readonly #maxSubs: number;
  readonly #maxInbox: number;
  #phase: Phase = 'hello';
  #session: SessionInfo | undefined;
  #client: string | undefined;
  readonly #inbox: unknown[] = [];
  readonly #subs = new Map<number, ServerSub>();
  #nextSubId = 1;
  readonly #ctx: SessionContext;
  readonly #cleanups: (() => void)[] = [];
  #helloTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(port: Port, options: ServeOptions) {
    this.#port = port;
    this.#opts = options;
    this.#maxPending = options.maxPendingPushes ?? 1000;
    this.#maxSubs = options.maxSubscriptions ?? 256;
    this.#maxInbox = options.maxQueuedBeforeWelcome ?? 256;
    const session = (): SessionInfo | undefined => this.#session;
    const client = (): string | undefined => this.#client;
    const closed = (): boolean => this.#phase === 'closed';
    this.#ctx = {
      get session() {
        return session() ?? {};
      },
      get client() {
        return client();
      },
      get closed() {
        return closed();
      },
    };
    this.handle = {
      close: (code = CLOSE_CODES.NORMAL, reason) => this.#close(code, reason),
      get session() {
        return session();
      },
      get closed() {
        return closed();
      },
      flush: () => this.#drain(),
    };
    this.#cleanups.push(port.onMessage((msg) => this.#onMessage(msg)));
    this.#cleanups.push(port.onClose((info) => this.#onClose(info)));
    if (options.flow !== undefined) this.#cleanups.push(options.flow.onDrain(() => this.#drain()));
    if (options.helloTimeoutMs !== undefined && options.helloTimeoutMs > 0) {
      this.#helloTimer = setTimeout(() => {
        this.#helloTimer = undefined;
        if (this.#phase === 'hello' || this.#phase === 'auth') {
          this.#fatal({ code: 'TIMEOUT', message: 'No hello in time' }, CLOSE_CODES.POLICY);
        }
      }, options.helloTimeoutMs);
    }
    if (port.closed) this.#onClose({});
  }

  // ---------------------------------------------------------------- incoming

  #onMessage(raw: unknown): void {
    try {
      switch (this.#phase) {
        case 'closed':
          return;
        case 'hello':
          this.#onHello(raw);
          return;
        case 'auth':
          if (this.#inbox.length >= this.#maxInbox) {
            this.#fatal({ code: 'RATE_LIMITED', message: 'Too many messages before the welcome' }, CLOSE_CODES.POLICY);
            return;
          }
          this.#inbox.push(raw);
          return;
        case 'open':
          this.#dispatch(raw);
          return;
      }
    } catch (e) {
      // Never let one message take the session down.
      this.#internal(e, { phase: 'message' });
    }
  }

  #onHello(raw: unknown): void {
    const parsed = HelloSchema.safeParse(raw);
    if (!parsed.success) {
      this.#fatal(
        { code: 'BAD_REQUEST', message: 'The first message must be a valid hello', details: issuesToDetails(parsed.error.issues) },
        CLOSE_CODES.PROTOCOL_ERROR,
      );
      return;
    }
    const hello = parsed.data;
    if (hello.v !== PROTOCOL_VERSION) {
      this.#fatal(
        {
          code: 'UNSUPPORTED_VERSION',
          message: `Protocol version ${hello.v} is not supported; this server speaks ${PROTOCOL_VERSION}`,
          details: { supported: [PROTOCOL_VERSION], requested: hello.v },
        },
        CLOSE_CODES.PROTOCOL_ERROR,
      );
      return;
    }
    this.#client = hello.client;
    this.#phase = 'auth';
    let result: SessionInfo | Promise<SessionInfo>;
    try {
      result = this.#opts.authenticate ? this.#opts.authenticate(hello) : {};
    } catch (e) {
      this.#refuse(e);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (s) => this.#welcome(s),
        (e: unknown) => this.#refuse(e),
      );
    } else {
      this.#welcome(result);
    }
  }

  #welcome(info: SessionInfo): void {
    if (this.#phase !== 'auth') return;
    const parsed = SessionInfoSchema.safeParse(info ?? {});
    if (!parsed.success) {
      this.#internal(new Error('authenticate() returned an invalid SessionInfo'), { phase: 'hello' });
      this.#fatal({ code: 'INTERNAL', message: 'Internal error' }, CLOSE_CODES.INTERNAL);
      return;
    }
    this.#clearHelloTimer();
    this.#session = parsed.data;
    this.#phase = 'open';
    this.#send({ t: 'welcome', v: PROTOCOL_VERSION, server: this.#opts.serverName, session: parsed.data });
    const queued = this.#inbox.splice(0);
    for (const raw of queued) this.#onMessage(raw);
  }

  #refuse(e: unknown): void {
    if (this.#phase !== 'auth') return;
    if (!isProtocolError(e)) this.#internal(e, { phase: 'hello' });
    const shape = toErrorShape(e);
    this.#fatal(shape, shape.code === 'INTERNAL' ? CLOSE_CODES.INTERNAL : CLOSE_CODES.POLICY);
  }

  #dispatch(raw: unknown): void {
    const req = fastReq(raw);
    if (req !== undefined) {
      this.#onReq(req);
      return;
    }
    const parsed = ClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const details = issuesToDetails(parsed.error.issues);
      const id = usableId(raw);
      if (id !== undefined) this.#replyError(id, { code: 'BAD_REQUEST', message: 'Malformed message', details });
      else this.#send({ t: 'error', error: { code: 'BAD_REQUEST', message: 'Malformed message', details } });
      return;
    }
    const msg = parsed.data;
    switch (msg.t) {
      case 'hello':
        this.#send({ t: 'error', error: { code: 'BAD_REQUEST', message: 'Already said hello' } });
        return;
      case 'req':
        this.#onReq(msg);
        return;
      case 'sub':
        this.#onSub(msg);
        return;
      case 'unsub':
        this.#onUnsub(msg);
        return;
    }
  }

  #onReq(msg: Req): void {
    const { id, method } = msg;
    if (!isMethodName(method)) {
      this.#replyError(id, { code: 'UNKNOWN_METHOD', message: `Unknown method: ${method}` });
      return;
    }
    const def = methodDef(method);
    const handler = this.#opts.handlers[method] as ((p: unknown, ctx: SessionContext) => unknown) | undefined;
    const site = callSite(method);
    const params = this.#admit(id, def, msg.params, handler !== undefined, site.name, method, FAST_PARAMS[method]);
    if (params === NOT_ADMITTED) return;
    const where = site.where;
    let out: unknown;
    try {
      out = handler!(params, this.#ctx);
    } catch (e) {
      this.#replyThrown(id, e, where);
      return;
    }
    const finish = (result: unknown): void => {
      if (this.#phase === 'closed') return;
      if (this.#opts.validateOutgoing === true) {
        const r = def.result.safeParse(result);
        if (!r.success) {
          this.#internal(new Error(`Result of ${method} does not match its schema: ${JSON.stringify(issuesToDetails(r.error.issues))}`), where);
          this.#replyError(id, { code: 'INTERNAL', message: 'Internal error' });
          return;
        }
      }
      if (!this.#send({ t: 'res', id, ok: true, result }, where)) {
        this.#replyError(id, { code: 'INTERNAL', message: 'Internal error' });
      }
    };
    if (isThenable(out)) out.then(finish, (e: unknown) => this.#replyThrown(id, e, where));
    else finish(out);
  }

  #onSub(msg: Sub): void {
    const { id, channel } = msg;
    if (!isChannelName(channel)) {
      this.#replyError(id, { code: 'UNKNOWN_METHOD', message: `Unknown channel: ${channel}` });
      return;
    }
    const def = channelDef(channel);
    const start = this.#opts.channels?.[channel] as
      | ((p: unknown, ctx: SessionContext, sink: PushSink<ChannelName>) => unknown)
      | undefined;
    const params = this.#admit(id, def, msg.params, start !== undefined, { channel }, `channel ${channel}`);
    if (params === NOT_ADMITTED) return;
    if (this.#subs.size >= this.#maxSubs) {
      this.#replyError(id, { code: 'LIMIT_EXCEEDED', message: `At most ${this.#maxSubs} subscriptions per session` });
      return;
    }
    const sub: ServerSub = {
      id: this.#nextSubId++,
      channel,
      def,
      state: 'starting',
      stop: undefined,
      stopped: false,
      seq: 0,
      queue: [],
      latest: new Map(),
      endError: undefined,
      snapshot: 0,
      pushWhere: { phase: 'push', channel },
    };
    this.#subs.set(sub.id, sub);
    const where = { phase: 'subscribe', channel };
    const refused = (e: unknown): void => {
      sub.state = 'over';
      this.#subs.delete(sub.id);
      this.#replyThrown(id, e, where);
    };
    let out: unknown;
    try {
      out = start!(params, this.#ctx, this.#sink(sub));
    } catch (e) {
      refused(e);
      return;
    }
    const started = (stop: unknown): void => {
      sub.stop = typeof stop === 'function' ? (stop as () => void) : undefined;
      if (sub.state === 'over' || this.#phase === 'closed') {
        // Ended (or the session closed) before the handler returned: just stop it.
        this.#subs.delete(sub.id);
        this.#stop(sub);
        return;
      }
      this.#send({ t: 'res', id, ok: true, result: { sub: sub.id } }, where);
      sub.state = 'live';
      if (sub.endError !== undefined) this.#endSub(sub, sub.endError);
      else this.#drainSub(sub);
    };
    if (isThenable(out)) out.then(started, refused);
    else started(out);
  }

  #onUnsub(msg: Unsub): void {
    const sub = this.#subs.get(msg.sub);
    if (sub !== undefined && sub.state !== 'starting') this.#finish(sub);
    this.#send({ t: 'res', id: msg.id, ok: true, result: {} });
  }

  /**
   * The checks a request and a subscription share, in this order: access, parameters, whether this server
   * serves it. Replies with the error and returns NOT_ADMITTED, or returns the validated parameters.
   */
  #admit(
    id: number,
    def: Pick<ChannelDef, 'access' | 'params'>,
    raw: unknown,
    served: boolean,
    name: { method: string } | { channel: string },
    label: string,
    fast?: (raw: unknown) => unknown,
  ): unknown {
    const denied = this.#denied(def.access);
    if (denied) {
      this.#replyError(id, denied);
      return NOT_ADMITTED;
    }
    if (fast !== undefined && served) {
      const p = fast(raw);
      if (p !== undefined) return p;
    }
    const params = def.params.safeParse(raw ?? {});
    if (!params.success) {
      this.#replyError(id, { code: 'BAD_REQUEST', message: `Invalid parameters for ${label}`, details: { ...name, ...issuesToDetails(params.error.issues) } });
      return NOT_ADMITTED;
    }
    if (!served) {
      const what = 'method' in name ? name.method : `Channel ${name.channel}`;
      this.#replyError(id, { code: 'UNKNOWN_METHOD', message: `${what} is not available on this server`, details: name });
      return NOT_ADMITTED;
    }
    return params.data;
  }

  #denied(access: Access): ErrorShape | undefined {
    const check = this.#opts.checkAccess ?? defaultCheckAccess;
    let ok: boolean;
    try {
      ok = check(access, this.#ctx);
    } catch (e) {
      this.#internal(e, { phase: 'access' });
      ok = false;
    }
    if (ok) return undefined;
    const s = this.#session ?? {};
    return s.userId === undefined && s.role === undefined
      ? { code: 'UNAUTHENTICATED', message: 'Sign in first', details: { required: access } }
      : { code: 'FORBIDDEN', message: `Needs ${access} access`, details: { required: access } };
  }

  // ---------------------------------------------------------------- pushes

  #sink(sub: ServerSub): PushSink<ChannelName> {
    return {
      push: (data) => {
        if (sub.state === 'over' || sub.endError !== undefined || this.#phase === 'closed') return;
        this.#deliver(sub, data);
      },
      end: (error) => {
        if (sub.state === 'over' || sub.endError !== undefined || this.#phase === 'closed') return;
        const shape = isProtocolError(error) ? error.toShape() : toWireError(error);
        this.#endSub(sub, shape);
      },
      get active() {
        return sub.state !== 'over' && sub.endError === undefined;
      },
    };
  }

  #deliver(sub: ServerSub, data: unknown): void {
    if (sub.state === 'starting' || sub.queue.length > 0 || sub.latest.size > 0 || this.#congested()) {
      this.#enqueue(sub, data);
    } else {
      this.#sendPush(sub, data);
    }
  }

  #enqueue(sub: ServerSub, data: unknown): void {
    if (sub.def.conflate) {
      let key: string | number = NO_KEY;
      if (sub.def.conflateKey !== undefined) {
        try {
          key = sub.def.conflateKey(data);
        } catch (e) {
          this.#internal(e, { phase: 'push', channel: sub.channel });
          return;
        }
      }
      sub.latest.set(key, data);
      if (sub.state === 'starting') sub.snapshot = sub.latest.size;
      else if (sub.latest.size <= this.#maxPending + sub.snapshot) return;
    } else {
      sub.queue.push(data);
      if (sub.state === 'starting') sub.snapshot = sub.queue.length;
      else if (sub.queue.length <= this.#maxPending + sub.snapshot) return;
    }
    if (sub.state === 'starting') return;
    // Too far behind: end the stream rather than drop anything silently; the client resynchronises.
    this.#endSub(sub, {
      code: 'RESYNC_REQUIRED',
      message: 'The stream fell behind; resynchronise from a snapshot',
      details: { channel: sub.channel, maxPendingPushes: this.#maxPending },
    });
  }

  #sendPush(sub: ServerSub, data: unknown): void {
    if (this.#opts.validateOutgoing === true) {
      const r = sub.def.data.safeParse(data);
      if (!r.success) {
        this.#internal(
          new Error(`Push on ${sub.channel} does not match its schema: ${JSON.stringify(issuesToDetails(r.error.issues))}`),
          { phase: 'push', channel: sub.channel },
        );
        this.#endSub(sub, { code: 'INTERNAL', message: 'Internal error' });
        return;
      }
    }
    sub.seq++;
    const port = this.#port;
    if (port.sendPush === undefined) {
      if (!this.#send({ t: 'push', sub: sub.id, seq: sub.seq, data }, sub.pushWhere)) this.#endSub(sub, { code: 'INTERNAL', message: 'Internal error' });
      return;
    }
    if (this.#phase === 'closed' || port.closed) return;
    try {
      port.sendPush(sub.id, sub.seq, data);
    } catch (e) {
      this.#internal(e, sub.pushWhere);
      this.#endSub(sub, { code: 'INTERNAL', message: 'Internal error' });
    }
  }

  #drainSub(sub: ServerSub): boolean {
    while (sub.state === 'live') {
      if (sub.queue.length === 0 && sub.latest.size === 0) return true;
      if (this.#congested()) return false;
      // (a snapshot's allowance shrinks as it is sent: past it, the bound is maxPendingPushes again)
      if (sub.snapshot > 0) sub.snapshot--;
      if (sub.queue.length > 0) {
        this.#sendPush(sub, sub.queue.shift());
      } else {
        const [key, data] = sub.latest.entries().next().value as [string | number, unknown];
        sub.latest.delete(key);
        this.#sendPush(sub, data);
      }
    }
    return true;
  }

  #drain(): void {
    if (this.#phase !== 'open') return;
    for (const sub of [...this.#subs.values()]) {
      if (!this.#drainSub(sub)) return;
    }
  }

  #congested(): boolean {
    const flow = this.#opts.flow;
    if (flow === undefined) return false;
    try {
      return flow.congested();
    } catch (e) {
      this.#internal(e, { phase: 'flow' });
      return false;
    }
  }

  /** Ends a subscription from the server side: `end` message, then stop. */
  #endSub(sub: ServerSub, error: ErrorShape): void {
    if (sub.state === 'over') return;
    sub.queue.length = 0;
    sub.latest.clear();
    if (sub.state === 'starting') {
      // The client does not know the id yet: the `end` follows the `res` that confirms it.
      sub.endError ??= error;
      return;
    }
    sub.state = 'over';
    this.#subs.delete(sub.id);
    this.#send({ t: 'end', sub: sub.id, error });
    this.#stop(sub);
  }

  /** Ends a subscription the client asked to stop. */
  #finish(sub: ServerSub): void {
    sub.state = 'over';
    sub.queue.length = 0;
    sub.latest.clear();
    this.#subs.delete(sub.id);
    this.#stop(sub);
  }

  #stop(sub: ServerSub): void {
    if (sub.stopped || sub.stop === undefined) return;
    sub.stopped = true;
    try {
      sub.stop();
    } catch (e) {
      this.#internal(e, { phase: 'stop', channel: sub.channel });
    }
  }

  // ---------------------------------------------------------------- outgoing and lifecycle

  #send(msg: unknown, where: { phase: string; method?: string; channel?: string } = { phase: 'send' }): boolean {
    if (this.#phase === 'closed' || this.#port.closed) return true;
    try {
      this.#port.send(msg);
      return true;
    } catch (e) {
      this.#internal(e, where);
      return false;
    }
  }

  #replyError(id: number, error: ErrorShape): void {
    this.#send({ t: 'res', id, ok: false, error });
  }

  #replyThrown(id: number, e: unknown, where: { phase: string; method?: string; channel?: string }): void {
    if (!isProtocolError(e)) this.#internal(e, where);
    const shape = toErrorShape(e);
    if (!this.#send({ t: 'res', id, ok: false, error: shape }, where)) {
      this.#replyError(id, { code: 'INTERNAL', message: 'Internal error' });
    }
  }

  #internal(e: unknown, where: { phase: string; method?: string; channel?: string }): void {
    try {
      this.#opts.onInternalError?.(e, where);
    } catch {
      // a failing logger must not take the session down
    }
  }

  /** Sends a session-level error and closes. */
  #fatal(error: ErrorShape, code: number): void {
    this.#send({ t: 'error', error });
    this.#close(code, error.code);
  }

  #close(code: number, reason?: string): void {
    this.#shutdown();
    this.#port.close(code, reason);
  }

  #onClose(_info: CloseInfo): void {
    this.#shutdown();
  }

  #shutdown(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#clearHelloTimer();
    this.#inbox.length = 0;
    const subs = [...this.#subs.values()];
    this.#subs.clear();
    for (const sub of subs) {
      const wasStarting = sub.state === 'starting';
      sub.state = 'over';
      sub.queue.length = 0;
      sub.latest.clear();
      if (!wasStarting) this.#stop(sub); // a starting one is stopped when its handler returns
    }
    for (const cleanup of this.#cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // ignore
      }
    }
  }

  #clearHelloTimer(): void {
    if (this.#helloTimer !== undefined) {
      clearTimeout(this.#helloTimer);
      this.#helloTimer = undefined;
    }
  }
}

function isThenable(v: unknown): v is Promise<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

/**
 * The request id of a message the session will not serve (malformed, or refused by the transport before it
 * is read: rate-limited), if its envelope has one a reply can go to: a `req`, `sub` or `unsub` whose top-level
 * `id` is a non-negative safe integer.
 */
export function usableId(raw: unknown): number | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const { t, id } = raw as { t?: unknown; id?: unknown };
  if (t !== 'req' && t !== 'sub' && t !== 'unsub') return undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** A handler-supplied error shape, forced onto the wire shape (an unknown code becomes INTERNAL). */
function toWireError(e: ErrorShape): ErrorShape {
  if (typeof e !== 'object' || e === null || !isResultCode(e.code)) return { code: 'INTERNAL', message: CODES.INTERNAL.text };
  const message = typeof e.message === 'string' ? e.message : CODES[e.code].text;
  const details: unknown = e.details;
  return typeof details === 'object' && details !== null && !Array.isArray(details)
    ? { code: e.code, message, details: details as Record<string, unknown> }
    : { code: e.code, message };
}
