// Shared test harness for the engine behaviour scenarios (scenarios-*.test.ts).
//
// Every command goes through Harness.exec, which also checks, after every single command:
// - checkInvariants(engine) is empty;
// - a rejected command changed nothing (stateHash before == after, and exactly one Rejected event);
// - conservation: total cash equals deposits minus withdrawals, and net shares per symbol are zero;
// - no trade is ever between two orders of the same account.
// Rejection codes seen are recorded in `seenCodes` (per test file: vitest runs each file in its own worker).
import { expect } from 'vitest';
import {
  Engine,
  checkInvariants,
  totals,
  type AccountId,
  type AccountLimits,
  type AccountView,
  type BracketSpec,
  type Command,
  type EngineEvent,
  type InstrumentSpec,
  type OrderId,
  type OrderSpec,
  type PositionView,
  type ReplaceOrder,
  type ResultCode,
  type Side,
} from '../../core/index.js';

export type BookKind = 'fast' | 'reference';
export const BOOKS: BookKind[] = ['fast', 'reference'];

/** Every rejection code any harness in this worker has produced. */
export const seenCodes = new Set<ResultCode>();

/** 2024-01-02 14:30:00 UTC: a whole minute (and a whole 5 minutes), so candle buckets are easy to reason about. */
export const T0 = Date.UTC(2024, 0, 2, 14, 30, 0);

/** The default instrument: tick 1, lot 1, reference 100, band ±50% (50..150). */
export const ACME: InstrumentSpec = {
  symbol: 'ACME',
  name: 'Acme Corp',
  tickSize: 1,
  lotSize: 1,
  referencePrice: 100,
  bandBps: 5000,
};

/** An instrument with a coarse tick and lot: tick 5, lot 10, reference 1000, band ±10% (900..1100). */
export const LOTS: InstrumentSpec = {
  symbol: 'LOTS',
  name: 'Lots Inc',
  tickSize: 5,
  lotSize: 10,
  referencePrice: 1000,
  bandBps: 1000,
};

/** The dealer: a short-capable, well-funded account used to seed shares and liquidity. */
export const DEALER = 99;

type CommandInput = Command extends infer C ? (C extends { ts: number } ? Omit<C, 'ts'> & { ts?: number } : never) : never;

export interface PlaceOpts extends Partial<Omit<OrderSpec, 'side' | 'qty'>> {
  orderId?: OrderId;
  bracket?: BracketSpec;
}

export class Harness {
  readonly engine: Engine;
  /** Timestamp of the next command; each command advances it by 1 ms unless `at` is used. */
  ts = T0;
  private nextOrderId = 1;
  private cashIn = 0;
  /** Every event emitted so far, in order. */
  readonly log: EngineEvent[] = [];
  /** Every command executed so far, in order (for replaying on another engine). */
  readonly cmds: Command[] = [];

  constructor(readonly book: BookKind) {
    this.engine = new Engine({ book });
  }

  /** Allocates a fresh order id. */
  id(): OrderId {
    return this.nextOrderId++;
  }

  /** Sets the time of the next command. */
  at(ts: number): this {
    this.ts = ts;
    return this;
  }

  exec(input: CommandInput): EngineEvent[] {
    const cmd = { ...input, ts: input.ts ?? this.ts } as Command;
    this.ts = cmd.ts + 1;
    const before = this.engine.stateHash();
    const events = this.engine.execute(cmd);
    this.cmds.push(cmd);
    this.log.push(...events);
    const rej = events.find((e) => e.type === 'Rejected');
    if (rej !== undefined) {
      seenCodes.add(rej.code);
      expect(events, 'a rejection is the only event').toHaveLength(1);
      expect(this.engine.stateHash(), `rejected ${cmd.type} (${rej.code}) must change nothing`).toBe(before);
    } else {
      if (cmd.type === 'Deposit') this.cashIn += cmd.amount;
      if (cmd.type === 'Withdraw') this.cashIn -= cmd.amount;
    }
    for (const e of events) {
      if (e.type === 'Trade') {
        expect(e.makerAccountId, `trade ${e.tradeId} is a self-trade`).not.toBe(e.takerAccountId);
        expect(e.qty).toBeGreaterThan(0);
      }
    }
    this.check();
    return events;
  }

