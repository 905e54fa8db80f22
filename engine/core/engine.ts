import { FastBook, type Book } from './book.js';
import { CODES, type ResultCode } from './codes.js';
import { OcoGroup, Order, type Holder } from './order.js';
import { RefBook } from './refbook.js';
import { captureEngine, restoreEngine, snapshotEngine, stateHash, type CaptureArrays, type EngineSnapshot, type StateCapture } from './snapshot.js';
import { Account, IndexDef, Instrument, MAX_BAND_TICKS, MAX_MONEY, Position, moneyRoom, proportion, walkMoneyRoom } from './state.js';
export { MAX_BAND_TICKS, MAX_MONEY } from './state.js';
import type {
  AccountId,
  AccountLimits,
  AccountView,
  BracketSpec,
  CancelOrder,
  CancelReason,
  Candle,
  Command,
  CommandType,
  CreateIndex,
  CreateInstrument,
  Depth,
  EndSession,
  EngineEvent,
  IndexView,
  InstrumentStatus,
  InstrumentView,
  OpenAccount,
  OrderId,
  OrderSpec,
  OrderView,
  PlaceOco,
  PlaceOrder,
  PositionView,
  Price,
  Money,
  Qty,
  Quote,
  Rejected,
  ReplaceOrder,
  SetAccountLimits,
  SetInstrumentStatus,
  Side,
  Timeframe,
  Timestamp,
} from './types.js';
import { RULES } from './types.js';

export interface EngineOptions {
  /** Which book implementation to use: the fast one (default) or the simple reference one. */
  book?: 'fast' | 'reference';
  /** Closed bars kept per symbol and timeframe (default 240). */
  candleHistory?: number;
}

const SYMBOL_RE = /^[A-Z0-9][A-Z0-9.-]{0,15}$/;
const CLIENT_ID_RE = /^[\x21-\x7e]{1,64}$/;

/** A field was given (not undefined or null). Module level: a closure here would be allocated per order. */
function has(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function isPosInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
}

/** Thrown inside a handler to reject the command; caught by execute(). Never escapes the engine. */
class Reject {
  constructor(
    readonly code: ResultCode,
    readonly message: string,
    readonly extra?: Partial<Rejected>,
  ) {}
}

function fail(code: ResultCode, message?: string, extra?: Partial<Rejected>): never {
  throw new Reject(code, message ?? CODES[code].text, extra);
}

/** The largest quantity one order may have (shares). */
export const MAX_ORDER_QTY = 1_000_000_000;

/** A map's numeric keys, ascending: views and messages list in this order, which a snapshot's restore keeps
 * (maps keep insertion order, and a restore inserts in another). */
function sortedKeys(m: Map<number, unknown>): number[] {
  return [...m.keys()].sort((x, y) => x - y);
}

/** Whether trades of notional n and quantity q keep a symbol's session turnover and volumes within MAX_MONEY. */
function symbolRoom(inst: Instrument, n: Money, q: Qty): boolean {
  const day = inst.candles['1d'].cur;
  return inst.turnover + n <= MAX_MONEY && inst.volume + q <= MAX_MONEY && (day === null ? 0 : day.v) + q <= MAX_MONEY;
}

/** The fast book starts with room for this many ticks either side of the reference and grows as prices come. */
const MAX_INITIAL_BOOK_TICKS = 16_384;

/** An order's quantity: a positive multiple of the lot, at most MAX_ORDER_QTY; each failure says which. */
function checkQty(inst: Instrument, qty: unknown): asserts qty is number {
  if (!isPosInt(qty) || qty % inst.lot !== 0) fail('INVALID_QUANTITY', `Quantity must be a positive multiple of the lot size ${inst.lot}`);
  if (qty > MAX_ORDER_QTY) fail('INVALID_QUANTITY', `Quantity must be at most ${MAX_ORDER_QTY} shares`);
}

/**
 * The exchange engine: instruments and their books, accounts and risk, matching, stops, brackets and OCO
 * pairs, and market data. Deterministic: time and ids arrive with commands; no clock, randomness or I/O.
 * `execute(cmd)` applies one command and returns the events it caused, in order.
 */
export class Engine {
  /** @internal */ readonly insts: Instrument[] = [];
  /** @internal */ readonly instBySymbol = new Map<string, Instrument>();
  /** @internal */ readonly accounts = new Map<AccountId, Account>();
  /** @internal */ readonly orders = new Map<OrderId, Order>();
  /** @internal */ readonly groups = new Set<OcoGroup>();
  /** @internal */ readonly indexes = new Map<string, IndexDef>();
  /** @internal */ tradeSeq = 0;
  /** @internal */ bookSeq = 0;
  /** @internal */ session = 0;
  /** @internal */ lastTs: Timestamp = 0;
  /** @internal */ readonly opts: Required<EngineOptions>;

  private ev: EngineEvent[] = [];
  private ts: Timestamp = 0;
  /** Orders to trigger or activate once the current order has finished matching. */
  private work: Order[] = [];
  /** Cash left to back the short part of the market sell being matched (see match). */
  private shortRoom = 0;

  constructor(opts: EngineOptions = {}) {
    this.opts = { book: opts.book ?? 'fast', candleHistory: opts.candleHistory ?? 240 };
  }

  // =========================================================================================== commands

  execute(cmd: Command): EngineEvent[] {
    const out: EngineEvent[] = [];
    this.ev = out;
    this.ts = cmd.ts;
    const prevLastTs = this.lastTs;
    if (cmd.ts > this.lastTs) this.lastTs = cmd.ts;
    try {
      switch (cmd.type) {
        case 'PlaceOrder':
          this.placeOrder(cmd);
          break;
        case 'ReplaceOrder':
          this.replaceOrder(cmd);
          break;
        case 'CancelOrder':
          this.cancelOrder(cmd);
          break;
        case 'PlaceOco':
          this.placeOco(cmd);
          break;
        case 'Deposit':
        case 'Withdraw':
          this.moveCash(cmd.type, cmd.accountId, cmd.amount);
          break;
        case 'OpenAccount':
          this.openAccount(cmd);
          break;
        case 'SetAccountLimits':
          this.setAccountLimits(cmd);
          break;
        case 'CreateInstrument':
          this.createInstrument(cmd);
          break;
        case 'SetInstrumentStatus':
          this.setInstrumentStatus(cmd);
          break;
        case 'CreateIndex':
          this.createIndex(cmd);
          break;
        case 'EndSession':
          this.endSession(cmd);
          break;
        default: {
          const t = (cmd as { type?: unknown }).type;
          fail('INVALID_ORDER', `Unknown command type ${String(t)}`, { command: String(t) as CommandType });
        }
      }
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      // Rejections are raised before any state changes, so the command simply has no effect.
      out.length = 0;
      this.lastTs = prevLastTs; // not even the clock moves: a rejected command leaves the state hash unchanged
      const c = cmd as Partial<PlaceOrder>;
      const r: Rejected = { type: 'Rejected', ts: cmd.ts, command: cmd.type, code: e.code, message: e.message };
      if (c.accountId !== undefined) r.accountId = c.accountId;
      if (c.orderId !== undefined) r.orderId = c.orderId;
      if (c.clientOrderId !== undefined) r.clientOrderId = c.clientOrderId;
      if (e.extra) Object.assign(r, e.extra);
      out.push(r);
    }
    this.ev = [];
    return out;
  }

  // ---------------------------------------------------------------------------------- reference data

  private createInstrument(c: CreateInstrument): void {
    const s = c.instrument;
    if (typeof s !== 'object' || s === null) fail('INVALID_INSTRUMENT');
    if (typeof s.symbol !== 'string' || !SYMBOL_RE.test(s.symbol))
      fail('INVALID_INSTRUMENT', 'Symbol must be 1-16 characters of A-Z, 0-9, dot or dash');
    if (this.instBySymbol.has(s.symbol)) fail('DUPLICATE_SYMBOL', `Symbol ${s.symbol} already exists`);
    if (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > 64)
      fail('INVALID_INSTRUMENT', 'Name must be 1-64 characters');
    if (!isPosInt(s.tickSize) || !isPosInt(s.lotSize) || s.tickSize > 1e6 || s.lotSize > 1e6)
      fail('INVALID_INSTRUMENT', 'Tick and lot sizes must be positive integers');
    if (!isPosInt(s.referencePrice) || s.referencePrice % s.tickSize !== 0 || s.referencePrice > 1e11)
      fail('INVALID_INSTRUMENT', 'Reference price must be a positive multiple of the tick size');
    if (!isPosInt(s.bandBps) || s.bandBps > 10_000) fail('INVALID_INSTRUMENT', 'Band must be 1-10000 bps');
    const halfBand = bandTicks(s.referencePrice, s.bandBps, s.tickSize);
    if (halfBand > MAX_BAND_TICKS)
      fail('INVALID_INSTRUMENT', `The band spans ${halfBand} ticks either side of the reference price; at most ${MAX_BAND_TICKS} (use a larger tick)`);
    const prev = s.previousClose ?? s.referencePrice;
    if (!isPosInt(prev) || prev % s.tickSize !== 0) fail('INVALID_INSTRUMENT', 'Previous close is not on the tick');
    const status = s.status ?? 'open';
    if (status !== 'open' && status !== 'halted') fail('INVALID_INSTRUMENT', 'Status must be open or halted');
    const inst = this.newInstrument(s.symbol, s.name, s.tickSize, s.lotSize, s.referencePrice, s.bandBps, prev, status);
    if (inst.bandHigh < inst.bandLow) fail('INVALID_INSTRUMENT', 'The band is narrower than one tick');
    this.addInstrument(inst);
    this.ev.push({ type: 'InstrumentCreated', ts: this.ts, symbol: s.symbol });
  }

