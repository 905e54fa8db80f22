/**
 * Seeded randomness for the simulated market. Pure: the seed is given, nothing reads a clock or Math.random,
 * so the same seed always gives the same numbers on every platform (only integer ops and IEEE doubles).
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator; 128-bit state, period at least 2^32
 * and in practice about 2^127), seeded through splitmix32 so that nearby seeds (1, 2, 3, ...) give unrelated
 * streams. Good statistical quality for simulation; not for cryptography.
 *
 * Helpers: uniform floats and integers, standard normals (Marsaglia polar method, the spare value cached),
 * exponential, Poisson (Knuth for small means, a rounded normal for large ones), log-normal.
 */
export class Random {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /** The second normal of the last polar pair, or NaN when none is cached. */
  private spare = Number.NaN;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [lo, hi], both inclusive (hi - lo < 2^32). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.float() * arr.length)] as T;
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const t = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = t;
    }
    return arr;
  }

  /** A standard normal deviate (mean 0, variance 1). */
  normal(): number {
    const sp = this.spare;
    if (sp === sp) {
      this.spare = Number.NaN;
      return sp;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  /** An exponential deviate with the given mean (> 0). */
  exponential(mean = 1): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** A Poisson deviate with the given mean (>= 0). */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.float();
    while (p > limit) {
      k++;
      p *= this.float();
    }
    return k;
  }

  /** exp(mu + sigma * N(0,1)). */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** An independent generator derived from this one (its own stream for one purpose). */
  fork(): Random {
    return new Random(this.u32());
  }

  /** The full state, for snapshots: restoring it continues the exact same sequence. */
  getState(): RandomState {
    return [this.a, this.b, this.c, this.d, this.spare === this.spare ? this.spare : null];
  }

  setState(s: RandomState): void {
    this.a = s[0] | 0;
    this.b = s[1] | 0;
    this.c = s[2] | 0;
    this.d = s[3] | 0;
    this.spare = s[4] === null ? Number.NaN : s[4];
  }

  static fromState(s: RandomState): Random {
    const r = new Random(0);
    r.setState(s);
    return r;
  }
}

/** A Random's state: the four sfc32 words and the cached spare normal (null when none). JSON-safe. */
export type RandomState = [number, number, number, number, number | null];

/** Derives a well-mixed 32-bit seed for a named purpose from a base seed (so streams do not overlap). */
export function deriveSeed(seed: number, purpose: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < purpose.length; i++) {
    h ^= purpose.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
