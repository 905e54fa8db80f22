/**
 * Live position figures: the venue's formula (unrealized = qty × mark − cost, equity = cash + Σ qty × mark)
 * with the newest last trade as the mark, in exact integers.
 */
import type { AccountView, PositionView, Quote } from '../data/types.js';

export interface LivePosition extends PositionView {
  /** The mark used: the live last trade when known, else the venue's mark. */
  liveMark: number;
  liveUnrealized: number;
  marketValue: number;
}

export function livePosition(p: PositionView, q: Pick<Quote, 'last'> | undefined): LivePosition {
  const mark = q?.last ?? p.mark;
  return { ...p, liveMark: mark, liveUnrealized: p.qty * mark - p.cost, marketValue: p.qty * mark };
}

export interface LiveAccount {
  unrealized: number;
  equity: number;
  marketValue: number;
}

export function liveAccount(a: AccountView, quotes: (symbol: string) => Pick<Quote, 'last'> | undefined): LiveAccount {
  let unrealized = 0;
  let marketValue = 0;
  for (const p of a.positions) {
    const lp = livePosition(p, quotes(p.symbol));
    unrealized += lp.liveUnrealized;
    marketValue += lp.marketValue;
  }
  return { unrealized, marketValue, equity: a.cash + marketValue };
}