  /** @internal An instrument with its book, not yet added; no checks (CreateInstrument validates first, a
   * restore takes the snapshot's values as they are: a session's end may have moved the reference price
   * past what CreateInstrument accepts). */
  newInstrument(
    symbol: string,
    name: string,
    tick: Price,
    lot: Qty,
    referencePrice: Price,
    bandBps: number,
    previousClose: Price,
    status: InstrumentStatus,
  ): Instrument {
    const halfBand = bandTicks(referencePrice, bandBps, tick);
    const book: Book =
      this.opts.book === 'reference'
        ? new RefBook()
        : new FastBook(tick, referencePrice, Math.min(MAX_INITIAL_BOOK_TICKS, Math.max(64, halfBand)));
    const idx = this.insts.length;
    return new Instrument(idx, symbol, name, tick, lot, referencePrice, bandBps, previousClose, status, book, this.opts.candleHistory);
  }

  /** @internal */
  addInstrument(inst: Instrument): void {
    this.insts.push(inst);
    this.instBySymbol.set(inst.symbol, inst);
  }

  private setInstrumentStatus(c: SetInstrumentStatus): void {
    const inst = this.inst(c.symbol);
    if (c.status !== 'open' && c.status !== 'halted') fail('INVALID_INSTRUMENT', 'Status must be open or halted');
    const reopens = inst.status !== 'open' && c.status === 'open';
    inst.status = c.status;
    this.ev.push({ type: 'InstrumentStatusChanged', ts: this.ts, symbol: inst.symbol, status: c.status });
    if (reopens) {
      // bracket children whose entry ended during the halt go live now, in order of their ids
      const due: Order[] = [];
      for (const o of this.orders.values())
        if (o.instIdx === inst.idx && o.status === 'pending_parent' && o.parent === null) due.push(o);
      due.sort((x, y) => x.id - y.id);
      for (const o of due) this.work.push(o);
      this.drain();
    }
  }

  private createIndex(c: CreateIndex): void {
    if (typeof c.name !== 'string' || !SYMBOL_RE.test(c.name)) fail('INVALID_INSTRUMENT', 'Bad index name');
    if (this.indexes.has(c.name) || this.instBySymbol.has(c.name)) fail('DUPLICATE_SYMBOL');
    if (!isPosInt(c.baseValue)) fail('INVALID_INSTRUMENT', 'Base value must be a positive integer');
    if (!Array.isArray(c.constituents) || c.constituents.length === 0)
      fail('INVALID_INSTRUMENT', 'An index needs constituents');
    let total = 0;
    const seen = new Set<string>();
    const cons = c.constituents.map((k) => {
      const inst = this.inst(k.symbol);
      if (seen.has(inst.symbol)) fail('INVALID_INSTRUMENT', `Constituent ${inst.symbol} listed twice`);
      seen.add(inst.symbol);
      if (!isPosInt(k.weightBps)) fail('INVALID_INSTRUMENT', 'Weights must be positive integers');
      total += k.weightBps;
      return { inst, weightBps: k.weightBps, basePrice: inst.mark };
    });
    if (total !== 10_000) fail('INVALID_INSTRUMENT', `Weights must sum to 10000 bps, not ${total}`);
    this.indexes.set(c.name, new IndexDef(c.name, c.baseValue, cons));
    this.ev.push({ type: 'IndexCreated', ts: this.ts, name: c.name });
  }

  private checkLimits(l: unknown): AccountLimits {
    if (l === undefined) return {};
    if (typeof l !== 'object' || l === null) fail('INVALID_ORDER', 'Limits must be an object');
    const out: AccountLimits = {};
    for (const k of ['maxOrderQty', 'maxOrderNotional', 'maxOpenOrders', 'maxDailyOrders'] as const) {
      const v = (l as AccountLimits)[k];
      if (v === undefined) continue;
      if (!isPosInt(v)) fail('INVALID_ORDER', `Limit ${k} must be a positive integer`);
      out[k] = v;
    }
    return out;
  }

  private openAccount(c: OpenAccount): void {
    if (!isPosInt(c.accountId)) fail('UNKNOWN_ACCOUNT', 'Account ids are positive integers');
    if (this.accounts.has(c.accountId)) fail('DUPLICATE_ACCOUNT', `Account ${c.accountId} already exists`);
    const limits = this.checkLimits(c.limits);
    this.accounts.set(c.accountId, new Account(c.accountId, c.allowShort === true, limits));
    this.ev.push({ type: 'AccountOpened', ts: this.ts, accountId: c.accountId });
  }

  private setAccountLimits(c: SetAccountLimits): void {
    const a = this.account(c.accountId);
    const limits = this.checkLimits(c.limits);
    if (c.allowShort !== undefined && c.allowShort !== true && a.allowShort) this.checkNoShortExposure(a);
    a.limits = limits;
    if (c.allowShort !== undefined) a.allowShort = c.allowShort === true;
    this.ev.push({ type: 'AccountLimitsChanged', ts: this.ts, accountId: a.id });
  }

  /** An account may stop short selling only when nothing it holds or works depends on it: no short position,
   * and no sell order (or OCO pair) backed by cash rather than by shares held. */
  private checkNoShortExposure(a: Account): void {
    // The message names the first symbol (in creation order) and the lowest order id: not whatever a map's
    // order gives, which a snapshot's restore does not keep.
    for (const idx of sortedKeys(a.positions)) {
      const p = a.positions.get(idx)!;
      if (p.qty < 0)
        fail('INSUFFICIENT_SHARES', `Account ${a.id} is short ${-p.qty} ${this.insts[idx]!.symbol}; short selling stays on until it is covered`);
    }
    let first = 0;
    const backed = (h: Holder, side: Side, id: OrderId): void => {
      if (side === 'sell' && h.resvCash > 0 && (first === 0 || id < first)) first = id;
    };
    for (const o of this.orders.values()) if (o.accountId === a.id && o.oco === null) backed(o, o.side, o.id);
    for (const g of this.groups) if (g.a.accountId === a.id) backed(g, g.a.side, g.a.id);
    if (first !== 0)
      fail('INSUFFICIENT_SHARES', `Sell order ${first} of account ${a.id} is a short sale backed by cash; short selling stays on until it ends`);
  }

  private moveCash(kind: 'Deposit' | 'Withdraw', accountId: AccountId, amount: number): void {
    const a = this.account(accountId);
    if (!isPosInt(amount) || amount > 1e15) fail('INVALID_AMOUNT');
    if (kind === 'Withdraw') {
      if (amount > a.buyingPower)
        fail('INSUFFICIENT_FUNDS', `Withdrawal of ${amount} exceeds available cash ${a.buyingPower}`);
      a.cash -= amount;
    } else {
      if (a.cash + amount > 1e15) fail('INVALID_AMOUNT', 'Balance would exceed the maximum');
      a.cash += amount;
    }
    this.ev.push({
      type: 'CashMoved',
      ts: this.ts,
      accountId: a.id,
      amount: kind === 'Deposit' ? amount : -amount,
      cash: a.cash,
    });
  }

  private inst(symbol: string): Instrument {
    const i = this.instBySymbol.get(symbol);
    if (i === undefined) fail('UNKNOWN_SYMBOL', `Unknown symbol ${String(symbol)}`);
    return i;
  }

  private account(id: AccountId): Account {
    const a = this.accounts.get(id);
    if (a === undefined) fail('UNKNOWN_ACCOUNT', `Unknown account ${String(id)}`);
    return a;
  }

  // ---------------------------------------------------------------------------------------- placement

  private checkPrice(inst: Instrument, p: unknown, what: string): Price {
    if (!isPosInt(p) || p % inst.tick !== 0)
      fail('INVALID_PRICE', `${what} must be a positive multiple of the tick size ${inst.tick}`);
    if (p < inst.bandLow || p > inst.bandHigh)
      fail('PRICE_OUT_OF_BAND', `${what} ${p} is outside the band ${inst.bandLow}-${inst.bandHigh}`);
    return p;
  }

