/**
 * An index's value in hundredths of a point: baseValue × Σ weightBps × price / basePrice / 10,000, rounded
 * half away from zero like every other rounding of the engine, and exact. The terms are summed over one
 * common denominator (10,000 × the least common multiple of the base prices) in BigInt: summed as doubles,
 * a value exactly half-way (46666.5) could come out as 46666.4999... and round down, and with a few
 * constituents the exact numerator passes 2^53. One formula for the engine's indexes and the simulated
 * warm-up history of them.
 */
import type { Price } from './types.js';

export interface IndexWeight {
  weightBps: number;
  /** The constituent's price at which the index stood at its base value (a positive whole number). */
  basePrice: Price;
}

/** Rounds a/b half away from zero (b > 0), exactly: roundDiv (state.ts) for products past a safe integer. */
export function roundDivBig(a: bigint, b: bigint): number {
  const neg = a < 0n;
  const abs = neg ? -a : a;
  let q = abs / b;
  if (2n * (abs - q * b) >= b) q += 1n;
  return Number(neg ? -q : q);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export class IndexFormula {
  /** Per constituent: baseValue × weightBps × (lcm / basePrice). */
  readonly #coef: bigint[];
  /** 10,000 × the least common multiple of the base prices. */
  readonly #den: bigint;

  /** Whole numbers only: the base value, the weights and the base prices (positive). */
  constructor(baseValue: number, constituents: readonly IndexWeight[]) {
    let lcm = 1n;
    for (const c of constituents) {
      const b = BigInt(c.basePrice);
      lcm = (lcm / gcd(lcm, b)) * b;
    }
    this.#coef = constituents.map((c) => BigInt(baseValue) * BigInt(c.weightBps) * (lcm / BigInt(c.basePrice)));
    this.#den = 10_000n * lcm;
  }

  /** The value at the constituents' prices: `price(i)` of the i-th constituent as given (whole numbers). */
  value(price: (i: number) => Price): number {
    let num = 0n;
    for (let i = 0; i < this.#coef.length; i++) num += this.#coef[i]! * BigInt(price(i));
    return roundDivBig(num, this.#den);
  }
}
