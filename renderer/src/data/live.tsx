/**
 * The data layer: protocol requests and subscriptions feeding the react-query cache. Requests are query
 * functions; each stream writes its pushes into the same cache keys with `setQueryData`, so a component
 * reads one value that is fetched once and then kept live (no polling). Streams are shared and reference
 * counted by channel + params; after a reconnect the snapshot queries are refetched (the stream's first push
 * is fresh anyway). Quotes are coalesced per animation frame: the latest quote per symbol wins.
 */
import { QueryClient, QueryClientProvider, notifyManager, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';

// Render cache changes in the same frame they happen in (a microtask), not in a later timer task: quote
// batches are written in requestAnimationFrame, so the UI paints them in that very frame.
notifyManager.setScheduler(queueMicrotask);
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import type {
  ChannelData,
  ChannelName,
  ChannelParams,
  ConnectionStatus,
  HubStatus,
} from '../../../engine/protocol/index.js';
import type { Backend } from './backend.js';
import { SharedStreams, VenueClock } from './streams.js';
import { upsertBy, upsertOrderList } from './upsert.js';
import type { AccountView, Candle, Execution, IndexView, InstrumentView, OrderRecord, Quote, Timeframe, TradePrint } from './types.js';

export const keys = {
  instruments: ['instruments'] as const,
  quote: (s: string) => ['quote', s] as const,
  candles: (s: string, tf: Timeframe) => ['candles', s, tf] as const,
  orders: ['orders'] as const,
  executions: ['executions'] as const,
  rejects: ['rejects'] as const,
  account: ['account'] as const,
  trades: (s: string) => ['trades', s] as const,
  index: (n: string) => ['index', n] as const,
};

/** A rejection the venue answered to a request (kept beside the order records for the blotter). */
export interface LocalReject {
  key: string;
  ts: number;
  symbol: string;
  side: string;
  orderType: string;
  qty: number;
  price?: number | undefined;
  code: string;
  message: string;
  action: 'place' | 'modify' | 'cancel';
}

/** Candles as the chart keeps them: one array, appended and updated in place; `rev` changes on every edit. */
export interface CandleBook {
  bars: Candle[];
  rev: number;
  /** What the last edit was: the chart uses `update` for the last bar and `setData` otherwise. */
  last: 'reset' | 'update' | 'prepend';
  /** No older history exists before bars[0]. */
  complete: boolean;
}

export class Live {
  readonly qc: QueryClient;
  readonly backend: Backend;
  readonly #streams: SharedStreams;
  #quoteBuf = new Map<string, Quote>();
  #quoteFlush = 0;
  hubStatus: HubStatus | undefined;
  /**
   * The profile a hub.connect from this window is switching to, until the hub has switched to it or answered:
   * the hub's status still names the profile before (reading a stored session may wait for the keychain).
   */
  connecting: { profileId: string; name: string } | undefined;
  #hubListeners = new Set<() => void>();
  quotesReceived = 0;
  #clock = new VenueClock();

  constructor(backend: Backend, qc?: QueryClient) {
    this.backend = backend;
    this.#streams = new SharedStreams((channel, params, handlers) => this.conn.subscribe(channel, params, handlers));
    this.qc =
      qc ??
      new QueryClient({
        defaultOptions: { queries: { staleTime: Infinity, gcTime: 5 * 60_000, retry: 2, retryDelay: 500, refetchOnWindowFocus: false } },
      });
    // Orders and executions change one item per push and the upserts keep the other items as they were:
    // comparing the whole new list with the old one, deeply, on every push is work for nothing.
    for (const key of [keys.orders, keys.executions]) this.qc.setQueryDefaults(key, { structuralSharing: false });
  }

  get conn() {
    return this.backend.conn;
  }

  start(): void {
    const conn = this.conn;
    if (this.backend.hub) {
      conn.subscribe('hub.status', {}, {
        data: (s) => {
          const prev = this.hubStatus;
          this.hubStatus = s;
          // the hub switched to the profile being connected: its status tells from here on
          if (this.connecting?.profileId === s.profileId) this.connecting = undefined;
          for (const l of this.#hubListeners) l();
          // Another venue (profile switch) or a fresh sign-in: everything cached belongs to the old session.
          const other = prev !== undefined && (prev.profileId !== s.profileId || prev.accountId !== s.accountId);
          const mine = (q: { queryKey: readonly unknown[] }) => !String(q.queryKey[0]).startsWith('hub.');
          // The old venue's quotes, orders and account must not stay on screen under the new badge; nor its clock.
          if (other) {
            void this.qc.resetQueries({ predicate: mine });
            this.#clock = new VenueClock();
          }
          if (s.state !== 'connected') return;
          if (!other && prev?.state === 'login_required') void this.qc.resetQueries({ predicate: mine });
          else if (prev !== undefined && prev.state !== 'connected') void this.qc.invalidateQueries({ predicate: mine });
          else void this.qc.invalidateQueries({ predicate: (q) => q.state.status === 'error' });
        },
      });
    }
    conn.onStatus((s) => {
      if (s.state === 'open') void this.qc.invalidateQueries({ predicate: (q) => q.state.status === 'error' });
    });
    conn.start();
  }

  /** hub.connect: `connecting` names the profile meanwhile. Throws what the hub answered. */
  async connectProfile(profileId: string, name: string): Promise<void> {
    const mine = { profileId, name };
    this.connecting = mine;
    for (const l of this.#hubListeners) l();
    try {
      await this.conn.call('hub.connect', { profileId });
    } finally {
      if (this.connecting === mine) {
        this.connecting = undefined;
        for (const l of this.#hubListeners) l();
      }
    }
  }

  onHubStatus(cb: () => void): () => void {
    this.#hubListeners.add(cb);
    return () => this.#hubListeners.delete(cb);
  }

  /**
   * Shares one stream per channel + params (SharedStreams: every call is a subscriber of its own, even with
   * the same handler function as another); `onResubscribed` runs after reconnects (refetch snapshots).
   */
  retain<C extends ChannelName>(channel: C, params: ChannelParams<C>, onData: (d: ChannelData<C>) => void, onResubscribed?: () => void): () => void {
    return this.#streams.retain(channel, params, onData, onResubscribed);
  }

  /** Quotes are buffered and written to the cache once per frame (latest per symbol wins). */
  pushQuote = (q: Quote): void => {
    this.quotesReceived++;
    this.#clock.note(q.ts);
    this.#quoteBuf.set(q.symbol, q);
    if (this.#quoteFlush !== 0) return;
    const flush = () => {
      this.#quoteFlush = 0;
      const batch = [...this.#quoteBuf.values()];
      this.#quoteBuf.clear();
      notifyManager.batch(() => {
        for (const x of batch) this.qc.setQueryData(keys.quote(x.symbol), x);
      });
    };
    this.#quoteFlush = requestAnimationFrame(flush);
  };

  /** Every working order and the newest ended ones (MAX_ENDED_ORDERS): the list does not grow for the session. */
  upsertOrder = (o: OrderRecord): void => {
    this.noteVenueTime(o.updatedTs);
    this.qc.setQueryData<OrderRecord[]>(keys.orders, (prev) => upsertOrderList(prev, o));
  };

  /** Before the list has loaded a push is dropped: the list, answered after it on the same connection, holds it. */
  upsertInstrument = (i: InstrumentView): void => {
    this.qc.setQueryData<InstrumentView[]>(keys.instruments, (prev) => upsertBy(prev, i, (x) => x.symbol === i.symbol));
  };

  addExecution = (e: Execution): void => {
    this.noteVenueTime(e.ts);
    this.qc.setQueryData<Execution[]>(keys.executions, (prev) => {
      const list = prev ?? [];
      if (list.some((x) => x.tradeId === e.tradeId && x.orderId === e.orderId)) return list;
      return [e, ...list].slice(0, 1000);
    });
  };

  /**
   * A refusal the venue answered, for the blotter's Rejected tab. Stamped with the venue's clock (venueNow), as the venue stamps its own records: in the simulation that clock is not the
   * wall clock, and a refusal stamped by the wall clock would sort and read apart from the orders around it.
   */
  addReject = (r: Omit<LocalReject, 'ts'>): void => {
    const row: LocalReject = { ...r, ts: this.venueNow() };
    this.qc.setQueryData<LocalReject[]>(keys.rejects, (prev) => [row, ...(prev ?? [])].slice(0, 200));
  };

  /** Notes a time the venue stamped (a quote, an order, a fill, a trade): venueNow is the latest of them. */
  noteVenueTime(ts: number): void {
    this.#clock.note(ts);
  }

  /** The venue's time as far as this client knows (VenueClock); the wall clock before anything came. */
  venueNow(): number {
    return this.#clock.now();
  }
}

const LiveContext = createContext<Live | undefined>(undefined);

export function LiveProvider({ live, children }: { live: Live; children: ReactNode }) {
  return (
    <LiveContext.Provider value={live}>
      <QueryClientProvider client={live.qc}>{children}</QueryClientProvider>
    </LiveContext.Provider>
  );
}

export function useLive(): Live {
  const l = useContext(LiveContext);
  if (l === undefined) throw new Error('useLive outside LiveProvider');
  return l;
}

// ---------------------------------------------------------------- connection state

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'login_required';

export interface LinkInfo {
  state: LinkState;
  /** SIMULATION (local venue) or the firm server's name. */
  mode: 'simulation' | 'firm';
  serverName: string;
  detail: string | undefined;
  retryInMs: number | undefined;
}

export function useConnStatus(): ConnectionStatus {
  const live = useLive();
  return useSyncExternalStore(
    (cb) => live.conn.onStatus(cb),
    () => live.conn.status,
  );
}

/** The desktop hub's status (undefined without a hub, or before it is known). */
export function useHubStatus(): Live['hubStatus'] {
  const live = useLive();
  return useSyncExternalStore(
    (cb) => live.onHubStatus(cb),
    () => live.hubStatus,
  );
}

/** The profile this window is connecting to while the hub has not switched to it yet (Live.connecting). */
export function useConnecting(): Live['connecting'] {
  const live = useLive();
  return useSyncExternalStore(
    (cb) => live.onHubStatus(cb),
    () => live.connecting,
  );
}

export function useLink(): LinkInfo {
  const live = useLive();
  const cs = useConnStatus();
  const hub = useHubStatus();
  const transport: LinkState =
    cs.state === 'open' ? 'connected' : cs.state === 'closed' ? 'offline' : cs.state === 'idle' || (cs.state === 'connecting' && cs.attempt === 0) ? 'connecting' : 'reconnecting';
  const err = cs.error !== undefined ? cs.error.message : undefined;
  if (live.backend.hub) {
    const mode = hub?.mode === 'firm' ? 'firm' : 'simulation';
    const serverName = hub?.serverName ?? hub?.profileName ?? 'Local simulation';
    if (transport !== 'connected' || hub === undefined) {
      return { state: transport === 'connected' ? 'connecting' : transport, mode, serverName, detail: err, retryInMs: cs.retryInMs };
    }
    return { state: hub.state, mode, serverName, detail: hub.error?.message, retryInMs: hub.retryInMs };
  }
  const serverName = cs.welcome?.server ?? live.backend.name ?? 'Exchange server';
  return { state: transport, mode: 'firm', serverName, detail: err, retryInMs: cs.retryInMs };
}

// ---------------------------------------------------------------- reference data

/**
 * The instruments, kept live: a listing, a halt or a resume (by any admin) and a session's re-basing arrive
 * on the `instruments` stream and replace that instrument in the cached list.
 */
export function useInstruments() {
  const live = useLive();
  useEffect(() => live.retain('instruments', {}, live.upsertInstrument, () => void live.qc.invalidateQueries({ queryKey: keys.instruments })), [live]);
  return useQuery({ queryKey: keys.instruments, queryFn: () => live.conn.call('instruments.list') });
}

export function useInstrument(symbol: string): InstrumentView | undefined {
  const q = useInstruments();
  return useMemo(() => q.data?.find((i) => i.symbol === symbol), [q.data, symbol]);
}

// ---------------------------------------------------------------- market data

/** Keeps a quotes stream open for these symbols; the quotes land in the cache under keys.quote(symbol). */
export function useQuoteStream(symbols: readonly string[]): void {
  const live = useLive();
  const key = [...new Set(symbols)].sort().join(',');
  useEffect(() => {
    if (key === '') return;
    return live.retain('quotes', { symbols: key.split(',') }, live.pushQuote);
  }, [live, key]);
}

export function useQuote(symbol: string): Quote | undefined {
  const live = useLive();
  useQuoteStream(symbol === '' ? [] : [symbol]);
  const q = useQuery({
    queryKey: keys.quote(symbol),
    queryFn: () => live.conn.call('quote.get', { symbol }),
    enabled: symbol !== '',
  });
  return q.data;
}

/** Reads a quote from the cache (someone else keeps the stream open, e.g. the watchlist). */
export function useCachedQuote(symbol: string): Quote | undefined {
  const live = useLive();
  const q = useQuery({ queryKey: keys.quote(symbol), queryFn: () => live.conn.call('quote.get', { symbol }), enabled: false });
  return q.data;
}

/**
 * The last trade price of each symbol whose quote is in the cache (someone else keeps the streams open), by
 * symbol. The component re-renders when one of them changes, and only then (the combined object is kept
 * while equal), in the same commit as every other reader of those quotes (a positions row): figures derived
 * from them agree on screen.
 */
export function useCachedLasts(symbols: readonly string[]): Readonly<Record<string, number | null>> {
  const live = useLive();
  return useQueries({
    queries: symbols.map((symbol) => ({
      queryKey: keys.quote(symbol),
      queryFn: () => live.conn.call('quote.get', { symbol }),
      enabled: false,
      select: (q: Quote) => q.last,
    })),
    combine: (rs) => {
      const m: Record<string, number | null> = {};
      rs.forEach((r, i) => {
        if (r.data !== undefined) m[symbols[i]!] = r.data;
      });
      return m;
    },
  });
}

export function useIndex(name: string) {
  const live = useLive();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.index(name), queryFn: () => live.conn.call('index.get', { name }), retry: false });
  const ok = q.isSuccess;
  useEffect(() => {
    if (!ok) return;
    return live.retain('index', { name }, (d: IndexView) => qc.setQueryData(keys.index(name), d));
  }, [live, qc, name, ok]);
  return q;
}

export function useTrades(symbol: string) {
  const live = useLive();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.trades(symbol),
    queryFn: () => live.conn.call('trades.recent', { symbol, limit: 200 }),
    enabled: symbol !== '',
  });
  useEffect(() => {
    if (symbol === '') return;
    return live.retain(
      'trades',
      { symbol },
      (t: TradePrint) => {
        live.noteVenueTime(t.ts);
        qc.setQueryData<TradePrint[]>(keys.trades(symbol), (prev) => {
          const list = prev ?? [];
          if (list.length > 0 && list[0]!.tradeId >= t.tradeId) return list;
          return [t, ...list].slice(0, 300);
        });
      },
      () => void qc.invalidateQueries({ queryKey: keys.trades(symbol) }),
    );
  }, [live, qc, symbol]);
  return q;
}

// ---------------------------------------------------------------- my account

export function useOrders() {
  const live = useLive();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.orders,
    queryFn: async () => (await live.conn.call('orders.list', { status: 'all', limit: 500 })).items,
  });
  useEffect(
    () => live.retain('orders', {}, live.upsertOrder, () => void qc.invalidateQueries({ queryKey: keys.orders })),
    [live, qc],
  );
  return q;
}