  /** Validates an order spec against the account and instrument; builds (but does not accept) the order. */
  private buildOrder(spec: OrderSpec, orderId: OrderId, a: Account, taken: Set<OrderId> | null): Order {
    if (!isPosInt(orderId)) fail('INVALID_ORDER', 'Order ids are positive integers');
    if (this.orders.has(orderId) || taken?.has(orderId) === true)
      fail('DUPLICATE_ORDER_ID', `Order id ${orderId} is already in use`);
    const inst = this.inst(spec.symbol);
    if (inst.status !== 'open') fail('MARKET_HALTED', `Trading in ${inst.symbol} is halted`);
    const side = spec.side;
    if (side !== 'buy' && side !== 'sell') fail('INVALID_ORDER', 'Side must be buy or sell');
    const tif = spec.tif;
    if (tif !== 'day' && tif !== 'gtc' && tif !== 'ioc' && tif !== 'fok')
      fail('INVALID_ORDER', 'Time in force must be day, gtc, ioc or fok');
    const qty = spec.qty;
    checkQty(inst, qty);
    const stp = spec.stp ?? 'cancel_taker';
    if (stp !== 'cancel_taker' && stp !== 'cancel_maker' && stp !== 'cancel_both')
      fail('INVALID_ORDER', 'Unknown self-trade prevention mode');
    const postOnly = spec.postOnly === true;
    let price = 0;
    let stopPrice = 0;
    let trail = 0;
    const t = spec.orderType;
    switch (t) {
      case 'market':
        if (has(spec.price) || has(spec.stopPrice) || has(spec.trailAmount))
          fail('INVALID_ORDER', 'A market order has no price, stop price or trail');
        break;
      case 'limit':
        if (!has(spec.price)) fail('INVALID_PRICE', 'A limit order needs a price');
        if (has(spec.stopPrice) || has(spec.trailAmount)) fail('INVALID_ORDER', 'A limit order has no stop or trail');
        price = this.checkPrice(inst, spec.price, 'Limit price');
        break;
      case 'stop':
        if (!has(spec.stopPrice)) fail('INVALID_PRICE', 'A stop order needs a stop price');
        if (has(spec.price) || has(spec.trailAmount)) fail('INVALID_ORDER', 'A stop order has no limit price or trail');
        stopPrice = this.checkPrice(inst, spec.stopPrice, 'Stop price');
        break;
      case 'stop_limit':
        if (!has(spec.stopPrice) || !has(spec.price))
          fail('INVALID_PRICE', 'A stop-limit order needs a stop price and a limit price');
        if (has(spec.trailAmount)) fail('INVALID_ORDER', 'A stop-limit order has no trail');
        stopPrice = this.checkPrice(inst, spec.stopPrice, 'Stop price');
        price = this.checkPrice(inst, spec.price, 'Limit price');
        break;
      case 'trailing_stop':
        if (!has(spec.trailAmount)) fail('INVALID_PRICE', 'A trailing stop needs a trail amount');
        if (has(spec.price) || has(spec.stopPrice)) fail('INVALID_ORDER', 'A trailing stop has no limit or stop price');
        if (!isPosInt(spec.trailAmount) || spec.trailAmount % inst.tick !== 0 || spec.trailAmount >= inst.mark)
          fail('INVALID_PRICE', `Trail must be a positive multiple of the tick ${inst.tick} below the price`);
        trail = spec.trailAmount;
        break;
      default:
        fail('INVALID_ORDER', `Unknown order type ${String(t)}`);
    }
    if (postOnly && (t !== 'limit' || tif === 'ioc' || tif === 'fok'))
      fail('INVALID_ORDER', 'Post-only applies to resting limit orders only');
    if ((t === 'stop' || t === 'stop_limit' || t === 'trailing_stop') && (tif === 'ioc' || tif === 'fok'))
      fail('INVALID_ORDER', 'Stop orders must be day or gtc');
    const refPx = price || stopPrice || inst.mark;
    if (!Number.isSafeInteger(refPx * qty)) fail('INVALID_QUANTITY', 'Order notional is too large');
    const cid = spec.clientOrderId;
    if (cid !== undefined) {
      if (typeof cid !== 'string' || !CLIENT_ID_RE.test(cid))
        fail('INVALID_ORDER', 'Client order id must be 1-64 printable characters');
      const orig = a.clientIds.get(cid);
      if (orig !== undefined)
        fail('DUPLICATE_CLIENT_ORDER_ID', `Client order id ${cid} was already used by order ${orig}`, {
          originalOrderId: orig,
        });
    }
    // account limits
    const lim = a.limits;
    if (lim.maxOrderQty !== undefined && qty > lim.maxOrderQty)
      fail('LIMIT_EXCEEDED', `Quantity ${qty} exceeds the account's maximum order size ${lim.maxOrderQty}`);
    if (lim.maxOrderNotional !== undefined && refPx * qty > lim.maxOrderNotional)
      fail('LIMIT_EXCEEDED', `Notional ${refPx * qty} exceeds the account's maximum ${lim.maxOrderNotional}`);
    if (lim.maxOpenOrders !== undefined && a.openOrders >= lim.maxOpenOrders)
      fail('LIMIT_EXCEEDED', `The account already has ${a.openOrders} open orders (maximum ${lim.maxOpenOrders})`);
    if (lim.maxDailyOrders !== undefined && a.dailyOrders >= lim.maxDailyOrders)
      fail('LIMIT_EXCEEDED', `The account reached its ${lim.maxDailyOrders} orders for today`);
    return new Order(orderId, a.id, inst.idx, side, t, qty, price, stopPrice, trail, tif, postOnly, stp, cid, this.ts);
  }

  /** Matching-stage checks that reject before anything happens: post-only, FOK, market liquidity. */
  private preMatchChecks(o: Order, inst: Instrument, a: Account): void {
    const opp = o.side === 'buy' ? 'sell' : 'buy';
    if (o.type === 'limit' && o.postOnly) {
      const bp = inst.book.bestPrice(opp);
      if (bp !== 0 && (o.side === 'buy' ? o.price >= bp : o.price <= bp))
        fail('WOULD_CROSS', `Post-only ${o.side} at ${o.price} would trade against ${bp}`);
    }
    if (o.type === 'market') {
      const best = inst.book.best(opp);
      if (best === null) fail('NO_LIQUIDITY', `No ${opp} orders in ${inst.symbol}`);
      if (o.side === 'buy' && a.buyingPower < best.price * inst.lot)
        fail('INSUFFICIENT_FUNDS', `Buying power ${a.buyingPower} does not cover one lot at ${best.price}`);
      if (o.side === 'sell' && !a.allowShort) {
        const p = a.positions.get(inst.idx);
        const avail = p === undefined ? 0 : p.qty - p.reserved;
        if (avail < o.qty) fail('INSUFFICIENT_SHARES', `Only ${Math.max(0, avail)} shares available to sell`);
      }
    }
    if (o.tif === 'fok' && (o.type === 'limit' || o.type === 'market')) {
      let need = o.qty;
      let cost = 0;
      // the first trade on a leg of a cancel-mode OCO pair cancels the other leg: only one leg per pair counts
      let pairs: Set<OcoGroup> | null = null;
      // a market sale beyond the free long shares is a short sale, backed by the buying power (see match)
      const shortSale = o.type === 'market' && o.side === 'sell' && a.allowShort;
      const p = shortSale ? a.positions.get(inst.idx) : undefined;
      const free = p === undefined ? 0 : Math.max(0, p.qty - p.reserved);
      let shortCost = 0;
      let bounds: Map<AccountId, number[]> | undefined;
      for (let m = inst.book.best(opp); m !== null && need > 0; m = inst.book.next(m)) {
        if (o.type === 'limit' && (o.side === 'buy' ? m.price > o.price : m.price < o.price)) break;
        if (m.accountId === o.accountId) {
          if (o.stp === 'cancel_maker') continue;
          break; // self-trade prevention would stop the order here
        }
        if (m.oco !== null && m.oco.mode === 'cancel') {
          // a leg that cannot carry its own reservation is canceled when hit, not traded (see fill)
          if (this.cannotStandAlone(m, inst)) continue;
          if (pairs === null) pairs = new Set();
          else if (pairs.has(m.oco)) continue;
          pairs.add(m.oco);
        }
        const q = need < m.leaves ? need : m.leaves;
        // fill() cancels a side whose money totals a trade could take past MAX_MONEY: not whole, so refused
        bounds ??= new Map();
        if (!this.walkRoom(bounds, m, inst, q * m.price) || !this.walkRoom(bounds, o, inst, q * m.price))
          fail('LIMIT_EXCEEDED', `Filling it whole would take an account's money totals past the maximum ${MAX_MONEY}`);
        if (shortSale) {
          const sold = o.qty - need;
          shortCost += (Math.max(0, sold + q - free) - Math.max(0, sold - free)) * m.price;
        }
        need -= q;
        cost += q * m.price;
      }
      if (need > 0) fail('FOK_NOT_FILLABLE', `Only ${o.qty - need} of ${o.qty} available for fill-or-kill`);
      if (!symbolRoom(inst, cost, o.qty))
        fail('LIMIT_EXCEEDED', `Filling it whole would take ${inst.symbol}'s session turnover past the maximum ${MAX_MONEY}`);
      if (shortSale && p !== undefined && p.reserved > 0 && o.qty > free)
        fail('INSUFFICIENT_SHARES', `Only ${free} shares are free to sell; the rest are held for working orders`);
      if (shortSale && shortCost > Math.max(0, a.buyingPower))
        fail('INSUFFICIENT_FUNDS', `The short part needs ${shortCost}; buying power is ${a.buyingPower}`);
      if (o.type === 'market' && o.side === 'buy' && cost > a.buyingPower)
        fail('INSUFFICIENT_FUNDS', `Needs ${cost}; buying power is ${a.buyingPower}`);
      const maxNotional = a.limits.maxOrderNotional;
      if (o.type === 'market' && maxNotional !== undefined && cost > maxNotional)
        fail('LIMIT_EXCEEDED', `Filling it whole would trade ${cost}; the account's maximum order notional is ${maxNotional}`);
    }
  }

  private accept(o: Order, a: Account, parentId?: OrderId, linkedId?: OrderId): void {
    this.orders.set(o.id, o);
    a.openOrders++;
    a.dailyOrders++;
    if (o.clientOrderId !== undefined) a.clientIds.set(o.clientOrderId, o.id);
    const e: EngineEvent = {
      type: 'OrderAccepted',
      ts: this.ts,
      orderId: o.id,
      accountId: o.accountId,
      symbol: this.insts[o.instIdx]!.symbol,
      side: o.side,
      orderType: o.origType,
      tif: o.tif,
      qty: o.qty,
      status: o.status,
    };
    if (o.clientOrderId !== undefined) e.clientOrderId = o.clientOrderId;
    if (o.price !== 0) e.price = o.price;
    if (o.stopPrice !== 0) e.stopPrice = o.stopPrice;
    if (o.trail !== 0) e.trailAmount = o.trail;
    if (parentId !== undefined) e.parentId = parentId;
    if (linkedId !== undefined) e.linkedId = linkedId;
    this.ev.push(e);
  }

  private placeOrder(c: PlaceOrder): void {
    const a = this.account(c.accountId);
    const o = this.buildOrder(c, c.orderId, a, null);
    const inst = this.insts[o.instIdx]!;
    let kids: Order[] | null = null;
    if (c.bracket !== undefined && c.bracket !== null) kids = this.buildBracket(c.bracket, o, a);
    if (kids !== null) this.checkBatchLimits(a, 1 + kids.length);
    const isStop = o.type === 'stop' || o.type === 'stop_limit' || o.type === 'trailing_stop';
    if (isStop) o.status = 'pending_trigger';
    else this.preMatchChecks(o, inst, a);
    // risk: reserve what the order needs while it works (market orders are checked fill by fill)
    const pos = a.pos(inst.idx);
    if (o.type !== 'market') {
      if (o.type === 'trailing_stop') this.initTrail(o, inst);
      const code = this.reserve(o, a, pos, o.side, o.leaves, this.resvPrice(o), -1);
      if (code !== null) fail(code, this.riskMessage(code, a, pos, o));
    }
    this.accept(o, a);
    if (kids !== null) {
      o.children = kids;
      const g = kids.length === 2 ? new OcoGroup(kids[0]!, kids[1]!, 'reduce') : null;
      for (const k of kids) {
        k.parent = o;
        k.oco = g;
        this.accept(k, a, o.id, g?.other(k).id);
      }
      if (g !== null) this.groups.add(g);
    }
    this.start(o, inst);
    this.drain();
  }

