/**
 * Seeded workloads for tests, stress runs and benchmarks: a market of a few symbols and many accounts, and a
 * generator of random commands over every order type that tracks live orders from the returned events (as a
 * client would), so cancels and replaces mostly hit live orders. Pure: no clock, no I/O, no Math.random.
 */
import { Random } from '../sim/random.js';
import type { Command, EngineEvent, InstrumentSpec, OrderType, Side, StpMode, TimeInForce } from '../core/types.js';

/**
 * The workloads' generator: engine/sim's `Random` started from the fixed state these workloads have always
 * used (so seeds keep producing the recorded golden and stress sequences).
 */
export type Rng = Random;
export function workloadRng(seed: number): Random {
  const r = Random.fromState([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed | 0, null]);
  for (let i = 0; i < 15; i++) r.u32();
  return r;
}

export interface MarketSpec {
  symbols: InstrumentSpec[];
  accounts: number;
  /** Accounts with ids above accounts - shortAccounts may sell short. */
  shortAccounts: number;
  cashPerAccount: number;
}

export function defaultMarket(accounts = 8, symbols = 2): MarketSpec {
  const all: InstrumentSpec[] = [
    { symbol: 'ACME', name: 'Acme Corp', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 1_000 },
    { symbol: 'GLOBX', name: 'Globex', tickSize: 5, lotSize: 10, referencePrice: 25_000, bandBps: 2_000 },
    { symbol: 'INIT', name: 'Initech', tickSize: 1, lotSize: 1, referencePrice: 2_000, bandBps: 1_500 },
    { symbol: 'UMBR', name: 'Umbrella', tickSize: 1, lotSize: 5, referencePrice: 5_000, bandBps: 1_000 },
    { symbol: 'HOOLI', name: 'Hooli', tickSize: 2, lotSize: 1, referencePrice: 40_000, bandBps: 1_000 },
    { symbol: 'WAYNE', name: 'Wayne Ent', tickSize: 1, lotSize: 1, referencePrice: 15_000, bandBps: 1_000 },
    { symbol: 'STARK', name: 'Stark Ind', tickSize: 1, lotSize: 1, referencePrice: 30_000, bandBps: 1_000 },
    { symbol: 'TYRL', name: 'Tyrell', tickSize: 1, lotSize: 1, referencePrice: 8_000, bandBps: 1_000 },
    { symbol: 'CYBD', name: 'Cyberdyne', tickSize: 1, lotSize: 1, referencePrice: 12_000, bandBps: 1_000 },
    { symbol: 'SOYL', name: 'Soylent', tickSize: 1, lotSize: 1, referencePrice: 3_000, bandBps: 1_000 },
  ];
  return {
    symbols: all.slice(0, symbols),
    accounts,
    shortAccounts: Math.max(1, Math.floor(accounts / 4)),
    cashPerAccount: 5_000_000_000,
  };
}

/** Commands that create the market: instruments, funded accounts, and long positions for the non-short
 * accounts (bought from the short-capable accounts), so random sells have shares to sell. */
export function setupCommands(m: MarketSpec, firstOrderId = 1_000_000_000): Command[] {
  const out: Command[] = [];
  let ts = 1_700_000_000_000;
  for (const s of m.symbols) out.push({ type: 'CreateInstrument', ts, instrument: s });
  for (let id = 1; id <= m.accounts; id++) {
    out.push({ type: 'OpenAccount', ts, accountId: id, allowShort: id > m.accounts - m.shortAccounts });
    out.push({ type: 'Deposit', ts, accountId: id, amount: m.cashPerAccount });
  }
  let oid = firstOrderId;
  const seller = m.accounts; // short-capable
  for (const s of m.symbols) {
    for (let id = 1; id <= m.accounts - m.shortAccounts; id++) {
      const qty = s.lotSize * 1000;
      ts += 1;
      out.push({ type: 'PlaceOrder', ts, orderId: oid++, accountId: seller, symbol: s.symbol, side: 'sell', orderType: 'limit', qty, price: s.referencePrice, tif: 'gtc' });
      out.push({ type: 'PlaceOrder', ts, orderId: oid++, accountId: id, symbol: s.symbol, side: 'buy', orderType: 'limit', qty, price: s.referencePrice, tif: 'gtc' });
    }
  }
  return out;
}

interface Live {
  id: number;
  accountId: number;
  symbol: string;
  side: Side;
  type: OrderType;
}

