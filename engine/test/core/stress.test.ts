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
});
