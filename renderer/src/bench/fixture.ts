/**
 * A synthetic in-page exchange for the UI bench: the protocol's own session server (`serveSession`) on an
 * in-memory Port pair with JSON serialisation, serving 20 symbols whose quotes stream at a chosen rate. The
 * app talks to it through the same Connection and client as to a real hub or server, so the bench measures
 * the UI's whole path (validation, cache, React, canvas), not the network.
 */
import {
  Connection,
  serveSession,
  type AccountView,
  type AnyChannelHandlers,
  type AnyMethodHandlers,
  type Candle,
  type InstrumentView,
  type Port,
  type PushSink,
  type Quote,
} from '../../../engine/protocol/index.js';
import type { Backend } from '../data/backend.js';

export const SYMBOLS = Array.from({ length: 20 }, (_, i) => `SYM${String(i).padStart(2, '0')}`);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `n` one-minute bars ending now, a random walk in minor units. */
export function syntheticBars(n: number, start = 10_000, seed = 1): Candle[] {
  const r = rng(seed);
  const out: Candle[] = new Array(n);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - (n - 1) * 60_000;
  let c = start;
  for (let i = 0; i < n; i++) {
    const o = c;
    c = Math.max(100, o + Math.round((r() - 0.5) * 40));
    const h = Math.max(o, c) + Math.round(r() * 15);
    const l = Math.max(1, Math.min(o, c) - Math.round(r() * 15));
    out[i] = { t: t0 + i * 60_000, o, h, l, c, v: 100 + Math.floor(r() * 5000) };
  }
  return out;
}

/** The synthetic exchange (runs in a Web Worker): serve sessions on ports, stream quotes at a rate. */
export interface FixtureServer {
  serve(port: Port): void;
  /** Starts streaming `perSecond` quote updates, spread over the symbols. */
  stream(perSecond: number): void;
  stop(): void;
  sent: number;
}