export interface GenOptions {
  /** Relative weights of command kinds. */
  weights?: Partial<
    Record<
      | 'limit'
      | 'market'
      | 'stop'
      | 'bracket'
      | 'oco'
      | 'cancel'
      | 'replace'
      | 'cash'
      | 'halt'
      | 'endSession'
      | 'bad'
      // off by default (so existing seeds keep their sequences):
      | 'ocoPair' // an OCO pair of two limits, or of a limit and a trailing stop
      | 'shortSale' // a short-capable account sells at market, or withdraws a large part of its cash
      | 'shortToggle', // SetAccountLimits turning an account's short selling on or off
      number
    >
  >;
  /** Price offsets are drawn within ±spreadTicks of the mark. */
  spreadTicks?: number;
}

/**
 * A stateful random command generator. Call `next()` for a command, then `observe(events)` with what the
 * engine returned so the generator's view of live orders stays current.
 */
export class CommandGenerator {
  private readonly rng: Rng;
  private ts = 1_700_000_100_000;
  private orderId = 1;
  private readonly live = new Map<number, Live>();
  private readonly liveIds: number[] = [];
  private readonly mark = new Map<string, number>();
  private readonly halted = new Set<string>();
  private readonly w: [string, number][];
  private readonly wTotal: number;
  private readonly spread: number;
  private cid = 0;

  constructor(
    private readonly m: MarketSpec,
    seed: number,
    opts: GenOptions = {},
  ) {
    this.rng = workloadRng(seed);
    const w = {
      limit: 40,
      market: 6,
      stop: 6,
      bracket: 3,
      oco: 2,
      cancel: 18,
      replace: 18,
      cash: 2,
      halt: 0.3,
      endSession: 0.2,
      bad: 2,
      ocoPair: 0,
      shortSale: 0,
      shortToggle: 0,
      ...opts.weights,
    };
    this.w = Object.entries(w);
    this.wTotal = this.w.reduce((s, [, v]) => s + v, 0);
    this.spread = opts.spreadTicks ?? 12;
    for (const s of m.symbols) this.mark.set(s.symbol, s.referencePrice);
  }

  get liveCount(): number {
    return this.live.size;
  }

  private kind(): string {
    let r = this.rng.float() * this.wTotal;
    for (const [k, v] of this.w) {
      r -= v;
      if (r < 0) return k;
    }
    return 'limit';
  }

  private px(symbol: string, offTicks: number): number {
    const s = this.m.symbols.find((x) => x.symbol === symbol)!;
    const p = this.mark.get(symbol)! + offTicks * s.tickSize;
    const lo = Math.ceil((s.referencePrice * (10_000 - s.bandBps)) / 10_000 / s.tickSize) * s.tickSize;
    return Math.max(lo, Math.min(p, Math.floor((s.referencePrice * (10_000 + s.bandBps)) / 10_000 / s.tickSize) * s.tickSize));
  }

  private spec(side: Side, type: OrderType, symbol: string) {
    const s = this.m.symbols.find((x) => x.symbol === symbol)!;
    const rng = this.rng;
    const qty = s.lotSize * rng.int(1, 30);
    const o: {
      symbol: string;
      side: Side;
      orderType: OrderType;
      qty: number;
      tif: TimeInForce;
      price?: number;
      stopPrice?: number;
      trailAmount?: number;
      postOnly?: boolean;
      stp?: StpMode;
      clientOrderId?: string;
    } = { symbol, side, orderType: type, qty, tif: rng.chance(0.7) ? 'gtc' : 'day' };
    const dir = side === 'buy' ? -1 : 1;
    switch (type) {
      case 'limit': {
        o.price = this.px(symbol, dir * rng.int(-3, this.spread));
        const r = rng.float();
        if (r < 0.08) o.tif = 'ioc';
        else if (r < 0.12) o.tif = 'fok';
        else if (r < 0.18) o.postOnly = true;
        break;
      }
      case 'market':
        o.tif = rng.chance(0.9) ? 'ioc' : 'fok';
        break;
      case 'stop':
        o.stopPrice = this.px(symbol, -dir * rng.int(1, this.spread));
        break;
      case 'stop_limit':
        o.stopPrice = this.px(symbol, -dir * rng.int(1, this.spread));
        o.price = this.px(symbol, -dir * rng.int(1, this.spread + 4));
        break;
      case 'trailing_stop':
        o.trailAmount = s.tickSize * rng.int(1, 8);
        break;
    }
    if (rng.chance(0.1)) o.stp = rng.pick(['cancel_taker', 'cancel_maker', 'cancel_both'] as const);
    if (rng.chance(0.15)) o.clientOrderId = rng.chance(0.1) && this.cid > 0 ? `c${this.cid}` : `c${++this.cid}`;
    return o;
  }