  /** Invariants and conservation. */
  check(): void {
    expect(checkInvariants(this.engine)).toEqual([]);
    const t = totals(this.engine);
    expect(t.cash, 'total cash is conserved').toBe(this.cashIn);
    for (const [sym, n] of Object.entries(t.shares)) expect(n, `net shares of ${sym}`).toBe(0);
  }

  // ------------------------------------------------------------------------------------------- setup

  instrument(spec: InstrumentSpec = ACME): this {
    expect(this.exec({ type: 'CreateInstrument', instrument: spec })).toEqual([
      { type: 'InstrumentCreated', ts: this.ts - 1, symbol: spec.symbol },
    ]);
    return this;
  }

  account(accountId: AccountId, cash = 0, opts: { allowShort?: boolean; limits?: AccountLimits } = {}): this {
    const ev = this.exec({ type: 'OpenAccount', accountId, ...opts });
    expect(ev.map((e) => e.type)).toEqual(['AccountOpened']);
    if (cash > 0) this.deposit(accountId, cash);
    return this;
  }

  deposit(accountId: AccountId, amount: number): EngineEvent[] {
    return this.exec({ type: 'Deposit', accountId, amount });
  }

  withdraw(accountId: AccountId, amount: number): EngineEvent[] {
    return this.exec({ type: 'Withdraw', accountId, amount });
  }

  /** Adds the short-capable dealer account with plenty of cash. */
  dealer(cash = 100_000_000): this {
    return this.account(DEALER, cash, { allowShort: true });
  }

  /**
   * Gives `accountId` `qty` shares of `symbol` bought from the dealer at `price` (the dealer goes short).
   * This prints a trade, so it sets the last price.
   */
  seed(accountId: AccountId, qty: number, price: number, symbol = 'ACME'): this {
    const s = this.place(DEALER, 'sell', qty, { price, symbol, tif: 'gtc' });
    expect(s.events.map((e) => e.type)).toEqual(['OrderAccepted']);
    const b = this.place(accountId, 'buy', qty, { price, symbol, tif: 'ioc' });
    expect(b.events.map((e) => e.type)).toEqual(['OrderAccepted', 'Trade']);
    return this;
  }

  // ------------------------------------------------------------------------------------------ orders

  /**
   * Places an order. Defaults: symbol ACME, tif day; order type limit when `price` is given, market otherwise.
   * Returns the order id and the events.
   */
  place(accountId: AccountId, side: Side, qty: number, opts: PlaceOpts = {}): { id: OrderId; events: EngineEvent[] } {
    const { orderId, bracket, ...rest } = opts;
    const id = orderId ?? this.id();
    const orderType = rest.orderType ?? (rest.price !== undefined ? 'limit' : 'market');
    const cmd: CommandInput = {
      type: 'PlaceOrder',
      orderId: id,
      accountId,
      symbol: 'ACME',
      tif: 'day',
      ...rest,
      orderType,
      side,
      qty,
      ...(bracket !== undefined ? { bracket } : {}),
    };
    return { id, events: this.exec(cmd) };
  }

  limit(accountId: AccountId, side: Side, qty: number, price: number, opts: PlaceOpts = {}): { id: OrderId; events: EngineEvent[] } {
    return this.place(accountId, side, qty, { ...opts, price, orderType: 'limit' });
  }

  market(accountId: AccountId, side: Side, qty: number, opts: PlaceOpts = {}): { id: OrderId; events: EngineEvent[] } {
    return this.place(accountId, side, qty, { ...opts, orderType: 'market' });
  }

  stop(accountId: AccountId, side: Side, qty: number, stopPrice: number, opts: PlaceOpts = {}): { id: OrderId; events: EngineEvent[] } {
    return this.place(accountId, side, qty, { ...opts, stopPrice, orderType: opts.price !== undefined ? 'stop_limit' : 'stop' });
  }

