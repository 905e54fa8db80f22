/**
 * Warm-up history: N past sessions of 1-minute OHLCV bars for every instrument, so every chart has data on
 * first start. Running the full agent simulation for 30 days × 20 symbols would take minutes (it sends about
 * a million commands per simulated day), so the history is synthesised statistically from the same model:
 *
 * 1. The fair value follows the live simulation's process (fairvalue.ts: market factor + own regimes, jumps,
 *    intraday pattern, overnight gaps, reflection inside 80 % of the band around the previous close) on a
 *    10-second grid.
 * 2. Trades arrive as a Poisson stream (about 9 a minute at activity 1, scaled like the live noise traders by
 *    the intraday pattern and the volatility regime; at least one a minute so minutes are contiguous). Each
 *    prints at the fair value of its 10-second slot plus or minus a half spread (bid-ask bounce) rounded to the
 *    tick; its size is log-normal around the instrument's typical order size.
 * 3. A bar is the first, highest, lowest and last of its minute's prints and the sum of their sizes, so
 *    low <= open, close <= high holds by construction and volume > 0.
 * 4. The whole path is shifted (in log space) so that the last close is the instrument's previous close in the
 *    universe (anchor 'end', the default): history leads into the prices the live market starts from. With
 *    anchor 'start' the path starts there instead and its last close becomes the new previous close (see
 *    `universe` in the result).
 *
 * Pure and seeded: the same seed, universe and sessions give the same bars. 30 days × 20 symbols (234,000
 * bars) take well under a second.
 */
import type { Candle, Price, Timeframe, Timestamp } from '../core/types.js';
import { IndexFormula } from '../core/index-formula.js';
import { TIMEFRAME_MS } from '../core/types.js';
import { Calendar, type CalendarSpec } from './calendar.js';
import { Fundamental, intradayVol, MarketFactor } from './fairvalue.js';
import { deriveSeed, Random } from './random.js';
import { roundLot, withCloses, type IndexSpec, type Universe } from './universe.js';

export interface HistoryOptions {
  seed: number;
  universe: Universe;
  /** Number of sessions to generate. */
  days: number;
  /** The history ends with the last session that opens before this time (normally the live start). */
  endBefore: Timestamp;
  calendar?: CalendarSpec;
  /** 'end' (default): the last close equals each instrument's previous close; 'start': the first open does. */
  anchor?: 'end' | 'start';
  /** Mean prints per minute at activity 1 (default 9). */
  tradesPerMinute?: number;
}

export interface History {
  /** 1-minute bars per symbol, oldest first. */
  bars: Map<string, Candle[]>;
  /** The last close per symbol. */
  closes: Map<string, Price>;
  /** The universe with previous closes (and index weights) set from the last closes. */
  universe: Universe;
  /** Session opens covered, oldest first. */
  sessions: Timestamp[];
}

const GRID_SEC = 10;

