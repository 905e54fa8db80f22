import { describe, expect, it } from 'vitest';
import type { AccountView, PositionView, Quote } from '../../../engine/protocol/index.js';
import { liveAccount, livePosition } from '../../src/panels/pnl.js';

const pos = (symbol: string, qty: number, cost: number, mark: number): PositionView => ({
  symbol, qty, cost, avgPrice: qty === 0 ? 0 : cost / qty, reservedQty: 0, realizedPnl: 0, unrealizedPnl: qty * mark - cost, mark,
});
const quote = (symbol: string, last: number | null) => ({ symbol, last }) as Quote;

describe('live P&L uses the venue formula with the newest last trade, in exact integers', () => {
  it('marks a long and a short position to the live last', () => {
    const long = livePosition(pos('A', 300, 3_000_301, 10_000), quote('A', 10_007)); // bought at 100.0010033...
    expect(long.liveMark).toBe(10_007);
    expect(long.liveUnrealized).toBe(300 * 10_007 - 3_000_301);
    expect(long.marketValue).toBe(3_002_100);
    const short = livePosition(pos('B', -200, -1_000_000, 5_000), quote('B', 4_990));
    expect(short.liveUnrealized).toBe(2_000);
  });

  it('falls back to the venue mark when there is no last trade', () => {
    expect(livePosition(pos('A', 10, 100_000, 10_100), quote('A', null)).liveUnrealized).toBe(1_000);
    expect(livePosition(pos('A', 10, 100_000, 10_100), undefined).liveUnrealized).toBe(1_000);
  });

  it('sums the account: equity is cash plus market value', () => {
    const a = { cash: 5_000_000, positions: [pos('A', 100, 1_000_000, 10_000), pos('B', -50, -250_000, 5_000)] } as AccountView;
    const quotes: Record<string, Quote> = { A: quote('A', 10_050), B: quote('B', 5_010) };
    const la = liveAccount(a, (s) => quotes[s]);
    expect(la.unrealized).toBe(100 * 10_050 - 1_000_000 + (-50 * 5_010 + 250_000));
    expect(la.marketValue).toBe(1_005_000 - 250_500);
    expect(la.equity).toBe(5_000_000 + 1_005_000 - 250_500);
  });
});
