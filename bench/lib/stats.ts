/**
 * Latency statistics over flat sample arrays: percentiles by sorting (exact, no approximation), summaries
 * and a simple bucketed histogram. Samples are plain numbers in whatever unit the caller uses (the engine
 * bench uses nanoseconds).
 */

/** Nearest-rank percentile of an ascending-sorted array; q in [0, 1]. NaN for an empty array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (q <= 0) return sorted[0]!;
  if (q >= 1) return sorted[n - 1]!;
  const rank = Math.ceil(q * n); // 1-based nearest rank
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

/**
 * Summarises the first `count` samples (default: all). `subtract` is removed from every sample first (e.g. a
 * measured timer overhead), clamping at 0. Works on a sorted copy; the input is left untouched.
 */
export function summarize(samples: Float64Array, count = samples.length, subtract = 0): Summary {
  const s = sortedCopy(samples, count, subtract);
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return {
    count: s.length,
    min: s.length > 0 ? s[0]! : NaN,
    mean: s.length > 0 ? sum / s.length : NaN,
    p50: percentileSorted(s, 0.5),
    p90: percentileSorted(s, 0.9),
    p99: percentileSorted(s, 0.99),
    p999: percentileSorted(s, 0.999),
    p9999: percentileSorted(s, 0.9999),
    max: s.length > 0 ? s[s.length - 1]! : NaN,
  };
}

/** Ascending-sorted copy of the first `count` samples, each minus `subtract` and clamped at 0. */
export function sortedCopy(samples: Float64Array, count = samples.length, subtract = 0): Float64Array {
  const s = samples.slice(0, count);
  if (subtract !== 0) for (let i = 0; i < s.length; i++) s[i] = Math.max(0, s[i]! - subtract);
  return s.sort(); // typed-array sort is numeric
}

/** Median of the first `count` samples. */
export function median(samples: Float64Array, count = samples.length): number {
  return percentileSorted(sortedCopy(samples, count), 0.5);
}

export interface Bucket {
  /** Upper bound (exclusive) of the bucket; Infinity for the last one. */
  below: number;
  count: number;
  fraction: number;
}

/** Counts sorted samples into buckets by ascending upper bounds (plus one open-ended bucket at the end). */
export function histogram(sorted: Float64Array, bounds: readonly number[]): Bucket[] {
  const out: Bucket[] = [];
  let i = 0;
  for (const b of [...bounds, Infinity]) {
    const start = i;
    while (i < sorted.length && sorted[i]! < b) i++;
    out.push({ below: b, count: i - start, fraction: sorted.length === 0 ? 0 : (i - start) / sorted.length });
  }
  return out;
}

/** Median of a small list of numbers (e.g. repeated pass results). */
export function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
