/**
 * Fan-out of exchange streams: every window's subscription joins a group keyed by channel and (validated,
 * defaulted) parameters; each group holds ONE upstream subscription, whatever the number of windows. So
 * three charts of ACME cost the firm server one `candles` stream.
 *
 * - Snapshot channels (the first push is the current state: quotes, depth, candles, index, account) keep
 *   the latest push (per symbol for quotes) and replay it to a window that joins a running group, so it
 *   starts like a fresh subscription would.
 * - After a reconnect the upstream stream is live again: snapshot channels simply get the fresh snapshot;
 *   event channels (trades, orders, executions) may have missed events, so their windows' streams end
 *   with RESYNC_REQUIRED (the window's client re-subscribes and reloads from a snapshot call).
 * - A refusal or a final end from upstream ends every window stream of the group with that error.
 * - `reset()` (the active connection changed) ends every window stream with RESYNC_REQUIRED and drops all
 *   upstream subscriptions; windows re-subscribe onto the new upstream.
 * - A group whose last window left keeps its upstream subscription for `lingerMs`, so a window that
 *   re-subscribes at once (after a RESYNC, a reload) does not cost an upstream round trip.
 */
import { ProtocolError, type ErrorShape, type PushSink } from '../../../engine/protocol/index.js';
import type { Upstream, UpstreamSubscription } from './upstream.js';

/** Channels whose first push is the current state (so the latest push can be replayed to a joiner). */
const SNAPSHOT_KEY: Readonly<Record<string, (data: unknown) => string>> = {
  quotes: (d) => String((d as { symbol?: unknown }).symbol),
  depth: () => '',
  candles: () => '',
  index: () => '',
  account: () => '',
};

type Sink = PushSink<never> & { push(data: unknown): void };

interface Group {
  readonly key: string;
  readonly channel: string;
  readonly upstream: Upstream | undefined;
  readonly sinks: Set<Sink>;
  readonly cache: Map<string, unknown> | undefined;
  sub: UpstreamSubscription | undefined;
  linger: ReturnType<typeof setTimeout> | undefined;
}

export interface FanoutStats {
  groups: number;
  windowStreams: number;
  upstreamSubscriptions: number;
}