export function useExecutions() {
  const live = useLive();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.executions,
    queryFn: async () => (await live.conn.call('executions.list', { limit: 500 })).items,
  });
  useEffect(
    () => live.retain('executions', {}, live.addExecution, () => void qc.invalidateQueries({ queryKey: keys.executions })),
    [live, qc],
  );
  return q;
}

export function useAccount() {
  const live = useLive();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.account, queryFn: () => live.conn.call('account.get') });
  useEffect(() => live.retain('account', {}, (a: AccountView) => qc.setQueryData(keys.account, a)), [live, qc]);
  return q;
}

export function useRejects(): LocalReject[] {
  const q = useQuery<LocalReject[]>({ queryKey: keys.rejects, queryFn: () => [], staleTime: Infinity, gcTime: Infinity });
  return q.data ?? [];
}

// ---------------------------------------------------------------- candles

export const HISTORY_PAGE = 1000;

export function useCandleBook(symbol: string, timeframe: Timeframe) {
  const live = useLive();
  const qc = useQueryClient();
  const key = keys.candles(symbol, timeframe);
  const q = useQuery({
    queryKey: key,
    enabled: symbol !== '',
    queryFn: async (): Promise<CandleBook> => {
      const bars = await live.conn.call('candles.get', { symbol, timeframe, limit: HISTORY_PAGE });
      return { bars, rev: 0, last: 'reset', complete: bars.length < HISTORY_PAGE };
    },
  });
  useEffect(() => {
    if (symbol === '') return;
    return live.retain(
      'candles',
      { symbol, timeframe },
      (c: Candle) =>
        qc.setQueryData<CandleBook>(keys.candles(symbol, timeframe), (prev) => {
          if (prev === undefined) return prev;
          const bars = prev.bars;
          const lastBar = bars[bars.length - 1];
          if (lastBar !== undefined && c.t < lastBar.t) return prev;
          if (lastBar !== undefined && c.t === lastBar.t) bars[bars.length - 1] = c;
          else bars.push(c);
          return { ...prev, rev: prev.rev + 1, last: 'update' };
        }),
      () => void qc.invalidateQueries({ queryKey: keys.candles(symbol, timeframe) }),
    );
  }, [live, qc, symbol, timeframe]);
  return q;
}

/** Loads one more page of older candles into the book; false when there is no more history. */
export async function loadOlderCandles(live: Live, symbol: string, timeframe: Timeframe): Promise<boolean> {
  const key = keys.candles(symbol, timeframe);
  const book = live.qc.getQueryData<CandleBook>(key);
  if (book === undefined || book.complete || book.bars.length === 0) return false;
  const first = book.bars[0]!;
  const older = await live.conn.call('candles.get', { symbol, timeframe, to: first.t, limit: HISTORY_PAGE });
  const fresh = older.filter((c) => c.t < first.t);
  live.qc.setQueryData<CandleBook>(key, (prev) => {
    if (prev === undefined) return prev;
    return { bars: [...fresh, ...prev.bars], rev: prev.rev + 1, last: 'prepend', complete: fresh.length === 0 || older.length < HISTORY_PAGE };
  });
  return fresh.length > 0;
}

/** A tiny hook for a value that changes every `ms` (clock displays). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
