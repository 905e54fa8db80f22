/**
 * The market-data hub: subscribes once to the venue's market changes and serves the public channels to
 * every session. Quotes, depth, candles and index values are coalesced: a change marks the symbol dirty,
 * and a tick reads the latest value per dirty symbol once, encodes it once and pushes it to each subscriber
 * (latest wins; a subscriber that is behind conflates further inside its session; a candle bar that closed
 * within a tick goes out in its final state before the next bar, see CandleFeed). Ticks start at most
 * every `intervalMs` and only when something changed: the first change after a quiet spell goes out at
 * the next turn of the event loop, and after a tick that took longer than the interval the next one waits
 * for the changes that arrive meanwhile (a fixed timer would fire at once, find nothing and wait a whole
 * interval: with 100,000 pushes per tick that halved the pushes per second). The pushes
 * of one tick are written with each socket corked, so a subscriber of many symbols gets one TCP write per
 * tick. Trade prints are never coalesced: each print is encoded once and pushed in order at once.
 *
 * The private channels (orders, executions, account) are the venue's own (engine/venue/serve.ts): straight
 * from its per-account subscriptions to the session, which queues them for a slow consumer and ends them
 * with RESYNC_REQUIRED when it falls too far behind (the WebSocket layer then disconnects that client).
 */
import {
  ProtocolError,
  type ChannelData,
  type ChannelHandlers,
  type PushSink,
  type Timeframe,
} from '../../../engine/protocol/index.js';
import { CandleFeed, type MarketChange, type Venue } from '../../../engine/venue/index.js';
import { preEncode } from './encoded.js';

/** What the hub needs from a connection: batching of its writes. */
export interface Corkable {
  cork(): void;
  uncork(): void;
  /** The hub's mark: the tick in which it last corked this connection. */
  hubTick?: number;
}

interface Sub<C extends keyof ChannelHandlers> {
  sink: PushSink<C>;
  conn: Corkable;
}
interface DepthSub extends Sub<'depth'> {
  levels: number;
}

export interface HubStats {
  framesSent: number;
  ticks: number;
}

