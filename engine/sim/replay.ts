/**
 * Replay of historical OHLCV bars: lays the bars on the simulation's trading timeline and turns each bar into
 * a fair-value path that the market makers quote around, so the simulated prices (and a user's fills) follow
 * the history while the order book stays a live simulated one.
 *
 * Timeline. Bars are laid end to end in simulated trading time, starting at the replay's start: each bar lasts
 * `barMs` (default: the most common spacing of the CSV timestamps, capped at one session, so daily bars become
 * one session each and 1-minute bars one minute each). A bar that would straddle the close starts at the
 * next open instead. The CSV's own dates are not used for placement (the simulated clock only moves forward
 * and skips nights), only for the spacing.
 *
 * Path inside a bar (log prices): open → first extreme → second extreme → close, then flat at the close for the
 * last part of the bar. The low comes first when the bar closed up (close >= open), the high first otherwise.
 * The turning points fall at random fractions of the bar (first in [0.08, 0.30], second in [0.38, 0.62], the
 * close reached in [0.70, 0.80] and held to the end, so the last prints of a bar happen at its close). A Brownian-bridge wiggle with one point per `subMs` (≤ 1 minute) is added to each leg
 * and clamped into [low, high], so the path touches the high and the low exactly and never leaves them.
 * Between bars the path jumps from one close to the next open (gaps happen, as in the data).
 */
import type { Candle, Timestamp } from '../core/types.js';
import type { Calendar } from './calendar.js';
import { deriveSeed, Random } from './random.js';

export interface ReplaySpec {
  /** The instrument to drive. A universe symbol is re-priced to the bars; a new symbol is created. */
  symbol: string;
  bars: readonly Candle[];
  /** For a new symbol: display name (default "<symbol> replay"). */
  name?: string;
  /** Tick and lot (default: the universe instrument's, else tick 1 and lot 1). */
  tickSize?: number;
  lotSize?: number;
  /** Simulated duration of one bar in ms (a multiple of the step). Default: inferred from the timestamps. */
  barMs?: number;
}