export function createFixtureServer(): FixtureServer {
  const r = rng(7);
  const inst: InstrumentView[] = SYMBOLS.map((symbol, i) => {
    const ref = 2_000 + i * 1_500;
    return { symbol, name: `Synthetic ${i}`, tickSize: 1, lotSize: 1, referencePrice: ref, bandBps: 2000, bandLow: Math.floor(ref * 0.8), bandHigh: Math.ceil(ref * 1.2), previousClose: ref, status: 'open' };
  });
  const quotes = new Map<string, Quote>();
  for (const i of inst) {
    const p = i.referencePrice;
    quotes.set(i.symbol, { symbol: i.symbol, bid: p - 1, bidSize: 300, ask: p + 1, askSize: 300, last: p, lastSize: 100, volume: 0, turnover: 0, open: p, high: p, low: p, previousClose: p, change: 0, changeBps: 0, ts: Date.now() });
  }
  const bars = new Map<string, Candle[]>();
  const quoteSinks = new Set<{ symbols: Set<string>; sink: PushSink<'quotes'> }>();
  const account: AccountView = { accountId: 1, cash: 10_000_000, reservedCash: 0, buyingPower: 10_000_000, realizedPnl: 0, unrealizedPnl: 0, equity: 10_000_000, openOrders: 0, dailyOrders: 0, allowShort: false, limits: {}, positions: [] };

  const handlers: AnyMethodHandlers = {
    'instruments.list': () => inst,
    'quote.get': (p) => quotes.get(p.symbol)!,
    'quotes.get': (p) => p.symbols.map((s) => quotes.get(s)!),
    'candles.get': (p) => {
      let b = bars.get(p.symbol);
      if (b === undefined) bars.set(p.symbol, (b = syntheticBars(3000, quotes.get(p.symbol)?.last ?? 10_000, p.symbol.length)));
      const to = p.to ?? Infinity;
      const within = b.filter((c) => c.t < to);
      return within.slice(Math.max(0, within.length - p.limit));
    },
    'trades.recent': () => [],
    'account.get': () => account,
    'positions.list': () => [],
    'orders.list': () => ({ items: [] }),
    'executions.list': () => ({ items: [] }),
  };
  const channels: AnyChannelHandlers = {
    quotes: (p, _ctx, sink) => {
      const entry = { symbols: new Set(p.symbols), sink };
      quoteSinks.add(entry);
      for (const s of p.symbols) {
        const q = quotes.get(s);
        if (q !== undefined) sink.push(q);
      }
      return () => quoteSinks.delete(entry);
    },
    account: (_p, _ctx, sink) => {
      sink.push(account);
      return () => undefined;
    },
    orders: () => () => undefined,
    executions: () => () => undefined,
    trades: () => () => undefined,
    candles: () => () => undefined,
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  const f: FixtureServer = {
    serve(port: Port) {
      serveSession(port, { serverName: 'UI bench (synthetic)', handlers, channels, authenticate: () => ({ userId: 'bench', accountId: 1, role: 'trader' }), maxPendingPushes: 100_000 });
    },
    sent: 0,
    stream(perSecond: number) {
      const tickMs = 10;
      const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
      let k = 0;
      const started = performance.now();
      timer = setInterval(() => {
        // Catch up to the wall clock so timer jitter does not lower the rate.
        const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
        const n = Math.min(due - f.sent, perTick * 5);
        for (let j = 0; j < n; j++) {
          const s = SYMBOLS[k++ % SYMBOLS.length]!;
          const q0 = quotes.get(s)!;
          const last = Math.max(100, (q0.last ?? 10_000) + Math.round((r() - 0.5) * 6));
          const q: Quote = { ...q0, last, bid: last - 1, ask: last + 1, lastSize: 100, volume: q0.volume + 100, high: Math.max(q0.high ?? last, last), low: Math.min(q0.low ?? last, last), change: last - q0.previousClose, changeBps: Math.trunc(((last - q0.previousClose) * 10_000) / q0.previousClose), ts: Date.now() };
          quotes.set(s, q);
          for (const e of quoteSinks) if (e.symbols.has(s)) e.sink.push(q);
          f.sent++;
        }
      }, tickMs);
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
    },
  };
  return f;
}

/** A protocol Port over a MessagePort (structured clone, like Electron's MessagePort to main). */
export function messagePortPort(mp: MessagePort): Port {
  let closed = false;
  const listeners = new Set<(m: unknown) => void>();
  const closeListeners = new Set<(i: { code?: number; reason?: string }) => void>();
  mp.onmessage = (ev: MessageEvent) => {
    const d = ev.data as { $close?: { code?: number; reason?: string } } | unknown;
    if (typeof d === 'object' && d !== null && '$close' in d) {
      if (closed) return;
      closed = true;
      const info = (d as { $close: { code?: number; reason?: string } }).$close;
      for (const cb of [...closeListeners]) cb(info);
      return;
    }
    for (const cb of [...listeners]) cb(d);
  };
  return {
    get closed() {
      return closed;
    },
    send(msg) {
      if (!closed) mp.postMessage(msg);
    },
    onMessage(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    onClose(cb) {
      closeListeners.add(cb);
      return () => closeListeners.delete(cb);
    },
    close(code, reason) {
      if (closed) return;
      closed = true;
      mp.postMessage({ $close: { code, reason } });
      queueMicrotask(() => {
        for (const cb of [...closeListeners]) cb({ code, reason });
      });
    },
  };
}

export interface Fixture {
  backend: Backend;
  stream(perSecond: number): void;
  stop(): void;
}

/** The page side: a Connection to the synthetic exchange in a Web Worker. */
export function createFixture(): Fixture {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const conn = new Connection({
    open: async () => {
      const ch = new MessageChannel();
      worker.postMessage({ t: 'connect', port: ch.port2 }, [ch.port2]);
      return messagePortPort(ch.port1);
    },
    hello: () => ({ client: 'bench' }),
  });
  return {
    backend: { kind: 'server', conn, auth: undefined, hub: false, name: 'UI bench' },
    stream: (rate) => worker.postMessage({ t: 'stream', rate }),
    stop: () => worker.postMessage({ t: 'stop' }),
  };
}
