/**
 * Market-quality statistics of a simulated (or any) market, computed from the events and quotes a caller
 * feeds in. Pure: used by the sim:stats script, the tests and the benchmark.
 *
 * Definitions
 * - 1-minute returns: per symbol, the log change of the last trade price from one minute to the next within
 *   a session (minutes without a trade carry the previous price; the first minute of a session is not
 *   compared with the previous session, so overnight gaps are excluded).
 * - returnsKurtosis: raw kurtosis m4 / m2^2 of a symbol's 1-minute returns (a normal distribution gives 3),
 *   the median over symbols. pooledKurtosis: the same over all symbols' returns, each symbol's standardised.
 * - absReturnAutocorrLag1: lag-1 autocorrelation of |r| (volatility clustering), median over symbols,
 *   computed within sessions only.
 * - medianSpreadTicks: median of (ask - bid) / tick over samples where both sides are present.
 * - crossedBooks: samples where bid >= ask (a crossed or locked book).
 * - tradesPerSymbolPerMinute: trades / (symbols × session minutes observed).
 * - priceBandBreaches: rejections with PRICE_OUT_OF_BAND (of the accounts `countRejections` selects) plus
 *   trades printed at the band's edge (at or beyond bandLow / bandHigh): both mean the price wanted to go
 *   where the band would not let it.
 */
import type { AccountId, EngineEvent, Timestamp } from '../core/types.js';
import type { MarketView } from './market.js';

/** Raw kurtosis (normal = 3); NaN for fewer than 4 values or zero variance. */
export function kurtosis(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 4) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i]!;
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - mean;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  return m2 === 0 ? Number.NaN : m4 / (m2 * m2);
}

/** Lag-k autocorrelation of a series made of segments (pairs never straddle two segments). */
export function autocorr(segments: readonly ArrayLike<number>[], lag = 1): number {
  let n = 0;
  let mean = 0;
  for (const s of segments)
    for (let i = 0; i < s.length; i++) {
      mean += s[i]!;
      n++;
    }
  if (n < lag + 2) return Number.NaN;
  mean /= n;
  let den = 0;
  let num = 0;
  for (const s of segments) {
    for (let i = 0; i < s.length; i++) {
      const d = s[i]! - mean;
      den += d * d;
      if (i >= lag) num += d * (s[i - lag]! - mean);
    }
  }
  return den === 0 ? Number.NaN : num / den;
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => x === x).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export function mean(xs: readonly number[]): number {
  const v = xs.filter((x) => x === x);
  return v.length === 0 ? Number.NaN : v.reduce((s, x) => s + x, 0) / v.length;
}

export interface SymbolStats {
  symbol: string;
  returns: number;
  kurtosis: number;
  absReturnAutocorrLag1: number;
  returnAutocorrLag1: number;
  /** Standard deviation of 1-minute returns × sqrt(minutes per session): realised daily volatility. */
  realizedDailyVol: number;
  trades: number;
  medianSpreadTicks: number;
}

export interface MarketStatsResult {
  returnsKurtosis: number;
  absReturnAutocorrLag1: number;
  medianSpreadTicks: number;
  crossedBooks: number;
  tradesPerSymbolPerMinute: number;
  priceBandBreaches: number;
  pooledKurtosis: number;
  returnAutocorrLag1: number;
  /** Share of quote samples with both a bid and an ask. */
  twoSidedPct: number;
  bandRejections: number;
  tradesAtBandEdge: number;
  sessionMinutes: number;
  trades: number;
  perSymbol: SymbolStats[];
}

interface Track {
  symbol: string;
  tick: number;
  bandLow: number;
  bandHigh: number;
  /** Closed sessions' minute-close series, and the current one (minute index → close). */
  sessions: { minutes: number[]; closes: number[] }[];
  cur: { minutes: number[]; closes: number[] };
  trades: number;
  spreads: number[];
}

export class MarketStats {
  private readonly tracks = new Map<string, Track>();
  private readonly list: Track[] = [];
  private crossed = 0;
  private samples = 0;
  private twoSided = 0;
  private bandRejections = 0;
  private edgeTrades = 0;
  private trades = 0;
  private bandsStale = true;
  private lastMinute = Number.NaN;
  private sessionMinutes = 0;
  private sampleNo = 0;

  /**
   * @param symbols the symbols to watch, with their tick sizes
   * @param countRejections which accounts' PRICE_OUT_OF_BAND rejections count (default: all)
   * @param spreadEvery record the spread on every n-th sample (crossed books are checked on every sample)
   */
  constructor(
    symbols: readonly { symbol: string; tickSize: number }[],
    private readonly countRejections: (accountId: AccountId | undefined) => boolean = () => true,
    private readonly spreadEvery = 10,
  ) {
    for (const s of symbols) {
      const t: Track = { symbol: s.symbol, tick: s.tickSize, bandLow: 0, bandHigh: Number.POSITIVE_INFINITY, sessions: [], cur: { minutes: [], closes: [] }, trades: 0, spreads: [] };
      this.tracks.set(s.symbol, t);
      this.list.push(t);
    }
  }