  /** Open and daily order limits for a command that accepts `n` orders at once (a bracket, an OCO pair):
   * buildOrder checks each order alone, against counts that do not yet include its siblings. */
  private checkBatchLimits(a: Account, n: number): void {
    const lim = a.limits;
    if (lim.maxOpenOrders !== undefined && a.openOrders + n > lim.maxOpenOrders)
      fail('LIMIT_EXCEEDED', `${n} more orders would exceed the account's ${lim.maxOpenOrders} open orders`);
    if (lim.maxDailyOrders !== undefined && a.dailyOrders + n > lim.maxDailyOrders)
      fail('LIMIT_EXCEEDED', `${n} more orders would exceed the account's ${lim.maxDailyOrders} orders for today`);
  }

  private buildBracket(b: BracketSpec, entry: Order, a: Account): Order[] {
    if (typeof b !== 'object') fail('INVALID_ORDER', 'Bracket must be an object');
    const exit: Side = entry.side === 'buy' ? 'sell' : 'buy';
    const inst = this.insts[entry.instIdx]!;
    const taken = new Set<OrderId>([entry.id]);
    const kids: Order[] = [];
    if (b.takeProfit === undefined && b.stopLoss === undefined) fail('INVALID_ORDER', 'A bracket needs a take-profit or a stop-loss');
    if (b.takeProfit !== undefined) {
      const spec: OrderSpec = { symbol: inst.symbol, side: exit, orderType: 'limit', qty: entry.qty, price: b.takeProfit.price, tif: 'gtc' };
      const k = this.buildOrder(spec, b.takeProfit.orderId, a, taken);
      taken.add(k.id);
      kids.push(k);
    }
    if (b.stopLoss !== undefined) {
      const spec: OrderSpec = {
        symbol: inst.symbol,
        side: exit,
        orderType: b.stopLoss.price === undefined ? 'stop' : 'stop_limit',
        qty: entry.qty,
        stopPrice: b.stopLoss.stopPrice,
        tif: 'gtc',
      };
      if (b.stopLoss.price !== undefined) spec.price = b.stopLoss.price;
      kids.push(this.buildOrder(spec, b.stopLoss.orderId, a, taken));
    }
    const tp = b.takeProfit !== undefined ? kids[0]! : null;
    const sl = b.stopLoss !== undefined ? kids[kids.length - 1]! : null;
    if (tp !== null && sl !== null && (entry.side === 'buy' ? tp.price <= sl.stopPrice : tp.price >= sl.stopPrice))
      fail('INVALID_ORDER', 'Take-profit must be on the profitable side of the stop-loss');
    if (entry.price !== 0) checkBracketSides(entry.side, entry.price, kids);
    for (const k of kids) k.status = 'pending_parent';
    return kids;
  }

  private placeOco(c: PlaceOco): void {
    const a = this.account(c.accountId);
    if (!Array.isArray(c.legs) || c.legs.length !== 2) fail('INVALID_ORDER', 'An OCO pair has exactly two legs');
    const l0 = c.legs[0];
    const l1 = c.legs[1];
    const o0 = this.buildOrder(l0, l0.orderId, a, null);
    const o1 = this.buildOrder(l1, l1.orderId, a, new Set([o0.id]));
    if (o0.clientOrderId !== undefined && o0.clientOrderId === o1.clientOrderId)
      fail('DUPLICATE_CLIENT_ORDER_ID', `Both legs of the OCO pair carry client order id ${o0.clientOrderId}`);
    if (o0.instIdx !== o1.instIdx || o0.side !== o1.side)
      fail('INVALID_ORDER', 'Both legs of an OCO pair must have the same symbol and side');
    if (o0.type === 'market' || o1.type === 'market' || o0.tif === 'ioc' || o0.tif === 'fok' || o1.tif === 'ioc' || o1.tif === 'fok')
      fail('INVALID_ORDER', 'OCO legs must be resting orders (limit or stop, day or gtc)');
    if (a.limits.maxOpenOrders !== undefined && a.openOrders + 2 > a.limits.maxOpenOrders)
      fail('LIMIT_EXCEEDED', `Two more orders would exceed the account's ${a.limits.maxOpenOrders} open orders`);
    this.checkBatchLimits(a, 2);
    const inst = this.insts[o0.instIdx]!;
    for (const o of [o0, o1]) {
      if (o.type === 'limit') this.preMatchChecks(o, inst, a);
      else o.status = 'pending_trigger';
      if (o.type === 'trailing_stop') this.initTrail(o, inst);
    }
    const g = new OcoGroup(o0, o1, 'cancel');
    o0.oco = o1.oco = g;
    const pos = a.pos(inst.idx);
    const code = this.reserveGroup(g, a, pos);
    if (code !== null) {
      o0.oco = o1.oco = null;
      fail(code, this.riskMessage(code, a, pos, o0));
    }
    this.groups.add(g);
    this.accept(o0, a, undefined, o1.id);
    this.accept(o1, a, undefined, o0.id);
    this.start(o0, inst);
    if (this.orders.get(o1.id) === o1) this.start(o1, inst);
    this.drain();
  }

  private riskMessage(code: ResultCode, a: Account, pos: Position, o: Order): string {
    if (code === 'INSUFFICIENT_SHARES')
      return `Selling ${o.leaves} needs shares; ${Math.max(0, pos.qty - pos.reserved)} available`;
    return `Needs ${this.resvPrice(o) * o.leaves}; buying power is ${a.buyingPower}`;
  }

  /** Sends a freshly accepted (or triggered / activated) order on its way. */
  private start(o: Order, inst: Instrument): void {
    switch (o.type) {
      case 'limit':
      case 'market':
        this.match(o, inst);
        if (!this.orders.has(o.id)) return; // finished while matching (e.g. canceled by STP)
        if (o.leaves === 0) this.retire(o, inst);
        else if (o.type === 'market' || o.tif === 'ioc' || o.tif === 'fok') this.cancelLive(o, inst, 'ioc');
        else this.rest(o, inst);
        return;
      default:
        if (o.status === 'pending_parent') return;
        this.armStop(o, inst);
    }
  }

  private rest(o: Order, inst: Instrument): void {
    o.status = 'working';
    o.seq = ++this.bookSeq;
    o.resting = true;
    inst.book.add(o);
  }

  // ------------------------------------------------------------------------------------------ matching

  /** Matches an incoming order against the opposite side until it is done or no longer marketable. */
  private match(o: Order, inst: Instrument): void {
    const book = inst.book;
    const buy = o.side === 'buy';
    const opp: Side = buy ? 'sell' : 'buy';
    const isMarket = o.type === 'market';
    const limit = o.price;
    const a = this.accounts.get(o.accountId)!;
    // A market short sale holds no reservation, and a trade that opens a short leaves the buying power as it
    // was (the proceeds are held): so the buying power at the start backs the order's whole short part, and
    // each fill uses up what its short part costs.
    this.shortRoom = isMarket && !buy && a.allowShort ? Math.max(0, a.buyingPower) : 0;
    // A market order was checked against the account's maximum notional at the mark: what it trades at
    // worse prices through a thin book counts too, and it stops (limit_exceeded) where the next fill would
    // take it past the maximum.
    const maxNotional = isMarket ? a.limits.maxOrderNotional : undefined;
    let traded = 0;
    while (o.leaves > 0) {
      const m = book.best(opp);
      if (m === null) break;
      const px = m.price;
      if (!isMarket && (buy ? px > limit : px < limit)) break;
      if (m.accountId === o.accountId) {
        // self-trade prevention
        if (o.stp === 'cancel_maker' || o.stp === 'cancel_both') this.cancelLive(m, inst, 'self_trade');
        if (o.stp === 'cancel_taker' || o.stp === 'cancel_both') {
          this.cancelLive(o, inst, 'self_trade');
          return;
        }
        continue;
      }
      let q = o.leaves < m.leaves ? o.leaves : m.leaves;
      if (isMarket) {
        if (maxNotional !== undefined) {
          const room = Math.floor((maxNotional - traded) / px / inst.lot) * inst.lot;
          if (room < q) q = Math.max(0, room);
          if (q === 0) {
            this.cancelLive(o, inst, 'limit_exceeded');
            return;
          }
        }
        q = this.affordable(o, a, inst, px, q);
        if (q === 0) {
          const p = a.positions.get(inst.idx);
          const sharesHeld = !a.allowShort || (p !== undefined && p.reserved > 0);
          this.cancelLive(o, inst, buy || !sharesHeld ? 'insufficient_funds' : 'insufficient_shares');
          return;
        }
      }
      const leaves = o.leaves;
      this.fill(m, o, inst, px, q);
      traded += (leaves - o.leaves) * px;
      if (!this.orders.has(o.id)) return;
    }
  }

  /** How much of q a market order (which holds no reservation) can pay for or deliver at px. */
  private affordable(o: Order, a: Account, inst: Instrument, px: Price, q: Qty): Qty {
    const lot = inst.lot;
    if (o.side === 'buy') {
      const max = Math.floor(a.buyingPower / px / lot) * lot;
      return q < max ? q : Math.max(0, max);
    }
    const p = a.pos(inst.idx);
    const avail = Math.max(0, p.qty - p.reserved);
    // Shares held for working sells are theirs: selling past the free ones would leave those orders promising
    // shares the account no longer has. So a short sale starts only once no long shares are held.
    if (!a.allowShort || p.reserved > 0) return q < avail ? q : avail;
    if (q <= avail) return q;
    const shortMax = Math.floor(this.shortRoom / px / lot) * lot;
    const take = Math.min(q, avail + shortMax);
    this.shortRoom -= (take - avail) * px;
    return take;
  }

