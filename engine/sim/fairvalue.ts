/**
 * The fair-value model: what a simulated instrument is "worth" at each moment, which the market makers
 * quote around and the other agents trade against.
 *
 *   d log F = beta * sigma_m * v_m(t) * u(t) * dW_m        common market factor
 *           + sigma_i * v_i(t) * u(t) * dW_i               the instrument's own news
 *           + J_m * beta + J_i                             Poisson jumps (market-wide and own)
 *
 * - v_m, v_i: Markov-switching volatility regimes (calm / normal / stressed), one chain for the market and one
 *   per instrument; mean stays of 60 / 80 / 15 minutes. A jump pushes its chain into the stressed regime
 *   with probability 0.6 (volatility follows news, GARCH-like). Regime mixtures give fat tails; persistent
 *   regimes give volatility clustering.
 * - u(t): the intraday pattern (the "U": busy open, quiet lunch, busy close), normalised so the mean of u^2
 *   over a session is 1, so dailyVol stays the stated daily volatility of the diffusive part.
 * - Overnight: a gap with standard deviation 0.35 of the daily volatility (plus beta times the market's).
 *
 * Used with 1-second steps by the live simulation and with 1-minute steps by the warm-up history.
 */
import type { Random } from './random.js';
import type { SimInstrument } from './universe.js';

/** Volatility multipliers of the regimes before normalisation: calm, normal, stressed. */
const RAW_MULT = [0.5, 1.0, 2.6] as const;
/** Mean time spent in each regime, in seconds of trading time. */
const MEAN_STAY_SEC = [90 * 60, 120 * 60, 30 * 60] as const;
/** Where a regime goes when it ends. */
const NEXT: readonly (readonly number[])[] = [
  [0, 0.85, 0.15],
  [0.6, 0, 0.4],
  [0.2, 0.8, 0],
];
export const REGIME_NAMES = ['calm', 'normal', 'stressed'] as const;
export const STRESSED = 2;

/** The chain's long-run share of time in each regime (solved once by iteration). */
function stationary(): number[] {
  let p = [1 / 3, 1 / 3, 1 / 3];
  const dt = 60;
  for (let it = 0; it < 20_000; it++) {
    const q = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      const leave = dt / MEAN_STAY_SEC[i]!;
      q[i]! += p[i]! * (1 - leave);
      for (let j = 0; j < 3; j++) q[j]! += p[i]! * leave * NEXT[i]![j]!;
    }
    p = q;
  }
  return p;
}
export const REGIME_SHARE: readonly number[] = stationary();
/** Regime multipliers scaled so the long-run mean of v^2 is 1. */
export const REGIME_MULT: readonly number[] = (() => {
  const m2 = REGIME_SHARE.reduce((s, p, i) => s + p * RAW_MULT[i]! * RAW_MULT[i]!, 0);
  return RAW_MULT.map((m) => m / Math.sqrt(m2));
})();

/** A volatility regime chain. */
export class RegimeChain {
  constructor(public state: number) {}

  get mult(): number {
    return REGIME_MULT[this.state]!;
  }

  /** Moves on by dtSec seconds of trading time; true when the regime changed. */
  advance(dtSec: number, rng: Random): boolean {
    const leave = dtSec / MEAN_STAY_SEC[this.state]!;
    if (rng.float() >= leave) return false;
    const r = rng.float();
    const nx = NEXT[this.state]!;
    let acc = 0;
    for (let j = 0; j < 3; j++) {
      acc += nx[j]!;
      if (r < acc) {
        this.state = j;
        return true;
      }
    }
    return false;
  }

  /** A start state drawn from the long-run shares. */
  static draw(rng: Random): RegimeChain {
    const r = rng.float();
    return new RegimeChain(r < REGIME_SHARE[0]! ? 0 : r < REGIME_SHARE[0]! + REGIME_SHARE[1]! ? 1 : 2);
  }
}

/** The intraday volatility profile: a busy open and close around a quiet middle. */
function rawProfile(x: number): number {
  return 1 + 2.2 * Math.exp(-x / 0.08) + 1.1 * Math.exp(-(1 - x) / 0.06);
}
const PROFILE_NORM = (() => {
  const n = 10_000;
  let s = 0;
  for (let k = 0; k < n; k++) {
    const v = rawProfile((k + 0.5) / n);
    s += v * v;
  }
  return Math.sqrt(s / n);
})();

/** u(x) for x = fraction of the session elapsed (0 at the open, 1 at the close); mean of u^2 is 1. */
export function intradayVol(x: number): number {
  return rawProfile(x < 0 ? 0 : x > 1 ? 1 : x) / PROFILE_NORM;
}

