import type { Engine } from './engine.js';
import type { Order } from './order.js';
import { MAX_MONEY } from './state.js';
import type { Side } from './types.js';

/**
 * Checks every structural invariant of the engine and returns the violations (empty when all hold):
 * - books never crossed; each level's total and count equal its orders; FIFO (entry sequence) within a level
 *   and strictly monotone prices across levels;
 * - the order index equals the books: every resting order is live and working, and every live resting order
 *   is in its book exactly once;
 * - every money total an exact integer within MAX_MONEY; no negative cash; no negative position for accounts that may not short; buying power never negative;
 * - reservations equal what working orders need, and account totals equal the sum over their holders.
 * O(orders + accounts): meant for tests and stress runs, not the hot path.
 */
export function checkInvariants(e: Engine): string[] {
  const bad: string[] = [];
  const seenResting = new Set<Order>();
  for (const inst of e.insts) {
    const book = inst.book;
    let count = 0;
    for (const side of ['buy', 'sell'] as Side[]) {
      const levels = book.depth(side, Number.MAX_SAFE_INTEGER);
      let li = -1;
      let lastPrice = 0;
      let lastSeq = 0;
      let sum = 0;
      let n = 0;
      const flush = (): void => {
        if (li < 0) return;
        const l = levels[li];
        if (l === undefined || l.price !== lastPrice || l.qty !== sum || l.orders !== n)
          bad.push(`${inst.symbol} ${side} level ${lastPrice}: book says ${JSON.stringify(l)}, orders sum ${sum}/${n}`);
      };
      for (let o = book.best(side); o !== null; o = book.next(o)) {
        count++;
        if (o.side !== side) bad.push(`order ${o.id} on the wrong side`);
        if (seenResting.has(o)) bad.push(`order ${o.id} appears twice in the book`);
        seenResting.add(o);
        if (e.orders.get(o.id) !== o) bad.push(`resting order ${o.id} is not in the order index`);
        if (!o.resting || o.status !== 'working' || o.type !== 'limit')
          bad.push(`resting order ${o.id} has state ${o.status}/${o.type}/${o.resting}`);
        if (o.leaves <= 0) bad.push(`resting order ${o.id} has no open quantity`);
        if (o.price !== lastPrice || li < 0) {
          if (li >= 0 && (side === 'buy' ? o.price >= lastPrice : o.price <= lastPrice))
            bad.push(`${inst.symbol} ${side} prices out of order at ${o.price}`);
          flush();
          li++;
          lastPrice = o.price;
          sum = 0;
          n = 0;
          lastSeq = 0;
        }
        if (o.seq <= lastSeq) bad.push(`${inst.symbol} level ${o.price} breaks FIFO at order ${o.id}`);
        lastSeq = o.seq;
        sum += o.leaves;
        n++;
      }
      flush();
      if (levels.length !== li + 1) bad.push(`${inst.symbol} ${side}: ${levels.length} levels, ${li + 1} walked`);
    }
    if (count !== book.size) bad.push(`${inst.symbol}: book size ${book.size}, walked ${count}`);
    const bid = book.bestPrice('buy');
    const ask = book.bestPrice('sell');
    if (bid !== 0 && ask !== 0 && bid >= ask) bad.push(`${inst.symbol} book crossed: bid ${bid} >= ask ${ask}`);
    for (const o of inst.buyStops) if (e.orders.get(o.id) !== o || o.status !== 'pending_trigger') bad.push(`stale buy stop ${o.id}`);
    for (const o of inst.sellStops) if (e.orders.get(o.id) !== o || o.status !== 'pending_trigger') bad.push(`stale sell stop ${o.id}`);
    for (const o of inst.trailing) if (e.orders.get(o.id) !== o || o.status !== 'pending_trigger') bad.push(`stale trailing stop ${o.id}`);
  }
  for (const o of e.orders.values()) {
    if (o.resting && !seenResting.has(o)) bad.push(`order ${o.id} claims to rest but is not in its book`);
    if (o.status === 'working' && !o.resting) bad.push(`working order ${o.id} is not resting`);
  }

  // reservations
  const cashBy = new Map<number, number>();
  const sharesBy = new Map<string, number>();
  const openBy = new Map<number, number>();
  const add = <K>(m: Map<K, number>, k: K, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  for (const o of e.orders.values()) {
    add(openBy, o.accountId, 1);
    add(cashBy, o.accountId, o.resvCash);
    add(sharesBy, `${o.accountId}:${o.instIdx}`, o.resvShares);
    const a = e.accounts.get(o.accountId)!;
    if (o.oco !== null) {
      if (o.resvCash !== 0 || o.resvShares !== 0) bad.push(`group leg ${o.id} holds its own reservation`);
      if (o.oco.a !== o && o.oco.b !== o) bad.push(`order ${o.id} is not a leg of its group`);
      continue;
    }
    const need = o.status === 'pending_parent' || o.type === 'market' ? 0 : o.leaves;
    const px = o.type === 'limit' || o.type === 'stop_limit' ? o.price : o.stopPrice;
    if (o.side === 'buy') {
      if (need === 0 ? o.resvCash !== 0 : o.resvCash !== px * need || o.resvPx !== px)
        bad.push(`buy order ${o.id} reserves ${o.resvCash} at ${o.resvPx}, needs ${px} x ${need}`);
    } else if (!a.allowShort) {
      if (o.resvShares !== need || o.resvCash !== 0) bad.push(`sell order ${o.id} reserves ${o.resvShares} shares, needs ${need}`);
    } else if (o.resvShares + (o.resvPx === 0 ? 0 : o.resvCash / o.resvPx) !== need) {
      bad.push(`short-capable sell ${o.id} reserves ${o.resvShares} + ${o.resvCash}/${o.resvPx}, needs ${need}`);
    }
  }
  for (const g of e.groups) {
    if (g.a.oco !== g || g.b.oco !== g) bad.push(`group ${g.a.id}/${g.b.id} is not linked from its legs`);
    if (e.orders.get(g.a.id) !== g.a || e.orders.get(g.b.id) !== g.b) bad.push(`group ${g.a.id}/${g.b.id} has a dead leg`);
    const need = e.groupNeed(g);
    const a = e.accounts.get(g.a.accountId)!;
    if (g.a.side === 'buy') {
      if (g.resvCash !== need.cash) bad.push(`group ${g.a.id}/${g.b.id} reserves ${g.resvCash}, needs ${need.cash}`);
    } else if (!a.allowShort) {
      if (g.resvShares !== need.leaves) bad.push(`group ${g.a.id}/${g.b.id} reserves ${g.resvShares} shares, needs ${need.leaves}`);
    }
    add(cashBy, g.a.accountId, g.resvCash);
    add(sharesBy, `${g.a.accountId}:${g.a.instIdx}`, g.resvShares);
  }
  const exact = (what: string, v: number): void => {
    if (!Number.isSafeInteger(v) || Math.abs(v) > MAX_MONEY) bad.push(`${what} ${v} is not an exact amount`);
  };
  for (const inst of e.insts) {
    exact(`${inst.symbol} turnover`, inst.turnover);
    exact(`${inst.symbol} volume`, inst.volume);
  }
  for (const a of e.accounts.values()) {
    exact(`account ${a.id} cash`, a.cash);
    exact(`account ${a.id} reserved cash`, a.reservedCash);
    exact(`account ${a.id} short proceeds`, a.shortCost);
    exact(`account ${a.id} realized`, a.realized);
    for (const [idx, p] of a.positions) {
      exact(`account ${a.id} ${e.insts[idx]!.symbol} cost`, p.cost);
      exact(`account ${a.id} ${e.insts[idx]!.symbol} realized`, p.realized);
    }
    if (a.cash < 0) bad.push(`account ${a.id} has negative cash ${a.cash}`);
    if (a.buyingPower < 0) bad.push(`account ${a.id} has negative buying power ${a.buyingPower}`);
    if (a.reservedCash !== (cashBy.get(a.id) ?? 0))
      bad.push(`account ${a.id} reservedCash ${a.reservedCash} != orders ${cashBy.get(a.id) ?? 0}`);
    if (a.openOrders !== (openBy.get(a.id) ?? 0)) bad.push(`account ${a.id} openOrders ${a.openOrders} != ${openBy.get(a.id) ?? 0}`);
    let shortCost = 0;
    for (const [idx, p] of a.positions) {
      if (p.qty < 0 && !a.allowShort) bad.push(`account ${a.id} is short ${p.qty} of ${e.insts[idx]!.symbol}`);
      if (p.reserved < 0) bad.push(`account ${a.id} reserves negative shares`);
      if (!a.allowShort && p.reserved > p.qty) bad.push(`account ${a.id} reserves ${p.reserved} of ${p.qty} shares`);
      if (p.reserved !== (sharesBy.get(`${a.id}:${idx}`) ?? 0))
        bad.push(`account ${a.id} reserved shares ${p.reserved} != orders ${sharesBy.get(`${a.id}:${idx}`) ?? 0}`);
      if (p.qty === 0 && p.cost !== 0) bad.push(`account ${a.id} has cost ${p.cost} on a flat position`);
      if (p.qty !== 0 && Math.sign(p.cost) !== Math.sign(p.qty)) bad.push(`account ${a.id} cost sign differs from qty`);
      if (p.qty < 0) shortCost -= p.cost;
    }
    if (shortCost !== a.shortCost) bad.push(`account ${a.id} shortCost ${a.shortCost} != ${shortCost}`);
  }
  return bad;
}

/** Conserved totals: all cash, and net shares per symbol (zero: every trade moves shares between accounts). */
export function totals(e: Engine): { cash: number; shares: Record<string, number> } {
  let cash = 0;
  const shares: Record<string, number> = {};
  for (const inst of e.insts) shares[inst.symbol] = 0;
  for (const a of e.accounts.values()) {
    cash += a.cash;
    for (const [idx, p] of a.positions) shares[e.insts[idx]!.symbol]! += p.qty;
  }
  return { cash, shares };
}