  /** One trade between a resting maker and the incoming taker at the maker's price. */
  private fill(m: Order, t: Order, inst: Instrument, px: Price, q: Qty): void {
    // A cancel-mode OCO leg trades alone, so it must be able to carry its own reservation once the pair's is
    // gone. One that cannot (its account's shares went to other sales and its cash was withdrawn) is canceled
    // with its sibling before anything trades: nothing may be half applied.
    const alone = this.cannotStandAlone(m, inst) ? m : this.cannotStandAlone(t, inst) ? t : null;
    if (alone !== null) return this.cancelBeforeTrade(alone, inst, 'insufficient_funds');
    // Money stays exact: a trade that could take the maker's totals past MAX_MONEY cancels the maker (the
    // taker goes on to the next one); one that could take the taker's or the symbol's cancels the taker.
    const n = px * q;
    const ma = this.accounts.get(m.accountId)!;
    const ta = this.accounts.get(t.accountId)!;
    const mp = ma.positions.get(inst.idx);
    const tp = ta.positions.get(inst.idx);
    const over = !moneyRoom(ma, mp, m.side === 'buy', n) ? m : !moneyRoom(ta, tp, t.side === 'buy', n) || !symbolRoom(inst, n, q) ? t : null;
    if (over !== null) return this.cancelBeforeTrade(over, inst, 'limit_exceeded');
    this.ev.push({
      type: 'Trade',
      ts: this.ts,
      tradeId: ++this.tradeSeq,
      symbol: inst.symbol,
      price: px,
      qty: q,
      aggressor: t.side,
      makerOrderId: m.id,
      makerAccountId: m.accountId,
      makerLeaves: m.leaves - q,
      takerOrderId: t.id,
      takerAccountId: t.accountId,
      takerLeaves: t.leaves - q,
    });
    // OCO (cancel mode): the first trade on a leg cancels the other leg before anything settles
    if (m.oco !== null && m.oco.mode === 'cancel') this.dissolveOnTrade(m, inst);
    if (t.oco !== null && t.oco.mode === 'cancel') this.dissolveOnTrade(t, inst);
    inst.book.reduce(m, q);
    t.leaves -= q;
    this.settle(ma, mp ?? ma.pos(inst.idx), m, inst, px, q);
    this.settle(ta, tp ?? ta.pos(inst.idx), t, inst, px, q);
    this.onPrint(inst, px, q);
    if (m.oco !== null) this.afterLegTrade(m, inst, q);
    if (t.oco !== null) this.afterLegTrade(t, inst, q);
    if (m.leaves === 0 && m.resting) {
      inst.book.remove(m);
      m.resting = false;
      this.retire(m, inst);
    }
  }

  /** Cancels an order instead of the trade it was about to take part in; a cancel-mode OCO leg with its
   * sibling, as a trade on it would have. */
  private cancelBeforeTrade(o: Order, inst: Instrument, reason: CancelReason): void {
    if (o.oco !== null && o.oco.mode === 'cancel') this.dissolveOnTrade(o, inst);
    if (o.live) this.cancelLive(o, inst, reason);
  }

  /**
   * The fill-or-kill walk's form of fill's money check for `o`'s side of a trade of notional n: `bounds`
   * keeps, per account, upper bounds of its totals' magnitudes as the walk's trades add up (walkMoneyRoom).
   */
  private walkRoom(bounds: Map<AccountId, number[]>, o: Order, inst: Instrument, n: Money): boolean {
    let b = bounds.get(o.accountId);
    if (b === undefined) {
      const a = this.accounts.get(o.accountId)!;
      const p = a.positions.get(inst.idx);
      b = [Math.abs(a.cash), a.shortCost, Math.abs(a.realized), Math.abs(p?.cost ?? 0), Math.abs(p?.realized ?? 0)];
      bounds.set(o.accountId, b);
    }
    return walkMoneyRoom(b, o.side === 'buy', n);
  }

  /** Cash, position and reservation effects of one side of a trade. */
  private settle(a: Account, p: Position, o: Order, inst: Instrument, px: Price, q: Qty): void {
    // release the reservation for the traded quantity (group reservations are rebalanced afterwards)
    if (o.oco === null && (o.resvCash !== 0 || o.resvShares !== 0)) {
      if (o.side === 'buy') {
        const d = o.resvPx * q;
        o.resvCash -= d;
        a.reservedCash -= d;
      } else {
        const s = q < o.resvShares ? q : o.resvShares;
        o.resvShares -= s;
        p.reserved -= s;
        const d = (q - s) * o.resvPx;
        o.resvCash -= d;
        a.reservedCash -= d;
      }
    }
    const notional = px * q;
    const dq = o.side === 'buy' ? q : -q;
    a.cash += o.side === 'buy' ? -notional : notional;
    const shortBefore = p.qty < 0 ? -p.cost : 0;
    if (p.qty === 0 || p.qty > 0 === dq > 0) {
      p.qty += dq;
      p.cost += dq * px;
    } else {
      const abs = p.qty < 0 ? -p.qty : p.qty;
      const close = q < abs ? q : abs;
      const removed = proportion(p.cost, close, abs);
      const realized = p.qty > 0 ? px * close - removed : -removed - px * close;
      p.cost -= removed;
      p.qty += dq > 0 ? close : -close;
      p.realized += realized;
      a.realized += realized;
      const rest = q - close;
      if (rest > 0) {
        p.qty += dq > 0 ? rest : -rest;
        p.cost += (dq > 0 ? rest : -rest) * px;
      }
    }
    a.shortCost += (p.qty < 0 ? -p.cost : 0) - shortBefore;
  }

  /** Last price, session statistics, candles, then stops and trailing stops for one print. */
  private onPrint(inst: Instrument, px: Price, q: Qty): void {
    inst.last = px;
    inst.lastSize = q;
    inst.lastTs = this.ts;
    inst.volume += q;
    inst.turnover += px * q;
    if (inst.open === 0) inst.open = inst.high = inst.low = px;
    else if (px > inst.high) inst.high = px;
    else if (px < inst.low) inst.low = px;
    const c = inst.candles;
    c['1m'].update(this.ts, px, q);
    c['5m'].update(this.ts, px, q);
    c['15m'].update(this.ts, px, q);
    c['1h'].update(this.ts, px, q);
    c['1d'].update(this.ts, px, q);
    const bs = inst.buyStops;
    while (bs.length > 0 && bs[0]!.stopPrice <= px) this.queueTrigger(bs.shift()!);
    const ss = inst.sellStops;
    while (ss.length > 0 && ss[0]!.stopPrice >= px) this.queueTrigger(ss.shift()!);
    if (inst.trailing.length > 0) this.trailOnPrint(inst, px);
  }

  private trailOnPrint(inst: Instrument, px: Price): void {
    const tr = inst.trailing;
    // Moving a stop can cancel orders (an OCO pair that can no longer back its legs dissolves), which takes
    // them out of the list: walk a copy, and skip what is no longer live.
    for (const o of tr.slice()) {
      if (!o.live || o.status !== 'pending_trigger') continue;
      const sell = o.side === 'sell';
      if (sell ? px > o.trailRef : px < o.trailRef) {
        o.trailRef = px;
        const stop = sell ? px - o.trail : px + o.trail;
        if (sell ? stop > o.stopPrice : stop < o.stopPrice) {
          o.stopPrice = stop;
          if (!sell && o.oco === null) this.reReserve(o, inst); // a buy trailing stop holds cash at its trigger
          else if (o.oco !== null) this.rebalanceGroup(o.oco, inst);
          if (!o.live) continue;
          this.ev.push({ type: 'StopMoved', ts: this.ts, orderId: o.id, accountId: o.accountId, stopPrice: stop });
        }
      }
      if (sell ? px <= o.stopPrice : px >= o.stopPrice) {
        const i = tr.indexOf(o);
        if (i >= 0) tr.splice(i, 1);
        this.queueTrigger(o);
      }
    }
  }

  private queueTrigger(o: Order): void {
    this.work.push(o);
  }

  /** Runs triggered stops and activated bracket children, in the order they became due. */
  private drain(): void {
    const w = this.work;
    while (w.length > 0) {
      const o = w.shift()!;
      if (this.orders.get(o.id) !== o) continue;
      const inst = this.insts[o.instIdx]!;
      if (o.status === 'pending_parent') {
        // a bracket child whose entry ended during a halt waits, unreserved, for the symbol to reopen: going
        // live now could trade (or cross the book) while trading is halted
        if (inst.status === 'open') this.activateChild(o, inst);
      } else this.trigger(o, inst);
    }
  }

  // ----------------------------------------------------------------------------------------- stops

  private initTrail(o: Order, inst: Instrument): void {
    o.trailRef = inst.mark;
    o.stopPrice = o.side === 'sell' ? o.trailRef - o.trail : o.trailRef + o.trail;
    if (o.stopPrice < inst.tick) o.stopPrice = inst.tick;
  }

  /** Puts a pending stop where the next prints will find it, or triggers it now if the last price is through it. */
  private armStop(o: Order, inst: Instrument): void {
    o.status = 'pending_trigger';
    const last = inst.last;
    if (last > 0 && (o.side === 'buy' ? last >= o.stopPrice : last <= o.stopPrice)) {
      this.queueTrigger(o);
      return;
    }
    o.seq = ++this.bookSeq;
    if (o.type === 'trailing_stop') {
      inst.trailing.push(o);
      return;
    }
    const arr = o.side === 'buy' ? inst.buyStops : inst.sellStops;
    let i = arr.length;
    if (o.side === 'buy') while (i > 0 && arr[i - 1]!.stopPrice > o.stopPrice) i--;
    else while (i > 0 && arr[i - 1]!.stopPrice < o.stopPrice) i--;
    arr.splice(i, 0, o);
  }

  private unarmStop(o: Order, inst: Instrument): void {
    const arr = o.type === 'trailing_stop' ? inst.trailing : o.side === 'buy' ? inst.buyStops : inst.sellStops;
    const i = arr.indexOf(o);
    if (i >= 0) arr.splice(i, 1);
    else {
      const w = this.work.indexOf(o); // triggered but not yet run
      if (w >= 0) this.work.splice(w, 1);
    }
  }

