/**
 * The shorter version of the seeded stress run (the long one is `npm run stress`): invariants after every
 * command, shadow-ledger conservation, fills at or better than limits, price-time priority, no self trades.
 */
import { describe, expect, it } from 'vitest';
import { runStress } from '../../testing/stress.js';

describe('seeded stress', () => {
  it.each([1, 2, 3])('seed %i: 25k commands over 100 accounts and 4 symbols, no violation', (seed) => {
    const r = runStress({ seed, commands: 25_000, accounts: 100, symbols: 4, fullCheckEvery: 1 });
    expect(r.violations).toEqual([]);
    expect(r.fullChecks).toBe(r.commands);
    // the run must actually exercise the engine
    expect(r.trades).toBeGreaterThan(2_000);
    expect(r.eventCounts.OrderTriggered ?? 0).toBeGreaterThan(50);
    expect(r.eventCounts.OrderReplaced ?? 0).toBeGreaterThan(1_000);
    expect(Object.keys(r.rejections).length).toBeGreaterThan(10);
  });

  it('the reference book reaches the same final state', () => {
    const a = runStress({ seed: 9, commands: 6_000, accounts: 30, symbols: 2, fullCheckEvery: 10 });
    const b = runStress({ seed: 9, commands: 6_000, accounts: 30, symbols: 2, fullCheckEvery: 10, book: 'reference' });
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    expect(a.stateHash).toBe(b.stateHash);
  });

  // The corners the run above seldom reaches: OCO pairs of two limits or with a trailing leg, short-capable
  // accounts with little cash selling at market and withdrawing, short selling turned on and off, halts.
  // Checked besides: a rejection changes nothing, fill-or-kill is all or nothing, no trade while halted.
  const corners = { limit: 30, market: 10, stop: 10, bracket: 4, oco: 3, ocoPair: 8, shortSale: 8, shortToggle: 2, cash: 4, halt: 1, endSession: 0.5 };
  it.each([1, 2])('seed %i: corners (OCO pairs, short sales on little cash, toggles, halts) on both books', (seed) => {
    const opts = { seed, commands: 3_000, accounts: 12, symbols: 2, fullCheckEvery: 1, checkRejections: true, gen: { weights: corners, spreadTicks: 6 } };
    const a = runStress(opts);
    const b = runStress({ ...opts, book: 'reference' });
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    expect(a.stateHash).toBe(b.stateHash);
    expect(a.trades).toBeGreaterThan(300);
    expect(a.eventCounts.StopMoved ?? 0).toBeGreaterThan(0);
    expect(a.eventCounts.AccountLimitsChanged ?? 0).toBeGreaterThan(0);
  });
});
