/**
 * Seeded synthetic order flow for exercising a venue: the torture test, the benchmark and the tests use it.
 * Every client is a small random trader on its own account (limit, market, stop, trailing, bracket and OCO
 * orders, cancels, replaces, cash moves, client order ids with occasional deliberate duplicates); prices
 * follow the venue's own last price so orders trade. Same seed + same acknowledgements = same flow.
 */
import type { AccountId, InstrumentSpec, OrderId, OrderSpec, Side, TimeInForce } from '../core/types.js';
import type { VenueCommand } from './codec.js';
import type { Ack, EngineView } from './venue.js';

/** Mulberry32: a small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LoadSetup {
  symbols: string[];
  accounts: AccountId[];
  /** Commands that create the instruments and accounts and fund them. */
  commands: VenueCommand[];
}

/** Instruments, accounts (every fourth may not sell short) and deposits. */
export function loadSetup(opts: { symbols?: number; accounts?: number; firstAccount?: number } = {}): LoadSetup {
  const symbols = Array.from({ length: opts.symbols ?? 4 }, (_, i) => `SYM${i}`);
  const first = opts.firstAccount ?? 1;
  const accounts = Array.from({ length: opts.accounts ?? 16 }, (_, i) => first + i);
  const commands: VenueCommand[] = [];
  for (const s of symbols) {
    const spec: InstrumentSpec = { symbol: s, name: `Test ${s}`, tickSize: 1, lotSize: 10, referencePrice: 10_000, bandBps: 1000 };
    commands.push({ type: 'CreateInstrument', instrument: spec });
  }
  for (const a of accounts) {
    commands.push({ type: 'OpenAccount', accountId: a, allowShort: a % 4 !== 0 });
    commands.push({ type: 'Deposit', accountId: a, amount: 10_000_000_000 });
  }
  return { symbols, accounts, commands };
}

/** One simulated trader. `next()` gives its next request; feed the acknowledgement back with `acked()`. */
export class LoadClient {
  private readonly r: () => number;
  private readonly mine: OrderId[] = [];
  private readonly cids: string[] = [];
  private n = 0;

  constructor(
    readonly accountId: AccountId,
    private readonly symbols: readonly string[],
    seed: number,
    private readonly view: Pick<EngineView, 'quote'>,
    /** Mix: 'full' uses every order type; 'simple' only limit orders, cancels and some market orders. */
    private readonly mix: 'full' | 'simple' = 'full',
  ) {
    this.r = rng(seed);
  }

  private pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.r() * a.length)]!;
  }

  private mid(symbol: string): number {
    const q = this.view.quote(symbol);
    const base = q?.last ?? q?.previousClose ?? 10_000;
    return Math.round(base + (this.r() - 0.5) * 40);
  }

  private spec(symbol: string, side: Side, near: number, tif: TimeInForce): OrderSpec {
    const off = Math.floor(this.r() * 12) - 3; // mostly passive, sometimes crossing
    const price = Math.max(9_100, Math.min(10_900, side === 'buy' ? near - off : near + off));
    const s: OrderSpec = { symbol, side, orderType: 'limit', qty: 10 * (1 + Math.floor(this.r() * 10)), price, tif };
    if (this.r() < 0.15) {
      const cid = this.r() < 0.05 && this.cids.length > 0 ? this.pick(this.cids) : `c${this.accountId}-${++this.n}`;
      s.clientOrderId = cid;
      this.cids.push(cid);
      if (this.cids.length > 20) this.cids.shift();
    }
    return s;
  }

  next(): VenueCommand {
    const x = this.r();
    const acct = this.accountId;
    const symbol = this.pick(this.symbols);
    const side: Side = this.r() < 0.5 ? 'buy' : 'sell';
    const mid = this.mid(symbol);
    if (x < 0.22 && this.mine.length > 0) {
      const i = Math.floor(this.r() * this.mine.length);
      const id = this.mine[i]!;
      this.mine[i] = this.mine[this.mine.length - 1]!;
      this.mine.pop();
      return { type: 'CancelOrder', accountId: acct, orderId: id };
    }
    if (x < 0.3 && this.mine.length > 0) {
      const id = this.pick(this.mine);
      return this.r() < 0.5
        ? { type: 'ReplaceOrder', accountId: acct, orderId: id, price: mid + Math.floor(this.r() * 10) - 5 }
        : { type: 'ReplaceOrder', accountId: acct, orderId: id, qty: 10 * (1 + Math.floor(this.r() * 10)) };
    }
    if (x < 0.35) return { type: 'PlaceOrder', accountId: acct, symbol, side, orderType: 'market', qty: 10 * (1 + Math.floor(this.r() * 5)), tif: 'ioc' };
    if (this.mix === 'full') {
      if (x < 0.37) {
        const stop = side === 'buy' ? mid + 15 : mid - 15;
        const t = this.r();
        if (t < 0.4) return { type: 'PlaceOrder', accountId: acct, symbol, side, orderType: 'stop', qty: 10, stopPrice: stop, tif: 'gtc' };
        if (t < 0.7)
          return { type: 'PlaceOrder', accountId: acct, symbol, side, orderType: 'stop_limit', qty: 10, stopPrice: stop, price: stop + (side === 'buy' ? 5 : -5), tif: 'day' };
        return { type: 'PlaceOrder', accountId: acct, symbol, side, orderType: 'trailing_stop', qty: 10, trailAmount: 20, tif: 'gtc' };
      }
      if (x < 0.385) {
        const s = this.spec(symbol, side, mid, 'gtc');
        const p = s.price!;
        return {
          type: 'PlaceOrder',
          ...s,
          accountId: acct,
          bracket: side === 'buy' ? { takeProfit: { price: p + 40 }, stopLoss: { stopPrice: p - 40 } } : { takeProfit: { price: p - 40 }, stopLoss: { stopPrice: p + 40 } },
        };
      }
      if (x < 0.395) {
        const a = this.spec(symbol, side, mid, 'gtc');
        const b = { ...this.spec(symbol, side, mid, 'gtc') };
        delete b.clientOrderId;
        b.price = side === 'buy' ? a.price! - 10 : a.price! + 10;
        return { type: 'PlaceOco', accountId: acct, legs: [a, b] };
      }
      if (x < 0.4) return this.r() < 0.6 ? { type: 'Deposit', accountId: acct, amount: 1_000_000 } : { type: 'Withdraw', accountId: acct, amount: 500_000 };
    }
    const tif: TimeInForce = this.r() < 0.1 ? 'ioc' : this.r() < 0.5 ? 'day' : 'gtc';
    return { type: 'PlaceOrder', ...this.spec(symbol, side, mid, tif), accountId: acct };
  }

  /** Remember accepted orders so later cancels and replaces name real ones. */
  acked(ack: Ack): void {
    if (ack.rejected !== undefined) return;
    for (const id of ack.orderIds) {
      this.mine.push(id);
      if (this.mine.length > 40) this.mine.shift();
    }
  }
}
