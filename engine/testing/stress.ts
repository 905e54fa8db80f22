/**
 * Seeded stress run of the engine with invariant checks after every command. Pure (no clock, no I/O): the
 * caller times it. Checks, after every command:
 * - the full structural invariants (checkInvariants) every `fullCheckEvery` commands (1 = every command):
 *   books never crossed; each level's total equals its orders; order index equals the books; FIFO within a
 *   level; no negative cash or (non-short) position; reservations equal what working orders need;
 * - books not crossed (every command, all symbols);
 * - conservation: a shadow ledger built only from events (deposits, withdrawals, trades) must equal every
 *   touched account's cash and positions, so total cash and total shares per symbol are conserved;
 * - every fill at or better than its limit (limits tracked from the events), makers fill at their own price;
 * - price-time priority: the first maker hit by an incoming order is the book's best order before it came;
 * - a fill-or-kill order fills completely or not at all; nothing trades in a symbol halted before the command
 *   (unless the command reopens it);
 * - with `checkRejections`, a rejected command leaves the state hash unchanged.
 */
import { Engine, type EngineOptions } from '../core/engine.js';
import { checkInvariants } from '../core/invariants.js';
import type { Command, EngineEvent } from '../core/types.js';
import { CommandGenerator, defaultMarket, setupCommands, type GenOptions } from './workload.js';

export interface StressOptions {
  seed: number;
  commands: number;
  accounts: number;
  symbols: number;
  fullCheckEvery?: number;
  book?: EngineOptions['book'];
  gen?: GenOptions;
  /** Stop at the first violation (default true). */
  stopOnViolation?: boolean;
  /** Hash the state around every command to check rejections change nothing (slower; default false). */
  checkRejections?: boolean;
}

export interface StressResult {
  commands: number;
  events: number;
  trades: number;
  rejections: Record<string, number>;
  eventCounts: Record<string, number>;
  maxLiveOrders: number;
  violations: string[];
  fullChecks: number;
  stateHash: string;
}