  /** Feed every event (any order of calls with sample(), as long as events come in order). */
  onEvents(events: readonly EngineEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.type === 'Trade') {
        const t = this.tracks.get(e.symbol);
        if (t === undefined) continue;
        this.trades++;
        t.trades++;
        if (e.price <= t.bandLow || e.price >= t.bandHigh) this.edgeTrades++;
        const m = Math.floor(e.ts / 60_000);
        const c = t.cur;
        const n = c.minutes.length;
        if (n > 0 && c.minutes[n - 1] === m) c.closes[n - 1] = e.price;
        else {
          c.minutes.push(m);
          c.closes.push(e.price);
        }
      } else if (e.type === 'SessionEnded') {
        for (const t of this.list) {
          if (t.cur.minutes.length > 0) t.sessions.push(t.cur);
          t.cur = { minutes: [], closes: [] };
        }
        this.bandsStale = true;
      } else if (e.type === 'Rejected' && e.code === 'PRICE_OUT_OF_BAND' && this.countRejections(e.accountId)) {
        this.bandRejections++;
      }
    }
  }

  /** Samples the books (call once per step, while the session is open). */
  sample(ts: Timestamp, view: MarketView): void {
    if (this.bandsStale) {
      for (const t of this.list) {
        const iv = view.instrument(t.symbol);
        if (iv !== undefined) {
          t.bandLow = iv.bandLow;
          t.bandHigh = iv.bandHigh;
        }
      }
      this.bandsStale = false;
    }
    const m = Math.floor(ts / 60_000);
    if (m !== this.lastMinute) {
      this.lastMinute = m;
      this.sessionMinutes++;
    }
    const rec = this.sampleNo++ % this.spreadEvery === 0;
    for (const t of this.list) {
      const q = view.quote(t.symbol);
      if (q === undefined) continue;
      this.samples++;
      if (q.bid === null || q.ask === null) continue;
      this.twoSided++;
      if (q.bid >= q.ask) this.crossed++;
      if (rec) t.spreads.push((q.ask - q.bid) / t.tick);
    }
  }

  /** 1-minute log returns of a symbol, one array per session. */
  returnsOf(symbol: string): Float64Array[] {
    const t = this.tracks.get(symbol);
    if (t === undefined) return [];
    const out: Float64Array[] = [];
    for (const s of [...t.sessions, t.cur]) {
      const n = s.minutes.length;
      if (n < 2) continue;
      const first = s.minutes[0]!;
      const span = s.minutes[n - 1]! - first;
      const r = new Float64Array(span);
      let k = 0;
      let prev = s.closes[0]!;
      for (let j = 1; j < n; j++) {
        const gapTo = s.minutes[j]! - first;
        while (k < gapTo - 1) r[k++] = 0; // minutes without trades
        const c = s.closes[j]!;
        r[k++] = Math.log(c / prev);
        prev = c;
      }
      out.push(r);
    }
    return out;
  }

  result(): MarketStatsResult {
    const per: SymbolStats[] = [];
    const pooled: number[] = [];
    const minutesPerSession = 390;
    for (const t of this.list) {
      const segs = this.returnsOf(t.symbol);
      const all: number[] = [];
      for (const s of segs) for (let i = 0; i < s.length; i++) all.push(s[i]!);
      const abs = segs.map((s) => Float64Array.from(s, Math.abs));
      const sd = Math.sqrt(all.reduce((a, x) => a + x * x, 0) / Math.max(1, all.length));
      if (sd > 0) for (const x of all) pooled.push(x / sd);
      per.push({
        symbol: t.symbol,
        returns: all.length,
        kurtosis: kurtosis(all),
        absReturnAutocorrLag1: autocorr(abs, 1),
        returnAutocorrLag1: autocorr(segs, 1),
        realizedDailyVol: sd * Math.sqrt(minutesPerSession),
        trades: t.trades,
        medianSpreadTicks: median(t.spreads),
      });
    }
    const spreads: number[] = [];
    for (const t of this.list) for (const x of t.spreads) spreads.push(x);
    const symbolsWithData = Math.max(1, this.list.length);
    return {
      returnsKurtosis: median(per.map((p) => p.kurtosis)),
      absReturnAutocorrLag1: median(per.map((p) => p.absReturnAutocorrLag1)),
      medianSpreadTicks: median(spreads),
      crossedBooks: this.crossed,
      tradesPerSymbolPerMinute: this.sessionMinutes === 0 ? 0 : this.trades / (symbolsWithData * this.sessionMinutes),
      priceBandBreaches: this.bandRejections + this.edgeTrades,
      pooledKurtosis: kurtosis(pooled),
      returnAutocorrLag1: median(per.map((p) => p.returnAutocorrLag1)),
      twoSidedPct: this.samples === 0 ? 0 : (100 * this.twoSided) / this.samples,
      bandRejections: this.bandRejections,
      tradesAtBandEdge: this.edgeTrades,
      sessionMinutes: this.sessionMinutes,
      trades: this.trades,
      perSymbol: per,
    };
  }
}