/** The most common positive gap between consecutive bar timestamps (ties: the smaller), or 60000. */
export function inferBarMs(bars: readonly Candle[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < bars.length; i++) {
    const g = bars[i]!.t - bars[i - 1]!.t;
    if (g > 0) counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  let best = 60_000;
  let n = 0;
  for (const [g, c] of counts) if (c > n || (c === n && g < best)) [best, n] = [g, c];
  return best;
}

interface BarPath {
  /** Sub-point log prices at offsets k * subMs within the bar (the last one at barMs). */
  x: Float64Array;
  subMs: number;
}

export class ReplayPlan {
  readonly symbol: string;
  readonly bars: readonly Candle[];
  readonly barMs: number;
  /** Simulated start time of each bar. */
  readonly starts: Timestamp[];
  /** Trading-activity multiplier per bar from its volume (median volume = 1, clamped to [0.5, 4]). */
  readonly activity: Float64Array;
  /** Volatility of each bar relative to the replay's average (Parkinson range estimate, clamped [0.3, 4]). */
  readonly volRatio: Float64Array;
  /** Estimated daily volatility of the replayed series (for spreads and order sizes). */
  readonly dailyVol: number;
  private readonly seed: number;
  private cursor = 0;
  private cached = -1;
  private path: BarPath | null = null;

  constructor(spec: ReplaySpec, cal: Calendar, startTs: Timestamp, stepMs: number, seed: number) {
    if (spec.bars.length === 0) throw new RangeError(`Replay ${spec.symbol}: no bars`);
    this.symbol = spec.symbol;
    this.bars = spec.bars;
    const raw = spec.barMs ?? Math.min(inferBarMs(spec.bars), cal.sessionMs);
    const barMs = Math.max(stepMs, Math.round(raw / stepMs) * stepMs);
    if (barMs > cal.sessionMs) throw new RangeError(`Replay ${spec.symbol}: a bar (${barMs} ms) must fit in one session`);
    this.barMs = barMs;
    this.seed = deriveSeed(seed, `replay:${spec.symbol}`);
    // timeline
    const starts: Timestamp[] = [];
    let t = cal.isOpen(startTs) ? startTs : cal.nextOpen(startTs);
    for (let i = 0; i < spec.bars.length; i++) {
      const close = cal.closeOf(Math.floor(t / 86_400_000));
      if (!cal.isOpen(t) || t + barMs > close) t = cal.nextOpen(t + 1);
      starts.push(t);
      t += barMs;
    }
    this.starts = starts;
    // activity from volume
    const vols = spec.bars.map((b) => b.v).filter((v) => v > 0).sort((a, b) => a - b);
    const med = vols.length === 0 ? 0 : vols[Math.floor(vols.length / 2)]!;
    this.activity = Float64Array.from(spec.bars, (b) => (med === 0 ? 1 : Math.min(4, Math.max(0.5, b.v / med))));
    // volatility from ranges (Parkinson): variance per bar = ln(h/l)^2 / (4 ln 2)
    const v = spec.bars.map((b) => Math.log(b.h / b.l) ** 2 / (4 * Math.LN2));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const barVol = Math.sqrt(mean);
    this.volRatio = Float64Array.from(v, (x) => (mean === 0 ? 1 : Math.min(4, Math.max(0.3, Math.sqrt(x) / barVol))));
    const perSession = mean * (cal.sessionMs / barMs);
    this.dailyVol = Math.min(0.2, Math.max(0.004, Math.sqrt(perSession)));
  }

  /** Simulated time when the last bar ends. */
  get endTs(): Timestamp {
    return this.starts[this.starts.length - 1]! + this.barMs;
  }

  /** Index of the bar covering t (start <= t < start + barMs), -1 before the first, bars.length after the
   * last or in a gap between bars. Fast for increasing t. */
  barAt(t: Timestamp): number {
    const s = this.starts;
    let i = this.cursor;
    if (i >= s.length || s[i]! > t) i = 0;
    while (i + 1 < s.length && s[i + 1]! <= t) i++;
    this.cursor = i;
    if (t < s[0]!) return -1;
    if (t >= s[i]! + this.barMs) return i + 1 >= s.length ? s.length : -2;
    return i;
  }

  /** The fair-value log price at t: inside a bar, its path; in a gap between bars, the previous close;
   * NaN before the first bar or after the last. */
  logValueAt(t: Timestamp): number {
    const i = this.barAt(t);
    if (i === -1 || i >= this.bars.length) return Number.NaN;
    if (i === -2) return Math.log(this.bars[this.cursor]!.c);
    const p = this.pathOf(i);
    const off = (t - this.starts[i]!) / p.subMs;
    const k = Math.floor(off);
    const f = off - k;
    const x = p.x;
    return k + 1 < x.length ? x[k]! + (x[k + 1]! - x[k]!) * f : x[x.length - 1]!;
  }

  private pathOf(i: number): BarPath {
    if (this.cached === i && this.path !== null) return this.path;
    const b = this.bars[i]!;
    const rng = new Random(deriveSeed(this.seed, String(i)));
    // sub-points: one a minute for long bars (at most 400), at least 12 for short ones
    const pts = Math.max(12, Math.min(400, Math.ceil(this.barMs / 60_000)));
    const subMs = this.barMs / pts;
    const lo = Math.log(b.l);
    const hi = Math.log(b.h);
    const up = b.c >= b.o;
    const f1 = 0.08 + 0.22 * rng.float();
    const f2 = 0.38 + 0.24 * rng.float();
    const f3 = 0.7 + 0.1 * rng.float();
    const k1 = Math.max(1, Math.round(f1 * pts));
    const k2 = Math.max(k1 + 1, Math.round(f2 * pts));
    const k3 = Math.min(pts - 1, Math.max(k2 + 1, Math.round(f3 * pts)));
    const way: [number, number][] = [
      [0, Math.log(b.o)],
      [k1, up ? lo : hi],
      [k2, up ? hi : lo],
      [k3, Math.log(b.c)],
      [pts, Math.log(b.c)],
    ];
    const x = new Float64Array(pts + 1);
    const wiggle = (0.35 * (hi - lo)) / Math.sqrt(pts);
    for (let w = 0; w + 1 < way.length; w++) {
      const [k0, x0] = way[w]!;
      const [k1, x1] = way[w + 1]!;
      x[k0] = x0;
      const len = k1 - k0;
      if (len <= 0) continue;
      // Brownian bridge from 0 to 0 over the leg, added to the straight line; the flat tail gets a tiny one
      const amp = w === way.length - 2 ? wiggle * 0.15 : wiggle;
      let walk = 0;
      const steps = new Float64Array(len + 1);
      for (let k = 1; k <= len; k++) {
        walk += amp * rng.normal();
        steps[k] = walk;
      }
      for (let k = 1; k < len; k++) {
        const frac = k / len;
        const v = x0 + (x1 - x0) * frac + steps[k]! - frac * steps[len]!;
        x[k0 + k] = v < lo ? lo : v > hi ? hi : v;
      }
      x[k1] = x1;
    }
    this.cached = i;
    this.path = { x, subMs };
    return this.path;
  }

  /**
   * A band (bps) wide enough for the replay: the largest move of any bar's high or low from the previous
   * session's last close (the first session: the first open), with a margin. At least 1000, at most 9000.
   */
  bandBps(): number {
    let prevClose = this.bars[0]!.o;
    let dayStart = -1;
    let lastClose = prevClose;
    let worst = 0;
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i]!;
      const day = Math.floor(this.starts[i]! / 86_400_000);
      if (day !== dayStart) {
        if (dayStart !== -1) prevClose = lastClose;
        dayStart = day;
      }
      worst = Math.max(worst, b.h / prevClose - 1, 1 - b.l / prevClose);
      lastClose = b.c;
    }
    return Math.min(9_000, Math.max(1_000, Math.ceil(worst * 10_000 * 1.3 + 200)));
  }
}