export function runStress(opts: StressOptions): StressResult {
  const m = defaultMarket(opts.accounts, opts.symbols);
  const e = new Engine({ book: opts.book ?? 'fast' });
  const every = opts.fullCheckEvery ?? 1;
  const stop = opts.stopOnViolation ?? true;
  const cash = new Map<number, number>();
  const pos = new Map<string, number>();
  const limits = new Map<number, { px: number; side: string; type: string }>();
  const violations: string[] = [];
  const rejections: Record<string, number> = {};
  const eventCounts: Record<string, number> = {};
  let events = 0;
  let trades = 0;
  let maxLive = 0;
  let fullChecks = 0;

  const apply = (c: Command, n: number): EngineEvent[] => {
    // capture the best orders before an incoming order, for the priority check
    let preBest: { buy: number | null; sell: number | null } | null = null;
    if (c.type === 'PlaceOrder' || c.type === 'ReplaceOrder') {
      const sym = c.type === 'PlaceOrder' ? c.symbol : e.order(c.orderId)?.symbol;
      const inst = sym === undefined ? undefined : e.instBySymbol.get(sym);
      if (inst !== undefined) preBest = { buy: inst.book.best('buy')?.id ?? null, sell: inst.book.best('sell')?.id ?? null };
    }
    const hashBefore = opts.checkRejections === true ? e.stateHash() : '';
    const haltedBefore = new Set(e.insts.filter((i) => i.status !== 'open').map((i) => i.symbol));
    const ev = e.execute(c);
    events += ev.length;
    if (ev[0]?.type === 'Rejected') {
      if (ev.length !== 1) violations.push(`#${n}: a rejection came with other events`);
      if (opts.checkRejections === true && e.stateHash() !== hashBefore) violations.push(`#${n}: rejected ${c.type} changed the state`);
    }
    if (c.type === 'PlaceOrder' && c.tif === 'fok' && ev[0]?.type === 'OrderAccepted') {
      let filled = 0;
      for (const x of ev) if (x.type === 'Trade' && x.takerOrderId === c.orderId) filled += x.qty;
      if (filled !== c.qty) violations.push(`#${n}: fill-or-kill ${c.orderId} filled ${filled} of ${c.qty}`);
    }
    const touched = new Set<number>();
    let firstTradeSeen = false;
    let selfCancelSeen = false;
    for (const x of ev) {
      eventCounts[x.type] = (eventCounts[x.type] ?? 0) + 1;
      switch (x.type) {
        case 'Rejected':
          rejections[x.code] = (rejections[x.code] ?? 0) + 1;
          break;
        case 'CashMoved':
          cash.set(x.accountId, (cash.get(x.accountId) ?? 0) + x.amount);
          touched.add(x.accountId);
          break;
        case 'OrderAccepted':
          limits.set(x.orderId, { px: x.price ?? 0, side: x.side, type: x.orderType === 'limit' ? 'limit' : 'other' });
          break;
        case 'OrderReplaced': {
          const l = limits.get(x.orderId);
          if (l !== undefined && x.price !== undefined) l.px = x.price;
          break;
        }
        case 'OrderTriggered': {
          const l = limits.get(x.orderId);
          if (l !== undefined) {
            l.type = x.orderType;
            if (x.price !== undefined) l.px = x.price;
          }
          break;
        }
        case 'OrderCanceled':
          if (x.reason === 'self_trade') selfCancelSeen = true;
          break;
        case 'Trade': {
          trades++;
          if (haltedBefore.has(x.symbol) && !(c.type === 'SetInstrumentStatus' && c.status === 'open' && c.symbol === x.symbol))
            violations.push(`#${n}: trade ${x.tradeId} in ${x.symbol} while halted`);
          const buyer = x.aggressor === 'buy' ? x.takerAccountId : x.makerAccountId;
          const seller = x.aggressor === 'buy' ? x.makerAccountId : x.takerAccountId;
          if (buyer === seller) violations.push(`#${n}: self trade ${x.tradeId}`);
          cash.set(buyer, (cash.get(buyer) ?? 0) - x.price * x.qty);
          cash.set(seller, (cash.get(seller) ?? 0) + x.price * x.qty);
          pos.set(`${buyer}:${x.symbol}`, (pos.get(`${buyer}:${x.symbol}`) ?? 0) + x.qty);
          pos.set(`${seller}:${x.symbol}`, (pos.get(`${seller}:${x.symbol}`) ?? 0) - x.qty);
          touched.add(buyer);
          touched.add(seller);
          const mk = limits.get(x.makerOrderId);
          if (mk === undefined || mk.px !== x.price) violations.push(`#${n}: maker ${x.makerOrderId} filled at ${x.price}, its limit is ${mk?.px}`);
          const tk = limits.get(x.takerOrderId);
          if (tk !== undefined && tk.type === 'limit' && (x.aggressor === 'buy' ? x.price > tk.px : x.price < tk.px))
            violations.push(`#${n}: taker ${x.takerOrderId} ${x.aggressor} limit ${tk.px} filled at ${x.price}`);
          if (!firstTradeSeen && preBest !== null && !selfCancelSeen && x.takerOrderId === ((c as { orderId?: number }).orderId ?? -1)) {
            const expect = x.aggressor === 'buy' ? preBest.sell : preBest.buy;
            if (expect !== x.makerOrderId) violations.push(`#${n}: first maker ${x.makerOrderId}, best order was ${expect}`);
          }
          firstTradeSeen = true;
          break;
        }
      }
    }
    // shadow ledger vs engine for every touched account
    for (const id of touched) {
      const a = e.accounts.get(id);
      if (a === undefined) continue;
      if (a.cash !== (cash.get(id) ?? 0)) violations.push(`#${n}: account ${id} cash ${a.cash}, ledger says ${cash.get(id)}`);
      for (const inst of e.insts) {
        const q = a.positions.get(inst.idx)?.qty ?? 0;
        const want = pos.get(`${id}:${inst.symbol}`) ?? 0;
        if (q !== want) violations.push(`#${n}: account ${id} holds ${q} ${inst.symbol}, ledger says ${want}`);
      }
    }
    for (const inst of e.insts) {
      const b = inst.book.bestPrice('buy');
      const s = inst.book.bestPrice('sell');
      if (b !== 0 && s !== 0 && b >= s) violations.push(`#${n}: ${inst.symbol} crossed ${b}/${s}`);
    }
    if (every > 0 && n % every === 0) {
      fullChecks++;
      for (const v of checkInvariants(e)) violations.push(`#${n}: ${v}`);
    }
    if (e.liveOrders > maxLive) maxLive = e.liveOrders;
    return ev;
  };

  let n = 0;
  for (const c of setupCommands(m)) apply(c, n++);
  const gen = new CommandGenerator(m, opts.seed, opts.gen);
  for (let i = 0; i < opts.commands; i++) {
    const c = gen.next();
    gen.observe(apply(c, n++));
    if (stop && violations.length > 0) break;
  }
  for (const v of checkInvariants(e)) violations.push(`final: ${v}`);
  return {
    commands: n,
    events,
    trades,
    rejections,
    eventCounts,
    maxLiveOrders: maxLive,
    violations: violations.slice(0, 50),
    fullChecks,
    stateHash: e.stateHash(),
  };
}