  oco(
    accountId: AccountId,
    a: Partial<OrderSpec> & { side: Side; qty: number; orderType: OrderSpec['orderType'] },
    b: Partial<OrderSpec> & { side: Side; qty: number; orderType: OrderSpec['orderType'] },
  ): { ids: [OrderId, OrderId]; events: EngineEvent[] } {
    const ida = this.id();
    const idb = this.id();
    const leg = (l: typeof a, orderId: OrderId) => ({ symbol: 'ACME', tif: 'gtc' as const, ...l, orderId });
    const events = this.exec({ type: 'PlaceOco', accountId, legs: [leg(a, ida), leg(b, idb)] });
    return { ids: [ida, idb], events };
  }

  cancel(accountId: AccountId, orderId: OrderId): EngineEvent[] {
    return this.exec({ type: 'CancelOrder', accountId, orderId });
  }

  replace(accountId: AccountId, orderId: OrderId, changes: Omit<ReplaceOrder, 'type' | 'ts' | 'accountId' | 'orderId'>): EngineEvent[] {
    return this.exec({ type: 'ReplaceOrder', accountId, orderId, ...changes });
  }

  endSession(): EngineEvent[] {
    return this.exec({ type: 'EndSession' });
  }

  halt(symbol = 'ACME'): EngineEvent[] {
    return this.exec({ type: 'SetInstrumentStatus', symbol, status: 'halted' });
  }

  resume(symbol = 'ACME'): EngineEvent[] {
    return this.exec({ type: 'SetInstrumentStatus', symbol, status: 'open' });
  }

  // ----------------------------------------------------------------------------------------- queries

  acct(accountId: AccountId): AccountView {
    const v = this.engine.accountView(accountId);
    if (v === undefined) throw new Error(`no account ${accountId}`);
    return v;
  }

  /** cash / reservedCash / buyingPower of an account. */
  money(accountId: AccountId): { cash: number; reservedCash: number; buyingPower: number } {
    const v = this.acct(accountId);
    return { cash: v.cash, reservedCash: v.reservedCash, buyingPower: v.buyingPower };
  }

  pos(accountId: AccountId, symbol = 'ACME'): PositionView | undefined {
    return this.acct(accountId).positions.find((p) => p.symbol === symbol);
  }

  /** Position quantity (0 when none). */
  shares(accountId: AccountId, symbol = 'ACME'): number {
    return this.pos(accountId, symbol)?.qty ?? 0;
  }
}

/** A harness with ACME, the dealer, and the given funded accounts. */
export function setup(book: BookKind, accounts: Record<number, number> = {}, opts: { short?: number[] } = {}): Harness {
  const h = new Harness(book);
  h.instrument(ACME);
  h.dealer();
  for (const [id, cash] of Object.entries(accounts)) h.account(Number(id), cash, { allowShort: opts.short?.includes(Number(id)) ?? false });
  return h;
}

/** Events without their `ts` (for compact expectations). */
export function strip(events: EngineEvent[]): Record<string, unknown>[] {
  return events.map((e) => {
    const { ts: _ts, ...rest } = e;
    return rest;
  });
}

/** Only the events of the given types. */
export function only<T extends EngineEvent['type']>(events: EngineEvent[], ...types: T[]): Extract<EngineEvent, { type: T }>[] {
  return events.filter((e): e is Extract<EngineEvent, { type: T }> => (types as string[]).includes(e.type));
}

/** Trades as [price, qty, makerOrderId, takerOrderId]. */
export function trades(events: EngineEvent[]): [number, number, OrderId, OrderId][] {
  return only(events, 'Trade').map((t) => [t.price, t.qty, t.makerOrderId, t.takerOrderId]);
}

/** The single rejection code of a command's events (fails when the command was not rejected). */
export function code(events: EngineEvent[]): ResultCode {
  expect(events).toHaveLength(1);
  const e = events[0]!;
  if (e.type !== 'Rejected') throw new Error(`expected a rejection, got ${JSON.stringify(events)}`);
  return e.code;
}