  /** A stop's trigger was reached: it becomes a market order (stop, trailing) or a limit order (stop-limit). */
  private trigger(o: Order, inst: Instrument): void {
    const a = this.accounts.get(o.accountId)!;
    if (o.oco !== null) {
      // the other leg is canceled; this one carries on alone
      const g = o.oco;
      const other = g.other(o);
      this.dissolve(g, inst, other);
      if (this.orders.get(other.id) === other) this.cancelLive(other, inst, 'oco');
      if (this.orders.get(o.id) !== o) return;
    }
    this.release(o, a, a.pos(inst.idx));
    if (o.type === 'stop_limit') {
      o.type = 'limit';
      const code = this.reserve(o, a, a.pos(inst.idx), o.side, o.leaves, o.price, -1);
      if (code !== null) {
        this.cancelLive(o, inst, code === 'INSUFFICIENT_SHARES' ? 'insufficient_shares' : 'insufficient_funds');
        return;
      }
    } else o.type = 'market';
    o.status = 'working';
    const e: EngineEvent = {
      type: 'OrderTriggered',
      ts: this.ts,
      orderId: o.id,
      accountId: o.accountId,
      symbol: inst.symbol,
      orderType: o.type === 'limit' ? 'limit' : 'market',
      qty: o.leaves,
      status: 'working',
    };
    if (o.type === 'limit') e.price = o.price;
    this.ev.push(e);
    if (o.type === 'market' && inst.book.best(o.side === 'buy' ? 'sell' : 'buy') === null) {
      this.cancelLive(o, inst, 'no_liquidity');
      return;
    }
    if (inst.status !== 'open') {
      this.cancelLive(o, inst, 'no_liquidity');
      return;
    }
    this.start(o, inst);
  }

  // -------------------------------------------------------------------------------- brackets and OCO

  private activateChild(k: Order, inst: Instrument): void {
    const a = this.accounts.get(k.accountId)!;
    k.status = k.type === 'limit' ? 'working' : 'pending_trigger';
    const g = k.oco;
    if (g !== null) {
      const other = g.other(k);
      if (other.status === 'pending_parent') {
        // both legs become live together: activate the sibling in the same step
        other.status = other.type === 'limit' ? 'working' : 'pending_trigger';
        const wi = this.work.indexOf(other);
        if (wi >= 0) this.work.splice(wi, 1);
      }
      const code = this.reserveGroup(g, a, a.pos(inst.idx));
      if (code !== null) {
        this.dissolve(g, inst);
        const reason = code === 'INSUFFICIENT_SHARES' ? 'insufficient_shares' : 'insufficient_funds';
        // dissolve may already have canceled legs that cannot stand alone: cancel each at most once
        if (this.orders.get(k.id) === k) this.cancelLive(k, inst, reason);
        if (this.orders.get(other.id) === other) this.cancelLive(other, inst, reason);
        return;
      }
      const both = this.orders.get(other.id) === other;
      this.emitActivated(k, inst);
      if (both) this.emitActivated(other, inst);
      this.start(k, inst);
      if (both && this.orders.get(other.id) === other) this.start(other, inst);
      return;
    }
    const code = this.reserve(k, a, a.pos(inst.idx), k.side, k.leaves, this.resvPrice(k), -1);
    if (code !== null) {
      this.cancelLive(k, inst, code === 'INSUFFICIENT_SHARES' ? 'insufficient_shares' : 'insufficient_funds');
      return;
    }
    this.emitActivated(k, inst);
    this.start(k, inst);
  }

  private emitActivated(k: Order, inst: Instrument): void {
    const e: EngineEvent = {
      type: 'OrderActivated',
      ts: this.ts,
      orderId: k.id,
      accountId: k.accountId,
      symbol: inst.symbol,
      orderType: k.type,
      qty: k.leaves,
      status: k.status,
    };
    if (k.price !== 0) e.price = k.price;
    if (k.stopPrice !== 0) e.stopPrice = k.stopPrice;
    this.ev.push(e);
  }

  /** The entry of a bracket is done: its children go live for the filled quantity, or die with it. */
  private finishEntry(o: Order, inst: Instrument): void {
    const kids = o.children!;
    o.children = null;
    const filled = o.filled;
    for (const k of kids) {
      k.parent = null;
      if (this.orders.get(k.id) !== k) continue;
      if (filled === 0) {
        if (k.oco !== null) this.dissolve(k.oco, inst);
        this.cancelLive(k, inst, 'parent_canceled');
      } else {
        const cut = k.qty !== filled;
        k.qty = k.leaves = filled;
        // a child that will wait for its halted symbol to reopen says now what it holds (one going live at once
        // says it in its OrderActivated)
        if (cut && inst.status !== 'open') this.emitReplaced(k, inst, true);
        this.work.push(k);
      }
    }
  }

  /** Cancel-mode OCO: the first trade on leg `o` cancels its sibling, and `o` takes the reservation alone. */
  private dissolveOnTrade(o: Order, inst: Instrument): void {
    const g = o.oco!;
    const other = g.other(o);
    this.dissolve(g, inst, other);
    if (this.orders.get(other.id) === other) this.cancelLive(other, inst, 'oco');
  }

  /** Whether `o` is a leg of a cancel-mode group that could not reserve for itself alone once the group's
   * reservation is released (it is canceled when hit, not traded). Changes nothing. */
  private cannotStandAlone(o: Order, inst: Instrument): boolean {
    const g = o.oco;
    if (g === null || g.mode !== 'cancel') return false;
    const a = this.accounts.get(o.accountId)!;
    const pos = a.pos(inst.idx);
    const gs = saveResv(g);
    const os = saveResv(o);
    this.release(g, a, pos);
    const code = this.reserve(o, a, pos, o.side, o.leaves, this.resvPrice(o), -1);
    this.restoreResv(o, a, pos, os);
    this.restoreResv(g, a, pos, gs);
    return code !== null;
  }

  /** Unlinks a group; each still-live leg re-reserves for itself (except `doomed`, about to be canceled: it
   * must not take shares or cash the surviving leg needs). */
  private dissolve(g: OcoGroup, inst: Instrument, doomed: Order | null = null): void {
    const a = this.accounts.get(g.a.accountId)!;
    const pos = a.pos(inst.idx);
    this.release(g, a, pos);
    g.a.oco = null;
    g.b.oco = null;
    this.groups.delete(g);
    for (const leg of [g.a, g.b]) {
      if (this.orders.get(leg.id) !== leg || leg.status === 'pending_parent') continue;
      if (leg.type === 'market' || leg === doomed) continue;
      const code = this.reserve(leg, a, pos, leg.side, leg.leaves, this.resvPrice(leg), -1);
      if (code !== null) {
        // cannot carry the order alone any more (only possible for short-account splits): cancel it
        this.cancelLive(leg, inst, code === 'INSUFFICIENT_SHARES' ? 'insufficient_shares' : 'insufficient_funds');
      }
    }
  }

  /** After a trade on a group leg: reduce-mode siblings shrink by the traded quantity; reservations rebalance. */
  private afterLegTrade(o: Order, inst: Instrument, q: Qty): void {
    const g = o.oco!;
    if (g.mode === 'reduce') {
      const other = g.other(o);
      if (this.orders.get(other.id) === other) {
        const by = q < other.leaves ? q : other.leaves;
        if (by === other.leaves) {
          g.a.oco = g.b.oco = null;
          this.groups.delete(g);
          const a = this.accounts.get(o.accountId)!;
          this.release(g, a, a.pos(inst.idx));
          this.cancelLive(other, inst, 'oco');
          if (o.leaves > 0) {
            const code = this.reserve(o, a, a.pos(inst.idx), o.side, o.leaves, this.resvPrice(o), -1);
            if (code !== null) this.cancelLive(o, inst, 'insufficient_funds');
          }
          return;
        }
        if (other.resting) inst.book.reduce(other, by);
        else other.leaves -= by;
        other.qty -= by;
        this.emitReplaced(other, inst, true);
      }
    }
    if (o.oco !== null) this.rebalanceGroup(o.oco, inst);
  }

  private rebalanceGroup(g: OcoGroup, inst: Instrument): void {
    const a = this.accounts.get(g.a.accountId)!;
    const pos = a.pos(inst.idx);
    this.release(g, a, pos);
    const code = this.reserveGroup(g, a, pos);
    if (code !== null) {
      // Shrinking legs never need more than they held; this only happens for short splits. Fall back to
      // dissolving the group so each leg stands (or falls) on its own.
      this.dissolve(g, inst);
    }
  }

  // ----------------------------------------------------------------------------------- reservations

  /** The price a working order's cash reservation is computed at. */
  private resvPrice(o: Order): Price {
    return o.type === 'limit' || o.type === 'stop_limit' ? o.price : o.stopPrice;
  }

  /**
   * Reserves what a holder needs for `leaves` on `side`: cash (leaves × px) for buys; shares for sells, with
   * any short portion backed by cash at px for accounts that may short. `cash` ≥ 0 overrides the cash amount.
   */
  private reserve(h: Holder, a: Account, pos: Position, side: Side, leaves: Qty, px: Price, cash: number): ResultCode | null {
    if (leaves <= 0) return null;
    if (side === 'buy') {
      const need = cash >= 0 ? cash : px * leaves;
      if (need > a.buyingPower) return 'INSUFFICIENT_FUNDS';
      h.resvCash = need;
      h.resvPx = px;
      a.reservedCash += need;
      return null;
    }
    const avail = pos.qty - pos.reserved;
    const fromLong = avail <= 0 ? 0 : leaves < avail ? leaves : avail;
    if (!a.allowShort) {
      if (fromLong < leaves) return 'INSUFFICIENT_SHARES';
      h.resvShares = leaves;
      pos.reserved += leaves;
      return null;
    }
    const need = px * (leaves - fromLong);
    if (need > a.buyingPower) return 'INSUFFICIENT_FUNDS';
    h.resvShares = fromLong;
    pos.reserved += fromLong;
    h.resvCash = need;
    h.resvPx = px;
    a.reservedCash += need;
    return null;
  }

  private release(h: Holder, a: Account, pos: Position): void {
    a.reservedCash -= h.resvCash;
    pos.reserved -= h.resvShares;
    h.resvCash = 0;
    h.resvShares = 0;
  }