export function generateHistory(opts: HistoryOptions): History {
  const cal = new Calendar(opts.calendar);
  if (!Number.isSafeInteger(opts.days) || opts.days < 0) throw new RangeError('days must be a whole number >= 0');
  const sessions = cal.sessionsBefore(opts.endBefore, opts.days);
  const rng = new Random(deriveSeed(opts.seed, 'history'));
  const sessionSec = cal.sessionMs / 1000;
  const minutes = cal.sessionMs / 60_000;
  const perMin = opts.tradesPerMinute ?? 9;
  const insts = opts.universe.instruments;
  const market = new MarketFactor(rng, sessionSec);
  const funds = insts.map((i) => new Fundamental(i, 1, sessionSec, rng));
  const n = insts.length;
  // log prints (before the final shift): per instrument, per minute, o/h/l/c in log space and volume
  const total = sessions.length * minutes;
  const O = insts.map(() => new Float64Array(total));
  const H = insts.map(() => new Float64Array(total));
  const L = insts.map(() => new Float64Array(total));
  const C = insts.map(() => new Float64Array(total));
  const V = insts.map(() => new Float64Array(total));
  const prevClose = new Float64Array(n); // log, relative
  const gridPerMin = 60 / GRID_SEC;
  const grid = new Float64Array(gridPerMin);
  const counts = new Int32Array(gridPerMin);
  const mret = new Float64Array(gridPerMin);
  const us = new Float64Array(gridPerMin);
  let row = 0;
  for (let d = 0; d < sessions.length; d++) {
    const gap = market.overnight(rng);
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const f = funds[i]!;
      if (d > 0) f.overnight(gap, rng);
      const half = (0.8 * insts[i]!.bandBps) / 10_000;
      lo[i] = prevClose[i]! + Math.log(1 - half);
      hi[i] = prevClose[i]! + Math.log(1 + half);
      f.reflect(lo[i]!, hi[i]!);
    }
    for (let m = 0; m < minutes; m++, row++) {
      // the market factor for each grid slot of this minute
      for (let g = 0; g < gridPerMin; g++) {
        const x = (m * 60 + (g + 1) * GRID_SEC) / sessionSec;
        us[g] = intradayVol(x);
        mret[g] = market.advance(GRID_SEC, us[g]!, rng);
      }
      for (let i = 0; i < n; i++) {
        const inst = insts[i]!;
        const f = funds[i]!;
        for (let g = 0; g < gridPerMin; g++) {
          f.advance(GRID_SEC, us[g]!, mret[g]!, rng);
          f.reflect(lo[i]!, hi[i]!);
          grid[g] = f.logF;
        }
        const vr = f.volRatio(market);
        const u = us[gridPerMin >> 1]!;
        const sig1m = inst.dailyVol * Math.sqrt(60 / sessionSec) * vr * u;
        const halfSpread = 0.3 * sig1m; // log units, like the makers' inner quotes
        const prints = Math.max(1, rng.poisson(perMin * inst.activity * u * vr));
        let o = 0;
        let h = Number.NEGATIVE_INFINITY;
        let l = Number.POSITIVE_INFINITY;
        let c = 0;
        let v = 0;
        // prints fall uniformly over the minute's slots; walk the slots in time order
        counts.fill(0);
        for (let k = 0; k < prints; k++) counts[Math.floor(rng.float() * gridPerMin)]!++;
        let first = true;
        for (let g = 0; g < gridPerMin; g++) {
          for (let k = counts[g]!; k > 0; k--) {
            const px = grid[g]! + (rng.float() < 0.5 ? -halfSpread : halfSpread);
            if (first) {
              o = px;
              first = false;
            }
            if (px > h) h = px;
            if (px < l) l = px;
            c = px;
            v += roundLot(Math.min(10, rng.logNormal(-0.35, 0.85)) * inst.typicalQty, inst.lotSize);
          }
        }
        O[i]![row] = o;
        H[i]![row] = h;
        L[i]![row] = l;
        C[i]![row] = c;
        V[i]![row] = v;
      }
    }
    for (let i = 0; i < n; i++) prevClose[i] = C[i]![row - 1]!;
  }
  // shift, round to ticks, build bars
  const bars = new Map<string, Candle[]>();
  const closes = new Map<string, Price>();
  for (let i = 0; i < n; i++) {
    const inst = insts[i]!;
    const tick = inst.tickSize;
    const target = Math.log(inst.previousClose ?? inst.referencePrice);
    const shift = total === 0 ? 0 : opts.anchor === 'start' ? target - O[i]![0]! : target - C[i]![total - 1]!;
    const px = (x: number): Price => Math.max(tick, Math.round(Math.exp(x + shift) / tick) * tick);
    const out: Candle[] = new Array<Candle>(total);
    let r = 0;
    for (let d = 0; d < sessions.length; d++) {
      const open = sessions[d]!;
      for (let m = 0; m < minutes; m++, r++) {
        const o = px(O[i]![r]!);
        const c = px(C[i]![r]!);
        out[r] = { t: open + m * 60_000, o, h: Math.max(px(H[i]![r]!), o, c), l: Math.min(px(L[i]![r]!), o, c), c, v: V[i]![r]! };
      }
    }
    bars.set(inst.symbol, out);
    closes.set(inst.symbol, total === 0 ? (inst.previousClose ?? inst.referencePrice) : out[total - 1]!.c);
  }
  return { bars, closes, universe: withCloses(opts.universe, closes), sessions };
}

/**
 * Aggregates bars into a longer timeframe (buckets aligned like the engine's: start = t - t mod size, so a
 * '1d' bucket is a UTC day). Input oldest first; bars of the same bucket merge (o first, c last, h max, l min,
 * v summed).
 */
export function aggregateCandles(bars: readonly Candle[], tf: Timeframe): Candle[] {
  const ms = TIMEFRAME_MS[tf];
  const out: Candle[] = [];
  let cur: Candle | null = null;
  for (const b of bars) {
    const t = b.t - (((b.t % ms) + ms) % ms);
    if (cur !== null && cur.t === t) {
      if (b.h > cur.h) cur.h = b.h;
      if (b.l < cur.l) cur.l = b.l;
      cur.c = b.c;
      cur.v += b.v;
    } else {
      cur = { t, o: b.o, h: b.h, l: b.l, c: b.c, v: b.v };
      out.push(cur);
    }
  }
  return out;
}

/**
 * The index's 1-minute history from the constituents' bars, computed as the engine computes the index (the
 * same IndexFormula: baseValue × Σ weight × price / basePrice, in hundredths of a point, exact), with base
 * prices = the constituents' last closes (what the engine takes when CreateIndex runs after the warm-up), so
 * the last value equals the base value. o and c come from the constituents' opens and closes; h and l are max/min(o, c) (the true
 * intra-minute extremes of a weighted sum are not known from the bars); v is 0.
 */
export function indexHistory(h: History, index: IndexSpec): Candle[] {
  const cons = index.constituents.map((c) => {
    const bars = h.bars.get(c.symbol);
    if (bars === undefined) throw new RangeError(`indexHistory: no bars for ${c.symbol}`);
    return { weightBps: c.weightBps, bars, basePrice: bars[bars.length - 1]!.c };
  });
  const n = Math.min(...cons.map((c) => c.bars.length));
  const formula = new IndexFormula(index.baseValue, cons);
  const out: Candle[] = [];
  for (let k = 0; k < n; k++) {
    const o = formula.value((i) => cons[i]!.bars[k]!.o);
    const c = formula.value((i) => cons[i]!.bars[k]!.c);
    out.push({ t: cons[0]!.bars[k]!.t, o, h: Math.max(o, c), l: Math.min(o, c), c, v: 0 });
  }
  return out;
}