export class MarketHub {
  readonly stats: HubStats = { framesSent: 0, ticks: 0 };
  readonly #v: Venue;
  readonly #quotes = new Map<string, Set<Sub<'quotes'>>>();
  readonly #depth = new Map<string, Set<DepthSub>>();
  readonly #candles = new Map<string, Set<Sub<'candles'>>>();
  readonly #trades = new Map<string, Set<Sub<'trades'>>>();
  readonly #index = new Map<string, Set<Sub<'index'>>>();
  /** Index name -> its constituent symbols (for indexes with subscribers). */
  readonly #indexSymbols = new Map<string, readonly string[]>();
  /** `symbol|timeframe` -> what its subscribers were pushed last (for keys with subscribers). */
  readonly #candleFeeds = new Map<string, CandleFeed>();
  /** Index name -> the value and previous close last pushed (for indexes with subscribers). */
  readonly #lastIndex = new Map<string, string>();
  #dirty = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() when the last tick began. */
  #lastTick = -Infinity;
  readonly #fire = (): void => {
    this.#timer = undefined;
    // Node's timers count from the event loop's clock as of the turn that set them, which a busy turn leaves
    // behind, so one can fire a few ms early: a tick never begins less than an interval after the last one.
    if (performance.now() - this.#lastTick < this.intervalMs) {
      this.#schedule();
      return;
    }
    this.tick();
  };
  #unsub: (() => void) | undefined;
  readonly #corked: Corkable[] = [];
  #tickNo = 0;

  constructor(venue: Venue, readonly intervalMs: number) {
    this.#v = venue;
  }

  start(): void {
    if (this.#unsub !== undefined) return;
    this.#unsub = this.#v.subscribeMarket('*', (c) => this.#onChange(c));
    if (this.#dirty.size > 0) this.#schedule();
  }

  stop(): void {
    this.#unsub?.();
    this.#unsub = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The next tick: an interval after the last one began, or at the next turn if that is past. */
  #schedule(): void {
    if (this.#unsub === undefined || this.#timer !== undefined) return;
    this.#timer = setTimeout(this.#fire, Math.max(0, this.#lastTick + this.intervalMs - performance.now()));
    this.#timer.unref();
  }

  get subscriberCount(): number {
    let n = 0;
    for (const m of [this.#quotes, this.#depth, this.#candles, this.#trades, this.#index]) for (const s of m.values()) n += s.size;
    return n;
  }

  #onChange(c: MarketChange): void {
    this.#dirty.add(c.symbol);
    this.#schedule();
    if (c.trades.length === 0) return;
    const subs = this.#trades.get(c.symbol);
    if (subs === undefined || subs.size === 0) return;
    for (const t of c.trades) {
      const print = preEncode({ ...t });
      for (const s of subs) {
        s.sink.push(print);
        this.stats.framesSent++;
      }
    }
  }

  #cork(conn: Corkable): void {
    if (conn.hubTick === this.#tickNo) return;
    conn.hubTick = this.#tickNo;
    this.#corked.push(conn);
    conn.cork();
  }

  /** One coalescing interval: push the latest value of everything that changed. */
  tick(): void {
    const dirty = this.#dirty;
    if (dirty.size === 0) return;
    this.#lastTick = performance.now();
    this.#dirty = new Set();
    this.stats.ticks++;
    this.#tickNo++;
    const view = this.#v.view;
    const indexes = new Set<string>();
    try {
      for (const symbol of dirty) {
        const qs = this.#quotes.get(symbol);
        if (qs !== undefined && qs.size > 0) {
          const q = view.quote(symbol);
          if (q !== undefined) {
            const data = preEncode(q);
            for (const s of qs) {
              this.#cork(s.conn);
              s.sink.push(data);
            }
            this.stats.framesSent += qs.size;
          }
        }
        const ds = this.#depth.get(symbol);
        if (ds !== undefined && ds.size > 0) {
          const byLevels = new Map<number, ChannelData<'depth'>>();
          for (const s of ds) {
            let d = byLevels.get(s.levels);
            if (d === undefined) {
              const raw = view.depth(symbol, s.levels);
              if (raw === undefined) continue;
              byLevels.set(s.levels, (d = preEncode(raw)));
            }
            this.#cork(s.conn);
            s.sink.push(d);
            this.stats.framesSent++;
          }
        }
        for (const tf of ['1m', '5m', '15m', '1h', '1d'] as const) {
          const key = `${symbol}|${tf}`;
          const cs = this.#candles.get(key);
          if (cs === undefined || cs.size === 0) continue;
          const feed = this.#candleFeeds.get(key);
          if (feed === undefined) continue;
          // the bar being built, after the final state of one that closed within this tick
          for (const bar of feed.next(view)) {
            const data = preEncode(bar);
            for (const s of cs) {
              this.#cork(s.conn);
              s.sink.push(data);
            }
            this.stats.framesSent += cs.size;
          }
        }
      }
      for (const [name, symbols] of this.#indexSymbols) if (symbols.some((s) => dirty.has(s))) indexes.add(name);
      for (const name of indexes) {
        const subs = this.#index.get(name);
        if (subs === undefined || subs.size === 0) continue;
        const iv = view.index(name);
        if (iv === undefined) continue;
        // (its previous close changes alone at a session's end: re-based, the value unchanged)
        const sig = `${iv.value},${iv.previousClose}`;
        if (this.#lastIndex.get(name) === sig) continue;
        this.#lastIndex.set(name, sig);
        const data = preEncode(iv);
        for (const s of subs) {
          this.#cork(s.conn);
          s.sink.push(data);
        }
        this.stats.framesSent += subs.size;
      }
    } finally {
      for (const c of this.#corked) c.uncork();
      this.#corked.length = 0;
    }
  }

  /** The channel handlers for one connection. */
  channels(conn: Corkable): Pick<ChannelHandlers, 'quotes' | 'depth' | 'candles' | 'trades' | 'index'> {
    const v = this.#v;
    const add = <T>(map: Map<string, Set<T>>, key: string, s: T): (() => void) => {
      let set = map.get(key);
      if (set === undefined) map.set(key, (set = new Set()));
      set.add(s);
      return () => {
        const cur = map.get(key);
        if (cur === undefined) return;
        cur.delete(s);
        if (cur.size === 0) map.delete(key);
      };
    };
    const known = (symbol: string): void => {
      if (v.view.instrument(symbol) === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${symbol}`, { symbol });
    };
    return {
      quotes: ({ symbols }, _ctx, sink) => {
        const unique = [...new Set(symbols)];
        unique.forEach(known);
        const s: Sub<'quotes'> = { sink, conn };
        const stops = unique.map((sym) => add(this.#quotes, sym, s));
        for (const sym of unique) sink.push(v.view.quote(sym)!);
        return () => stops.forEach((f) => f());
      },
      depth: ({ symbol, levels }, _ctx, sink) => {
        known(symbol);
        const stop = add(this.#depth, symbol, { sink, conn, levels });
        sink.push(v.view.depth(symbol, levels)!);
        return stop;
      },
      candles: ({ symbol, timeframe }, _ctx, sink) => {
        known(symbol);
        const key = `${symbol}|${timeframe satisfies Timeframe}`;
        const stop = add(this.#candles, key, { sink, conn });
        const bar = v.view.candles(symbol, timeframe, 1).at(-1);
        if (bar !== undefined) sink.push(bar);
        if (!this.#candleFeeds.has(key)) {
          // the first subscriber: the feed starts from its value (a later one is pushed what the others are)
          const feed = new CandleFeed(symbol, timeframe);
          if (bar !== undefined) feed.pushed(bar);
          this.#candleFeeds.set(key, feed);
        }
        return () => {
          stop();
          if (!this.#candles.has(key)) this.#candleFeeds.delete(key);
        };
      },
      trades: ({ symbol }, _ctx, sink) => {
        known(symbol);
        return add(this.#trades, symbol, { sink, conn });
      },
      index: ({ name }, _ctx, sink) => {
        const iv = v.view.index(name);
        if (iv === undefined) throw new ProtocolError('NOT_FOUND', `No index named ${name}`, { name });
        this.#indexSymbols.set(name, iv.constituents.map((c) => c.symbol));
        const stop = add(this.#index, name, { sink, conn });
        sink.push(iv);
        return () => {
          stop();
          if (this.#index.has(name)) return;
          // nobody to have seen it: the next subscriber's snapshot is its value, and any change after is pushed
          this.#indexSymbols.delete(name);
          this.#lastIndex.delete(name);
        };
      },
    };
  }
}