  /** Puts a holder's reservation back exactly as saved (whatever it holds now is released first). */
  private restoreResv(h: Holder, a: Account, pos: Position, s: SavedResv): void {
    this.release(h, a, pos);
    h.resvCash = s.cash;
    h.resvShares = s.shares;
    h.resvPx = s.px;
    a.reservedCash += s.cash;
    pos.reserved += s.shares;
  }

  private reReserve(o: Order, inst: Instrument): void {
    const a = this.accounts.get(o.accountId)!;
    const pos = a.pos(inst.idx);
    this.release(o, a, pos);
    this.reserve(o, a, pos, o.side, o.leaves, this.resvPrice(o), -1);
  }

  /** What a group needs: the larger of its live legs' needs (they can never both trade in full). */
  groupNeed(g: OcoGroup): { leaves: Qty; px: Price; cash: number } {
    let leaves = 0;
    let px = 0;
    let cash = 0;
    for (const leg of [g.a, g.b]) {
      if (!leg.live || leg.status === 'pending_parent' || leg.type === 'market') continue;
      const p = this.resvPrice(leg);
      if (leg.leaves > leaves) leaves = leg.leaves;
      if (p > px) px = p;
      if (p * leg.leaves > cash) cash = p * leg.leaves;
    }
    return { leaves, px, cash };
  }

  private reserveGroup(g: OcoGroup, a: Account, pos: Position): ResultCode | null {
    const n = this.groupNeed(g);
    if (n.leaves === 0) return null;
    return this.reserve(g, a, pos, g.a.side, n.leaves, n.px, g.a.side === 'buy' ? n.cash : -1);
  }

  // ------------------------------------------------------------------------------------ order ends

  /** Cancels a live order wherever it sits (book, stop list, pending) and emits OrderCanceled. */
  private cancelLive(o: Order, inst: Instrument, reason: CancelReason): void {
    if (o.resting) {
      inst.book.remove(o);
      o.resting = false;
    } else if (o.status === 'pending_trigger') this.unarmStop(o, inst);
    else if (o.status === 'pending_parent') {
      const wi = this.work.indexOf(o);
      if (wi >= 0) this.work.splice(wi, 1);
    }
    const canceledQty = o.leaves;
    this.ev.push({
      type: 'OrderCanceled',
      ts: this.ts,
      orderId: o.id,
      accountId: o.accountId,
      symbol: inst.symbol,
      reason,
      canceledQty,
    });
    this.retire(o, inst);
  }

  /** Removes a finished order from the engine and releases everything it held. */
  private retire(o: Order, inst: Instrument): void {
    this.orders.delete(o.id);
    o.live = false;
    const a = this.accounts.get(o.accountId)!;
    a.openOrders--;
    const pos = a.pos(inst.idx);
    // a group dissolves when a leg ends: the other leg (if still live) reserves for itself
    if (o.oco !== null) this.dissolve(o.oco, inst);
    else this.release(o, a, pos);
    if (o.parent !== null) {
      const kids = o.parent.children;
      if (kids !== null) {
        const i = kids.indexOf(o);
        if (i >= 0) kids.splice(i, 1);
        if (kids.length === 0) o.parent.children = null;
      }
      o.parent = null;
    }
    if (o.children !== null) this.finishEntry(o, inst);
  }

  private emitReplaced(o: Order, inst: Instrument, keptPriority: boolean): void {
    const e: EngineEvent = {
      type: 'OrderReplaced',
      ts: this.ts,
      orderId: o.id,
      accountId: o.accountId,
      symbol: inst.symbol,
      qty: o.qty,
      leaves: o.leaves,
      keptPriority,
    };
    if (o.price !== 0) e.price = o.price;
    if (o.stopPrice !== 0) e.stopPrice = o.stopPrice;
    if (o.trail !== 0) e.trailAmount = o.trail;
    this.ev.push(e);
  }

  private ownOrder(accountId: AccountId, orderId: OrderId): { o: Order; inst: Instrument } {
    this.account(accountId);
    const o = this.orders.get(orderId);
    if (o === undefined) fail('UNKNOWN_ORDER', `No working order ${String(orderId)}`);
    if (o.accountId !== accountId) fail('NOT_ORDER_OWNER', `Order ${orderId} belongs to another account`);
    return { o, inst: this.insts[o.instIdx]! };
  }

  private cancelOrder(c: CancelOrder): void {
    const { o, inst } = this.ownOrder(c.accountId, c.orderId);
    this.cancelLive(o, inst, 'user');
    this.drain();
  }

  private replaceOrder(c: ReplaceOrder): void {
    const { o, inst } = this.ownOrder(c.accountId, c.orderId);
    const a = this.accounts.get(o.accountId)!;
    if (inst.status !== 'open') fail('MARKET_HALTED', `Trading in ${inst.symbol} is halted`);
    if (o.status === 'pending_parent') fail('ORDER_NOT_MODIFIABLE', 'A bracket child cannot be changed before its entry fills');
    if (c.qty === undefined && c.price === undefined && c.stopPrice === undefined && c.trailAmount === undefined)
      fail('INVALID_ORDER', 'Nothing to change');
    const filled = o.filled;
    let qty = o.qty;
    if (c.qty !== undefined) {
      checkQty(inst, c.qty);
      if (c.qty <= filled) fail('INVALID_QUANTITY', `Quantity must exceed the ${filled} already filled`);
      qty = c.qty;
    }
    let price = o.price;
    if (c.price !== undefined) {
      if (o.type !== 'limit' && o.type !== 'stop_limit') fail('INVALID_ORDER', 'Only limit prices can be changed');
      price = this.checkPrice(inst, c.price, 'Limit price');
      // a bracket entry whose children still wait for it keeps them on the sides placement required
      if (o.children !== null && price !== o.price && (c.rules ?? RULES) >= 2) checkBracketSides(o.side, price, o.children);
    }
    let stopPrice = o.stopPrice;
    if (c.stopPrice !== undefined) {
      if (o.status !== 'pending_trigger' || o.type === 'trailing_stop')
        fail('INVALID_ORDER', 'Only an untriggered stop has a stop price to change');
      stopPrice = this.checkPrice(inst, c.stopPrice, 'Stop price');
    }
    let trail = o.trail;
    if (c.trailAmount !== undefined) {
      if (o.type !== 'trailing_stop') fail('INVALID_ORDER', 'Only a trailing stop has a trail');
      if (!isPosInt(c.trailAmount) || c.trailAmount % inst.tick !== 0 || c.trailAmount >= o.trailRef)
        fail('INVALID_PRICE', `Trail must be a positive multiple of the tick ${inst.tick}`);
      trail = c.trailAmount;
    }
    const lim = a.limits;
    const refPx = price || stopPrice || inst.mark;
    if (!Number.isSafeInteger(refPx * qty)) fail('INVALID_QUANTITY', 'Order notional is too large');
    if (lim.maxOrderQty !== undefined && qty > lim.maxOrderQty)
      fail('LIMIT_EXCEEDED', `Quantity ${qty} exceeds the account's maximum order size ${lim.maxOrderQty}`);
    if (lim.maxOrderNotional !== undefined && refPx * qty > lim.maxOrderNotional)
      fail('LIMIT_EXCEEDED', `Notional ${refPx * qty} exceeds the account's maximum ${lim.maxOrderNotional}`);
    const resting = o.resting;
    if (resting && o.postOnly && price !== o.price) {
      const bp = inst.book.bestPrice(o.side === 'buy' ? 'sell' : 'buy');
      if (bp !== 0 && (o.side === 'buy' ? price >= bp : price <= bp))
        fail('WOULD_CROSS', `Post-only ${o.side} at ${price} would trade against ${bp}`);
    }
    const leaves = qty - filled;
    const priceChanged = price !== o.price;
    const keep = !priceChanged && leaves <= o.leaves && stopPrice === o.stopPrice && trail === o.trail;
    // risk: swap the reservation for the new terms, or reject with everything as it was
    const pos = a.pos(inst.idx);
    const old = { qty: o.qty, leaves: o.leaves, price: o.price, stopPrice: o.stopPrice, trail: o.trail };
    const h: Holder = o.oco ?? o;
    // what the holder holds now, to put back exactly on a rejection: recomputing it from the old terms could
    // give another amount (a trailing stop's stop has moved since it reserved) or fail and free it all
    const saved = saveResv(h);
    this.release(h, a, pos);
    o.qty = qty;
    o.leaves = leaves;
    o.price = price;
    o.trail = trail;
    if (o.type === 'trailing_stop' && trail !== old.trail)
      stopPrice = o.side === 'sell' ? Math.max(inst.tick, o.trailRef - trail) : o.trailRef + trail;
    o.stopPrice = stopPrice;
    const code =
      o.oco !== null ? this.reserveGroup(o.oco, a, pos) : this.reserve(o, a, pos, o.side, leaves, this.resvPrice(o), -1);
    if (code !== null) {
      const msg = this.riskMessage(code, a, pos, o); // the new terms, before they are rolled back
      o.qty = old.qty;
      o.leaves = old.leaves;
      o.price = old.price;
      o.stopPrice = old.stopPrice;
      o.trail = old.trail;
      this.restoreResv(h, a, pos, saved);
      fail(code, msg);
    }
    if (resting) {
      if (keep) {
        o.leaves = old.leaves;
        inst.book.reduce(o, old.leaves - leaves);
        this.emitReplaced(o, inst, true);
      } else {
        o.leaves = old.leaves;
        inst.book.remove(o);
        o.resting = false;
        o.leaves = leaves;
        this.emitReplaced(o, inst, false);
        this.match(o, inst);
        if (this.orders.get(o.id) === o) {
          if (o.leaves === 0) this.retire(o, inst);
          else this.rest(o, inst);
        }
      }
    } else if (keep) {
      this.emitReplaced(o, inst, true);
    } else {
      // untriggered stop: re-file it under its new trigger (it loses its place among stops)
      this.unarmStop(o, inst);
      this.emitReplaced(o, inst, false);
      this.armStop(o, inst);
    }
    this.drain();
  }

  // ------------------------------------------------------------------------------------ end of session