  next(): Command {
    const rng = this.rng;
    this.ts += rng.int(0, 4_000);
    const ts = this.ts;
    const m = this.m;
    const accountId = rng.int(1, m.accounts);
    const symbol = rng.pick(m.symbols).symbol;
    const side: Side = rng.chance(0.5) ? 'buy' : 'sell';
    if (this.halted.size > 0 && rng.chance(0.05)) {
      const sym = [...this.halted][0]!;
      this.halted.delete(sym);
      return { type: 'SetInstrumentStatus', ts, symbol: sym, status: 'open' };
    }
    const k = this.kind();
    switch (k) {
      case 'limit':
      case 'market':
        return { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, ...this.spec(side, k, symbol) };
      case 'stop':
        return {
          type: 'PlaceOrder',
          ts,
          orderId: this.orderId++,
          accountId,
          ...this.spec(side, rng.pick(['stop', 'stop_limit', 'trailing_stop'] as const), symbol),
        };
      case 'bracket': {
        const s = m.symbols.find((x) => x.symbol === symbol)!;
        const entry = this.spec(side, rng.chance(0.7) ? 'limit' : 'market', symbol);
        const dir = side === 'buy' ? 1 : -1;
        const ref = entry.price ?? this.mark.get(symbol)!;
        const bracket: { takeProfit?: { orderId: number; price: number }; stopLoss?: { orderId: number; stopPrice: number; price?: number } } = {};
        if (rng.chance(0.85)) bracket.takeProfit = { orderId: this.orderId + 1, price: this.clampPx(s, ref + dir * s.tickSize * rng.int(1, 10)) };
        if (rng.chance(0.85) || bracket.takeProfit === undefined) {
          bracket.stopLoss = { orderId: this.orderId + 2, stopPrice: this.clampPx(s, ref - dir * s.tickSize * rng.int(1, 10)) };
          if (rng.chance(0.3)) bracket.stopLoss.price = this.clampPx(s, bracket.stopLoss.stopPrice - dir * s.tickSize * rng.int(0, 3));
        }
        const cmd: Command = { type: 'PlaceOrder', ts, orderId: this.orderId, accountId, ...entry, bracket };
        this.orderId += 3;
        return cmd;
      }
      case 'oco': {
        const a = this.spec(side, 'limit', symbol);
        const b = this.spec(side, rng.chance(0.7) ? 'stop' : 'stop_limit', symbol);
        if (a.tif === 'ioc' || a.tif === 'fok') a.tif = 'gtc';
        delete a.postOnly;
        b.qty = a.qty;
        const cmd: Command = { type: 'PlaceOco', ts, accountId, legs: [{ ...a, orderId: this.orderId }, { ...b, orderId: this.orderId + 1 }] };
        this.orderId += 2;
        return cmd;
      }
      case 'ocoPair': {
        const a = this.spec(side, 'limit', symbol);
        const b = this.spec(side, rng.chance(0.5) ? 'limit' : 'trailing_stop', symbol);
        for (const l of [a, b]) {
          if (l.tif === 'ioc' || l.tif === 'fok') l.tif = 'gtc';
          delete l.postOnly;
        }
        if (rng.chance(0.5)) b.qty = a.qty;
        const cmd: Command = { type: 'PlaceOco', ts, accountId, legs: [{ ...a, orderId: this.orderId }, { ...b, orderId: this.orderId + 1 }] };
        this.orderId += 2;
        return cmd;
      }
      case 'shortSale': {
        const seller = rng.int(m.accounts - m.shortAccounts + 1, m.accounts);
        if (rng.chance(0.3)) return { type: 'Withdraw', ts, accountId: seller, amount: rng.int(1, m.cashPerAccount) };
        return { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId: seller, ...this.spec('sell', 'market', symbol) };
      }
      case 'shortToggle':
        return { type: 'SetAccountLimits', ts, accountId, limits: {}, allowShort: rng.chance(0.5) };
      case 'cancel':
      case 'replace': {
        const target = this.pickLive();
        if (target === undefined) return { type: 'CancelOrder', ts, accountId, orderId: rng.int(1, this.orderId) };
        const owner = rng.chance(0.03) ? accountId : target.accountId;
        if (k === 'cancel') return { type: 'CancelOrder', ts, accountId: owner, orderId: target.id };
        const s = m.symbols.find((x) => x.symbol === target.symbol)!;
        const r: Command = { type: 'ReplaceOrder', ts, accountId: owner, orderId: target.id };
        const dir = target.side === 'buy' ? -1 : 1;
        if (target.type === 'limit' || target.type === 'stop_limit' || rng.chance(0.3)) {
          if (rng.chance(0.7)) r.price = this.px(target.symbol, dir * rng.int(-2, this.spread));
        }
        if (target.type === 'stop' || target.type === 'stop_limit') {
          if (rng.chance(0.5)) r.stopPrice = this.px(target.symbol, -dir * rng.int(1, this.spread));
        }
        if (target.type === 'trailing_stop' && rng.chance(0.5)) r.trailAmount = s.tickSize * rng.int(1, 8);
        if (rng.chance(0.4) || (r.price === undefined && r.stopPrice === undefined && r.trailAmount === undefined))
          r.qty = s.lotSize * rng.int(1, 40);
        return r;
      }
      case 'cash':
        return rng.chance(0.6)
          ? { type: 'Deposit', ts, accountId, amount: rng.int(1, 5_000_000) }
          : { type: 'Withdraw', ts, accountId, amount: rng.int(1, 50_000_000) };
      case 'halt': {
        const halted = this.halted.has(symbol);
        if (halted) this.halted.delete(symbol);
        else this.halted.add(symbol);
        return { type: 'SetInstrumentStatus', ts, symbol, status: halted ? 'open' : 'halted' };
      }
      case 'endSession':
        return { type: 'EndSession', ts };
      default: {
        // malformed or hopeless commands: every one must be rejected cleanly
        const bad: Command[] = [
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, symbol: 'NOPE', side, orderType: 'limit', qty: 1, price: 100, tif: 'gtc' },
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId: 99_999, symbol, side, orderType: 'market', qty: 1, tif: 'ioc' },
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, symbol, side, orderType: 'limit', qty: 0, price: this.px(symbol, 0), tif: 'gtc' },
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, symbol, side, orderType: 'limit', qty: 1.5, price: this.px(symbol, 0), tif: 'gtc' },
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, symbol, side, orderType: 'limit', qty: 1e9, price: this.px(symbol, 0), tif: 'gtc' },
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, symbol, side, orderType: 'limit', qty: 10, price: 1, tif: 'gtc' },
          { type: 'PlaceOrder', ts, orderId: this.orderId++, accountId, symbol, side, orderType: 'limit', qty: 10, tif: 'gtc' },
          { type: 'PlaceOrder', ts, orderId: 1, accountId, symbol, side, orderType: 'limit', qty: 10, price: this.px(symbol, 0), tif: 'gtc' },
          { type: 'CancelOrder', ts, accountId, orderId: -5 },
          { type: 'Withdraw', ts, accountId, amount: -1 },
        ];
        return rng.pick(bad);
      }
    }
  }

  private clampPx(s: InstrumentSpec, p: number): number {
    const lo = Math.ceil((s.referencePrice * (10_000 - s.bandBps)) / 10_000 / s.tickSize) * s.tickSize;
    const hi = Math.floor((s.referencePrice * (10_000 + s.bandBps)) / 10_000 / s.tickSize) * s.tickSize;
    return Math.max(lo, Math.min(hi, p));
  }

  private pickLive(): Live | undefined {
    const ids = this.liveIds;
    while (ids.length > 0) {
      const i = this.rng.int(0, ids.length - 1);
      const id = ids[i]!;
      const o = this.live.get(id);
      if (o !== undefined) return o;
      ids[i] = ids[ids.length - 1]!;
      ids.pop();
    }
    return undefined;
  }

  observe(events: readonly EngineEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'OrderAccepted':
          this.live.set(e.orderId, { id: e.orderId, accountId: e.accountId, symbol: e.symbol, side: e.side, type: e.orderType });
          this.liveIds.push(e.orderId);
          break;
        case 'OrderCanceled':
          this.live.delete(e.orderId);
          break;
        case 'Trade':
          this.mark.set(e.symbol, e.price);
          if (e.makerLeaves === 0) this.live.delete(e.makerOrderId);
          if (e.takerLeaves === 0) this.live.delete(e.takerOrderId);
          break;
        case 'SessionEnded':
          break;
      }
    }
  }
}