/** Shared model constants. */
export const MODEL = {
  /** Daily volatility of the market factor. */
  marketDailyVol: 0.01,
  /** Own jumps per instrument per session, and their size (standard deviation, in daily vols). */
  jumpsPerDay: 0.8,
  jumpSizeDailyVols: 0.3,
  /** Market-wide jumps per session and their size (log return, before beta). */
  marketJumpsPerDay: 0.25,
  marketJumpSize: 0.006,
  /** Overnight gap standard deviation, in daily vols. */
  overnightDailyVols: 0.35,
  /** Probability that a jump throws its regime chain into the stressed regime. */
  jumpStress: 0.6,
};

/** The common market factor. */
export class MarketFactor {
  readonly chain: RegimeChain;
  private readonly sigmaSec: number;
  private readonly jumpPerSec: number;
  constructor(
    rng: Random,
    readonly sessionSec: number,
  ) {
    this.chain = RegimeChain.draw(rng);
    this.sigmaSec = MODEL.marketDailyVol / Math.sqrt(sessionSec);
    this.jumpPerSec = MODEL.marketJumpsPerDay / sessionSec;
  }

  /** The factor's log return over dtSec at intraday multiplier u (before beta). */
  advance(dtSec: number, u: number, rng: Random): number {
    this.chain.advance(dtSec, rng);
    let r = this.sigmaSec * this.chain.mult * u * Math.sqrt(dtSec) * rng.normal();
    if (rng.float() < this.jumpPerSec * dtSec) {
      r += MODEL.marketJumpSize * rng.normal();
      if (rng.float() < MODEL.jumpStress) this.chain.state = STRESSED;
    }
    return r;
  }

  overnight(rng: Random): number {
    return MODEL.marketDailyVol * MODEL.overnightDailyVols * rng.normal();
  }

  /** The factor's current volatility relative to its long-run level (regime only). */
  get volRatio(): number {
    return this.chain.mult;
  }
}

/** One instrument's fundamental log price. */
export class Fundamental {
  /** Natural log of the fair value in minor units. */
  logF: number;
  readonly chain: RegimeChain;
  readonly beta: number;
  readonly dailyVol: number;
  private readonly sigmaSec: number;
  private readonly jumpPerSec: number;
  private readonly idioShare: number;
  private readonly mktShare: number;

  constructor(inst: SimInstrument, price: number, sessionSec: number, rng: Random) {
    this.logF = Math.log(price);
    this.chain = RegimeChain.draw(rng);
    this.beta = inst.beta;
    this.dailyVol = inst.dailyVol;
    const m = inst.beta * MODEL.marketDailyVol;
    const idio = Math.sqrt(Math.max(inst.dailyVol * inst.dailyVol - m * m, 0.09 * inst.dailyVol * inst.dailyVol));
    this.sigmaSec = idio / Math.sqrt(sessionSec);
    this.jumpPerSec = MODEL.jumpsPerDay / sessionSec;
    const total = m * m + idio * idio;
    this.idioShare = (idio * idio) / total;
    this.mktShare = (m * m) / total;
  }

  /** Advances by dtSec with intraday multiplier u, given the market factor's return over the same step. */
  advance(dtSec: number, u: number, marketReturn: number, rng: Random): void {
    this.chain.advance(dtSec, rng);
    let r = this.beta * marketReturn + this.sigmaSec * this.chain.mult * u * Math.sqrt(dtSec) * rng.normal();
    if (rng.float() < this.jumpPerSec * dtSec) {
      r += MODEL.jumpSizeDailyVols * this.dailyVol * rng.normal();
      if (rng.float() < MODEL.jumpStress) this.chain.state = STRESSED;
    }
    this.logF += r;
  }

  /** The overnight gap, given the market's. */
  overnight(marketGap: number, rng: Random): void {
    this.logF += this.beta * marketGap + MODEL.overnightDailyVols * this.dailyVol * rng.normal() * Math.sqrt(this.idioShare);
  }

  /** Current volatility relative to the normal level, from both regimes (for spreads and activity). */
  volRatio(market: MarketFactor): number {
    const mm = market.volRatio;
    const mi = this.chain.mult;
    return Math.sqrt(this.mktShare * mm * mm + this.idioShare * mi * mi);
  }

  /** Keeps log F within [lo, hi] by reflecting at the edges (used to stay inside the price band). */
  reflect(lo: number, hi: number): void {
    let x = this.logF;
    for (let i = 0; i < 4 && (x < lo || x > hi); i++) x = x > hi ? 2 * hi - x : 2 * lo - x;
    this.logF = x < lo ? lo : x > hi ? hi : x;
  }
}