  private endSession(c: EndSession): void {
    this.session++;
    for (const o of [...this.orders.values()]) {
      if (o.tif !== 'day' || this.orders.get(o.id) !== o) continue;
      this.cancelLive(o, this.insts[o.instIdx]!, 'expired');
    }
    // bracket children of partly filled day entries go live within the closing session
    this.drain();
    for (const inst of this.insts) {
      if (inst.last > 0) inst.previousClose = inst.last;
      inst.setBand(inst.previousClose);
      inst.volume = inst.turnover = inst.open = inst.high = inst.low = 0;
    }
    for (const idx of this.indexes.values()) idx.previousClose = idx.value();
    if ((c.rules ?? RULES) >= 3) this.cancelOutsideBand();
    for (const a of this.accounts.values()) {
      a.dailyOrders = 0;
      a.clientIds = new Map(); // replaced, not cleared: a capture may still hold the old one
    }
    for (const o of this.orders.values()) {
      if (o.clientOrderId !== undefined) this.accounts.get(o.accountId)!.clientIds.set(o.clientOrderId, o.id);
    }
    this.ev.push({ type: 'SessionEnded', ts: this.ts, session: this.session });
  }

  /** Cancels (price_band) every order whose limit price is outside its symbol's band, lowest id first: resting
   * limits, waiting stop-limits and waiting bracket children (see EndSession). */
  private cancelOutsideBand(): void {
    const out: Order[] = [];
    for (const o of this.orders.values()) {
      if (o.price === 0) continue;
      const inst = this.insts[o.instIdx]!;
      if (o.price < inst.bandLow || o.price > inst.bandHigh) out.push(o);
    }
    out.sort((x, y) => x.id - y.id);
    for (const o of out) if (this.orders.get(o.id) === o) this.cancelLive(o, this.insts[o.instIdx]!, 'price_band');
    // children of entries canceled after a partial fill go live (those outside the band were canceled above)
    this.drain();
  }

  // ========================================================================================= state image

  /** A hash of the complete state: equal states give equal hashes, whichever book implementation runs. */
  stateHash(): string {
    return stateHash(this);
  }

  /** How many orders are live (resting, or waiting for a trigger or a parent). */
  get liveOrderCount(): number {
    return this.orders.size;
  }

  /** A canonical JSON-safe image of the complete state (see snapshot.ts). */
  snapshot(): EngineSnapshot {
    return snapshotEngine(this);
  }

  /**
   * The state at this moment with its orders still packed (see OrderCapture): much cheaper than snapshot()
   * with a large book, and its `snapshot()` or `orders.slice()` give what snapshot() gave now, whatever the
   * engine does meanwhile. `arrays`: those an earlier capture gave up (its `orders.recycle()`), to fill
   * instead of new ones.
   */
  capture(arrays?: CaptureArrays): StateCapture {
    return captureEngine(this, arrays);
  }

  static restore(s: EngineSnapshot, opts: Omit<EngineOptions, 'candleHistory'> = {}): Engine {
    return restoreEngine(s, opts);
  }

  // ============================================================================================ queries

  instrument(symbol: string): InstrumentView | undefined {
    const i = this.instBySymbol.get(symbol);
    return i === undefined ? undefined : instrumentView(i);
  }

  instruments(): InstrumentView[] {
    return this.insts.map(instrumentView);
  }

  quote(symbol: string): Quote | undefined {
    const i = this.instBySymbol.get(symbol);
    if (i === undefined) return undefined;
    const bid = i.book.bestPrice('buy');
    const ask = i.book.bestPrice('sell');
    const change = i.last > 0 ? i.last - i.previousClose : 0;
    return {
      symbol,
      bid: bid === 0 ? null : bid,
      bidSize: i.book.bestQty('buy'),
      ask: ask === 0 ? null : ask,
      askSize: i.book.bestQty('sell'),
      last: i.last === 0 ? null : i.last,
      lastSize: i.lastSize,
      volume: i.volume,
      turnover: i.turnover,
      open: i.open === 0 ? null : i.open,
      high: i.high === 0 ? null : i.high,
      low: i.low === 0 ? null : i.low,
      previousClose: i.previousClose,
      change,
      changeBps: roundHalfAway((change * 10_000) / i.previousClose),
      ts: i.lastTs,
    };
  }

  depth(symbol: string, levels = 10): Depth | undefined {
    const i = this.instBySymbol.get(symbol);
    if (i === undefined) return undefined;
    return { symbol, bids: i.book.depth('buy', levels), asks: i.book.depth('sell', levels) };
  }

  /** Closed bars (oldest first) followed by the bar being built. */
  candles(symbol: string, tf: Timeframe, limit = Infinity): Candle[] {
    const i = this.instBySymbol.get(symbol);
    if (i === undefined) return [];
    const s = i.candles[tf];
    // Copy only the bars asked for (the market-data hub asks for the live bar on every tick).
    const closed = s.closed;
    const n = closed.length + (s.cur === null ? 0 : 1);
    const from = limit >= n ? 0 : n - Math.max(0, Math.floor(limit));
    const out: Candle[] = [];
    for (let k = from; k < closed.length; k++) out.push({ ...closed[k]! });
    if (s.cur !== null && from < n) out.push({ ...s.cur });
    return out;
  }

  index(name: string): IndexView | undefined {
    const x = this.indexes.get(name);
    if (x === undefined) return undefined;
    return {
      name,
      value: x.value(),
      baseValue: x.baseValue,
      previousClose: x.previousClose,
      constituents: x.constituents.map((c) => ({ symbol: c.inst.symbol, weightBps: c.weightBps, basePrice: c.basePrice })),
    };
  }

  indexNames(): string[] {
    return [...this.indexes.keys()];
  }

  order(orderId: OrderId): OrderView | undefined {
    const o = this.orders.get(orderId);
    return o === undefined ? undefined : this.orderView(o);
  }

  openOrders(accountId?: AccountId): OrderView[] {
    const out: OrderView[] = [];
    for (const o of this.orders.values()) if (accountId === undefined || o.accountId === accountId) out.push(this.orderView(o));
    return out;
  }

  private orderView(o: Order): OrderView {
    const v: OrderView = {
      orderId: o.id,
      accountId: o.accountId,
      symbol: this.insts[o.instIdx]!.symbol,
      side: o.side,
      orderType: o.origType,
      tif: o.tif,
      qty: o.qty,
      filledQty: o.filled,
      leaves: o.leaves,
      postOnly: o.postOnly,
      status: o.status,
      ts: o.ts,
    };
    if (o.clientOrderId !== undefined) v.clientOrderId = o.clientOrderId;
    if (o.price !== 0) v.price = o.price;
    if (o.stopPrice !== 0) v.stopPrice = o.stopPrice;
    if (o.trail !== 0) v.trailAmount = o.trail;
    if (o.parent !== null) v.parentId = o.parent.id;
    if (o.oco !== null) v.linkedId = o.oco.other(o).id;
    return v;
  }

  accountView(accountId: AccountId): AccountView | undefined {
    const a = this.accounts.get(accountId);
    if (a === undefined) return undefined;
    const positions: PositionView[] = [];
    let unrealized = 0;
    let marketValue = 0;
    for (const idx of sortedKeys(a.positions)) {
      const p = a.positions.get(idx)!;
      if (p.qty === 0 && p.realized === 0 && p.reserved === 0) continue;
      const inst = this.insts[idx]!;
      const mark = inst.mark;
      const u = p.qty * mark - p.cost;
      unrealized += u;
      marketValue += p.qty * mark;
      positions.push({
        symbol: inst.symbol,
        qty: p.qty,
        cost: p.cost,
        avgPrice: p.qty === 0 ? 0 : p.cost / p.qty,
        reservedQty: p.reserved,
        realizedPnl: p.realized,
        unrealizedPnl: u,
        mark,
      });
    }
    return {
      accountId,
      cash: a.cash,
      reservedCash: a.reservedCash,
      buyingPower: a.buyingPower,
      realizedPnl: a.realized,
      unrealizedPnl: unrealized,
      equity: a.cash + marketValue,
      openOrders: a.openOrders,
      dailyOrders: a.dailyOrders,
      allowShort: a.allowShort,
      limits: { ...a.limits },
      positions,
    };
  }

  /** Every account's id, ascending. */
  accountIds(): AccountId[] {
    return sortedKeys(this.accounts);
  }

  /** The current session number (0 before the first EndSession). */
  get sessionNumber(): number {
    return this.session;
  }

  /** Resting plus pending orders. */
  get liveOrders(): number {
    return this.orders.size;
  }
}

/** A holder's reservation as it stands, to put back exactly (see Engine.restoreResv). */
interface SavedResv {
  cash: number;
  shares: Qty;
  px: Price;
}

function saveResv(h: Holder): SavedResv {
  return { cash: h.resvCash, shares: h.resvShares, px: h.resvPx };
}

/** A bracket's take-profit (its limit child) beyond the entry price and its stop-loss (its stop or stop-limit
 * child) on the losing side of it: checked at placement and when a replace re-prices a waiting entry. */
function checkBracketSides(side: Side, entryPrice: Price, kids: readonly Order[]): void {
  const buy = side === 'buy';
  for (const k of kids) {
    if (k.type === 'limit' && (buy ? k.price <= entryPrice : k.price >= entryPrice))
      fail('INVALID_ORDER', 'Take-profit must be beyond the entry price');
  }
  for (const k of kids) {
    if (k.type !== 'limit' && (buy ? k.stopPrice >= entryPrice : k.stopPrice <= entryPrice))
      fail('INVALID_ORDER', 'Stop-loss must be on the losing side of the entry price');
  }
}

/** How many ticks a band of `bps` spans either side of `ref` (rounded up). */
function bandTicks(ref: Price, bps: number, tick: Price): number {
  return Math.ceil((ref * bps) / 10_000 / tick);
}

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function instrumentView(i: Instrument): InstrumentView {
  return {
    symbol: i.symbol,
    name: i.name,
    tickSize: i.tick,
    lotSize: i.lot,
    referencePrice: i.referencePrice,
    bandBps: i.bandBps,
    bandLow: i.bandLow,
    bandHigh: i.bandHigh,
    previousClose: i.previousClose,
    status: i.status,
  };
}
