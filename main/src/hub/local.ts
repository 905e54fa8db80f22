/**
 * The local upstream: the embedded venue (engine + journal in the user-data folder, with the simulated
 * market) served by the ordinary session server over an in-memory port pair, so local traffic gets exactly
 * the validation, access rules and error mapping a firm server applies. The local user is one trading
 * account; the link cannot drop (only `close()` ends it).
 */
import {
  ProtocolClient,
  ProtocolError,
  callEach,
  createPortPair,
  serveSession,
  type ChannelName,
  type ChannelParams,
  type MethodName,
  type SessionInfo,
  type Subscription,
} from '../../../engine/protocol/index.js';
import { venueHandlers, type Venue } from '../../../engine/venue/index.js';
import type { Upstream, UpstreamHandlers, UpstreamStatus, UpstreamSubscription } from './upstream.js';

export interface LocalUpstreamOptions {
  venue: Venue;
  /** The local user's account. */
  accountId: number;
  /** Role of the local user: 'trader' (default) or 'admin' (may list instruments and fund accounts). */
  role?: 'trader' | 'admin';
  serverName?: string;
  onInternalError?(error: unknown, where: { phase: string; method?: string; channel?: string }): void;
}

export class LocalUpstream implements Upstream {
  readonly #client: ProtocolClient;
  #status: UpstreamStatus = { state: 'connecting', attempt: 0 };
  readonly #listeners = new Set<(s: UpstreamStatus) => void>();
  readonly #opened: Promise<void>;

  constructor(o: LocalUpstreamOptions) {
    const [clientEnd, serverEnd] = createPortPair();
    const { handlers, channels } = venueHandlers(o.venue);
    const session: SessionInfo = { userId: 'local', accountId: o.accountId, role: o.role ?? 'trader' };
    serveSession(serverEnd, {
      serverName: o.serverName ?? 'Local simulation',
      authenticate: () => session,
      handlers,
      channels,
      ...(o.onInternalError ? { onInternalError: o.onInternalError } : {}),
    });
    this.#client = new ProtocolClient(clientEnd);
    this.#client.onClose((info) => this.#set({ state: 'closed', attempt: 0, ...(info.error ? { error: info.error } : {}) }));
    this.#opened = this.#client.connect({ client: 'tradedesk-hub' }).then(
      (welcome) => {
        if (this.#status.state === 'connecting') this.#set({ state: 'open', attempt: 0, welcome });
      },
      (e: unknown) => {
        const err = e instanceof ProtocolError ? e.toShape() : { code: 'UNAVAILABLE' as const, message: String(e) };
        this.#set({ state: 'closed', attempt: 0, error: err });
      },
    );
  }

  get status(): UpstreamStatus {
    return this.#status;
  }

  onStatus(cb: (s: UpstreamStatus) => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  async call(method: string, params: unknown): Promise<unknown> {
    await this.#opened;
    return this.#client.call(method as MethodName, params as never);
  }

  subscribe(channel: string, params: unknown, handlers: UpstreamHandlers): UpstreamSubscription {
    let active = true;
    let sub: Subscription | undefined;
    const ready = (async () => {
      await this.#opened;
      try {
        sub = await this.#client.subscribe(channel as ChannelName, params as ChannelParams<ChannelName>, {
          data: (d) => {
            if (active) handlers.data(d);
          },
          error: (e) => {
            if (!active) return;
            if (e.code === 'RESYNC_REQUIRED') {
              handlers.interrupted?.(); // the client re-subscribes by itself; `resubscribed` follows
              return;
            }
            if (e.code === 'INTERNAL') return; // one bad push dropped; the stream goes on
            active = false;
            handlers.error?.(e);
          },
          resubscribed: () => {
            if (active) handlers.resubscribed?.();
          },
        });
      } catch (e) {
        active = false;
        throw e;
      }
      if (!active) void sub.unsubscribe();
    })();
    ready.catch(() => undefined);
    return {
      get active() {
        return active;
      },
      ready,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        await ready.catch(() => undefined);
        await sub?.unsubscribe();
      },
    };
  }

  close(): void {
    this.#client.close();
  }

  #set(s: UpstreamStatus): void {
    this.#status = s;
    callEach(this.#listeners, () => s);
  }
}