/** Canonical JSON (sorted keys) so equal parameters give equal keys. */
export function canonicalKey(channel: string, params: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${channel} ${JSON.stringify(norm(params ?? {}))}`;
}

export class StreamFanout {
  readonly #groups = new Map<string, Group>();
  readonly #upstream: () => Upstream | undefined;
  readonly #lingerMs: number;

  constructor(upstream: () => Upstream | undefined, options: { lingerMs?: number } = {}) {
    this.#upstream = upstream;
    this.#lingerMs = options.lingerMs ?? 2000;
  }

  stats(): FanoutStats {
    let windowStreams = 0;
    let upstreamSubscriptions = 0;
    for (const g of this.#groups.values()) {
      windowStreams += g.sinks.size;
      if (g.sub?.active === true) upstreamSubscriptions++;
    }
    return { groups: this.#groups.size, windowStreams, upstreamSubscriptions };
  }

  /**
   * A window subscribes. Resolves with the stop function once the stream is accepted; rejects with the
   * upstream's refusal when the upstream is connected and refuses (UNKNOWN_SYMBOL, FORBIDDEN, ...).
   */
  async join(channel: string, params: unknown, sink: Sink): Promise<() => void> {
    const upstream = this.#upstream();
    const key = canonicalKey(channel, params);
    let g = this.#groups.get(key);
    if (g !== undefined && (g.upstream !== upstream || (g.sub !== undefined && !g.sub.active))) {
      this.#drop(g);
      g = undefined;
    }
    if (g === undefined) g = this.#create(key, channel, params, upstream);
    const group = g;
    if (group.linger !== undefined) {
      clearTimeout(group.linger);
      group.linger = undefined;
    }
    group.sinks.add(sink);
    const stop = (): void => this.#leave(group, sink);
    // While the upstream is connected, wait for its answer so a refusal reaches this window as the reply
    // to its subscribe. While it is (re)connecting, accept now: data follows once it is live.
    if (group.sub !== undefined && upstream?.status.state === 'open') {
      try {
        await group.sub.ready;
      } catch (e) {
        if (!group.sub.active) {
          // Refused: this window gets the refusal as its reply; any other window that joined meanwhile
          // gets it as the end of its stream.
          group.sinks.delete(sink);
          if (this.#groups.get(key) === group) this.#groups.delete(key);
          const shape = e instanceof ProtocolError ? e.toShape() : { code: 'INTERNAL' as const, message: 'Subscription failed' };
          for (const s of [...group.sinks]) s.end(shape);
          group.sinks.clear();
          throw e;
        }
      }
    }
    if (!sink.active) return stop;
    if (group.cache !== undefined) for (const d of group.cache.values()) sink.push(d);
    return stop;
  }

  /** The active connection changed: every window stream ends with RESYNC_REQUIRED. */
  reset(reason: string): void {
    const error: ErrorShape = { code: 'RESYNC_REQUIRED', message: `The connection changed (${reason}); resynchronise`, details: { reason } };
    for (const g of [...this.#groups.values()]) {
      this.#groups.delete(g.key);
      this.#unsubscribe(g);
      for (const s of [...g.sinks]) s.end(error);
      g.sinks.clear();
    }
  }

  #create(key: string, channel: string, params: unknown, upstream: Upstream | undefined): Group {
    const keyOf = SNAPSHOT_KEY[channel];
    const g: Group = {
      key,
      channel,
      upstream,
      sinks: new Set(),
      cache: keyOf !== undefined ? new Map() : undefined,
      sub: undefined,
      linger: undefined,
    };
    this.#groups.set(key, g);
    if (upstream !== undefined) {
      g.sub = upstream.subscribe(channel, params, {
        data: (d) => {
          if (this.#groups.get(key) !== g) return;
          if (keyOf !== undefined) g.cache?.set(keyOf(d), d);
          for (const s of [...g.sinks]) s.push(d);
        },
        error: (e: ProtocolError) => {
          if (this.#groups.get(key) !== g) return;
          this.#groups.delete(key);
          const shape = e.toShape();
          for (const s of [...g.sinks]) s.end(shape);
          g.sinks.clear();
        },
        interrupted: () => {
          g.cache?.clear(); // stale: a joiner must not get it
        },
        resubscribed: () => {
          if (this.#groups.get(key) !== g || keyOf !== undefined) return;
          const error: ErrorShape = {
            code: 'RESYNC_REQUIRED',
            message: `The ${channel} stream was interrupted; reload and resynchronise`,
            details: { channel, reason: 'reconnected' },
          };
          for (const s of [...g.sinks]) s.end(error);
        },
      });
    }
    return g;
  }

  #leave(g: Group, sink: Sink): void {
    if (!g.sinks.delete(sink) || g.sinks.size > 0) return;
    if (this.#groups.get(g.key) !== g) return;
    if (this.#lingerMs <= 0 || g.sub === undefined || !g.sub.active) {
      this.#drop(g);
      return;
    }
    g.linger = setTimeout(() => {
      g.linger = undefined;
      if (g.sinks.size === 0 && this.#groups.get(g.key) === g) this.#drop(g);
    }, this.#lingerMs);
    g.linger.unref?.();
  }

  #drop(g: Group): void {
    if (this.#groups.get(g.key) === g) this.#groups.delete(g.key);
    this.#unsubscribe(g);
  }

  #unsubscribe(g: Group): void {
    if (g.linger !== undefined) clearTimeout(g.linger);
    g.linger = undefined;
    const sub = g.sub;
    g.sub = undefined;
    if (sub !== undefined) void sub.unsubscribe().catch(() => undefined);
  }
}
