// The market behaves like a market: fat tails, volatility clustering, a real spread, never crossed, inside
// its price band. A smaller run than `npm run sim:stats` (which prints the full figures).
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../core/index.js';
import { Random, autocorr, kurtosis, median } from '../../sim/index.js';
import { smallUniverse, startRun } from './helpers.js';

describe('statistics helpers', () => {
  it('kurtosis is 3 for normal data and larger for fat tails; autocorrelation sees clustering', () => {
    const r = new Random(1);
    const normal = Array.from({ length: 200_000 }, () => r.normal());
    expect(kurtosis(normal)).toBeGreaterThan(2.95);
    expect(kurtosis(normal)).toBeLessThan(3.05);
    const mix = Array.from({ length: 200_000 }, () => r.normal() * (r.chance(0.1) ? 3 : 1));
    expect(kurtosis(mix)).toBeGreaterThan(6);
    expect(Math.abs(autocorr([normal.map(Math.abs)]))).toBeLessThan(0.01);
    // volatility in blocks of 100: |x| is autocorrelated
    const clustered = Array.from({ length: 100_000 }, (_, i) => r.normal() * (Math.floor(i / 100) % 2 === 0 ? 0.3 : 2));
    expect(autocorr([clustered.map(Math.abs)])).toBeGreaterThan(0.3);
    // pairs never straddle segments
    expect(autocorr([[1, 2, 3], [10, 11, 12]], 1)).toBeCloseTo(81 / 125.5, 12);
    expect(median([3, 1, 2, Number.NaN])).toBe(2);
  });
});

describe('simulated market statistics (2 sessions x 10 symbols)', () => {
  it('meets the thresholds: kurtosis > 3, |r| autocorrelation > 0.1, spread >= 1 tick, 0 crossed books, no band breaches', () => {
    const r = startRun({ seed: 11, universe: smallUniverse(10) });
    r.sessions(2);
    const s = r.stats.result();
    expect(s.returnsKurtosis).toBeGreaterThan(3);
    expect(s.absReturnAutocorrLag1).toBeGreaterThan(0.1);
    expect(s.medianSpreadTicks).toBeGreaterThanOrEqual(1);
    expect(s.crossedBooks).toBe(0);
    expect(s.priceBandBreaches).toBe(0);
    expect(s.twoSidedPct).toBeGreaterThan(99.9);
    expect(s.tradesPerSymbolPerMinute).toBeGreaterThan(3);
    expect(s.tradesPerSymbolPerMinute).toBeLessThan(40);
    expect(s.sessionMinutes).toBe(780);
    // bid-ask bounce makes raw returns slightly mean-reverting, not trending
    expect(Math.abs(s.returnAutocorrLag1)).toBeLessThan(0.2);
    for (const p of s.perSymbol) {
      expect(p.returns).toBeGreaterThan(700);
      // realised daily volatility in a sensible range (0.5 % - 10 %)
      expect(p.realizedDailyVol).toBeGreaterThan(0.005);
      expect(p.realizedDailyVol).toBeLessThan(0.1);
    }
    expect(checkInvariants(r.engine)).toEqual([]);
  });
});
