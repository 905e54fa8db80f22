/**
 * Times ↔ logical bar indices for a bar series, with interpolation between bars and extrapolation past
 * either end by the bar interval. The chart's own time → x only knows times that are bars; drawings are
 * anchored anywhere (a trend line extends into the future), so they go through logical indices instead.
 */
export class TimeIndex {
  readonly #times: readonly number[];
  readonly #step: number;
  /** `times` ascending (ms); `stepMs` the bar interval, used beyond the ends. */
  constructor(times: readonly number[], stepMs: number) {
    if (!(stepMs > 0)) throw new RangeError('TimeIndex: the step must be positive');
    this.#times = times;
    this.#step = stepMs;
  }

  get length(): number {
    return this.#times.length;
  }

  /** The (fractional) logical index of a time; null with no bars. */
  toLogical(t: number): number | null {
    const ts = this.#times;
    const n = ts.length;
    if (n === 0) return null;
    if (t <= ts[0]!) return (t - ts[0]!) / this.#step;
    if (t >= ts[n - 1]!) return n - 1 + (t - ts[n - 1]!) / this.#step;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! <= t) lo = mid;
      else hi = mid;
    }
    return lo + (t - ts[lo]!) / (ts[hi]! - ts[lo]!);
  }

  /** The time (ms, rounded) at a (fractional) logical index; null with no bars. */
  toTime(logical: number): number | null {
    const ts = this.#times;
    const n = ts.length;
    if (n === 0 || !Number.isFinite(logical)) return null;
    if (logical <= 0) return Math.round(ts[0]! + logical * this.#step);
    if (logical >= n - 1) return Math.round(ts[n - 1]! + (logical - (n - 1)) * this.#step);
    const i = Math.floor(logical);
    const f = logical - i;
    return Math.round(ts[i]! + f * (ts[i + 1]! - ts[i]!));
  }
}
