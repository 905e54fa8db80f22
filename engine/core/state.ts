import type { Book } from './book.js';
import { IndexFormula, roundDivBig } from './index-formula.js';
import type { Order } from './order.js';
import type {
  AccountId,
  AccountLimits,
  Candle,
  InstrumentStatus,
  Money,
  Price,
  Qty,
  Timeframe,
  Timestamp,
} from './types.js';
import { TIMEFRAME_MS, TIMEFRAMES } from './types.js';

/**
 * The most ticks an instrument's band may span either side of its reference price. The fast book keeps an
 * array slot per tick between the lowest and highest prices it has seen, so the span must stay bounded:
 * CreateInstrument refuses a wider one, and a session's end re-centring it keeps it within.
 */
export const MAX_BAND_TICKS = 1_000_000;

/**
 * The most any money total may reach, in minor units: an account's cash, short proceeds held and realized
 * P&L, a position's cost and realized P&L, a symbol's session turnover. Beyond it numbers are no longer
 * exact. Deposits are bounded, but trading moves money between accounts and short sales add proceeds, so a
 * trade that could take a total past it does not happen (see Engine's fill).
 */
export const MAX_MONEY = Number.MAX_SAFE_INTEGER;

/**
 * Whether one side of a trade of notional `n` (a buy when `buy`) surely keeps the money totals of an account
 * and its position within MAX_MONEY. What each total can become, from the settlement's arithmetic: a sale adds
 * n to the cash and at most n to the short proceeds held (a buy lowers both: cash never goes below zero); a
 * trade that adds to the position (or opens one) adds n to its cost's magnitude and realizes nothing; one
 * that reduces it leaves the cost's magnitude at most max(|cost|, n) (turning to the other side, the rest at
 * this price) and realizes at most max(n, |cost|) in magnitude.
 */
export function moneyRoom(a: Account, p: Position | undefined, buy: boolean, n: Money): boolean {
  if (n > MAX_MONEY || (!buy && (a.cash + n > MAX_MONEY || a.shortCost + n > MAX_MONEY))) return false;
  if (p === undefined || p.qty === 0 || p.qty > 0 === buy) return p === undefined || Math.abs(p.cost) + n <= MAX_MONEY;
  const r = Math.max(n, Math.abs(p.cost));
  return Math.abs(a.realized) + r <= MAX_MONEY && Math.abs(p.realized) + r <= MAX_MONEY;
}

/**
 * The fill-or-kill walk's form of moneyRoom, on upper bounds of the totals' magnitudes (`b`: cash, short
 * proceeds held, realized, the position's cost and realized) as the walk's trades add up, and not knowing
 * whether each adds to the position or reduces it (it may turn): every limit at once, each at its largest.
 * So it passes a trade only where moneyRoom, on the real totals then, will. Updates `b` when it passes.
 */
export function walkMoneyRoom(b: number[], buy: boolean, n: Money): boolean {
  const [cash, shortCost, realized, cost, posRealized] = b as [number, number, number, number, number];
  const r = Math.max(n, cost);
  if (n > MAX_MONEY || cost + n > MAX_MONEY || realized + r > MAX_MONEY || posRealized + r > MAX_MONEY) return false;
  if (!buy && (cash + n > MAX_MONEY || shortCost + n > MAX_MONEY)) return false;
  if (!buy) {
    b[0] = cash + n;
    b[1] = shortCost + n;
  }
  b[2] = realized + r;
  b[3] = cost + n;
  b[4] = posRealized + r;
  return true;
}

export class Position {
  qty: Qty = 0;
  /** Signed cost basis of the open quantity (negative for a short: the proceeds). */
  cost: Money = 0;
  /** Shares held back for working sell orders. */
  reserved: Qty = 0;
  realized: Money = 0;
}

export class Account {
  cash: Money = 0;
  reservedCash: Money = 0;
  /** Sum of |cost| over short positions: short-sale proceeds are held, not spendable. */
  shortCost: Money = 0;
  realized: Money = 0;
  openOrders = 0;
  dailyOrders = 0;
  readonly positions = new Map<number, Position>();
  /**
   * Client order ids used this session (and by orders still live) → order id. Only ever added to, each id
   * once; a session end replaces the map rather than clearing it. So a capture of the state can keep the
   * map and its size instead of a copy of its entries (see OrderCapture).
   */
  clientIds = new Map<string, number>();
  constructor(
    readonly id: AccountId,
    public allowShort: boolean,
    public limits: AccountLimits,
  ) {}

  pos(instIdx: number): Position {
    let p = this.positions.get(instIdx);
    if (p === undefined) {
      p = new Position();
      this.positions.set(instIdx, p);
    }
    return p;
  }

  get buyingPower(): Money {
    return this.cash - this.reservedCash - this.shortCost;
  }
}

/** A bounded history of closed bars plus the bar being built, for one timeframe. */
export class CandleSeries {
  cur: Candle | null = null;
  readonly closed: Candle[] = [];
  constructor(
    readonly ms: number,
    private readonly cap: number,
  ) {}

  update(ts: Timestamp, px: Price, q: Qty): void {
    const t = ts - (((ts % this.ms) + this.ms) % this.ms);
    const c = this.cur;
    if (c !== null && c.t === t) {
      if (px > c.h) c.h = px;
      if (px < c.l) c.l = px;
      c.c = px;
      c.v += q;
      return;
    }
    if (c !== null) {
      this.closed.push(c);
      if (this.closed.length > this.cap) this.closed.shift();
    }
    this.cur = { t, o: px, h: px, l: px, c: px, v: q };
  }
}

export class Instrument {
  status: InstrumentStatus;
  referencePrice: Price;
  previousClose: Price;
  bandLow: Price = 0;
  bandHigh: Price = 0;
  // session market data
  last: Price = 0;
  lastSize: Qty = 0;
  lastTs: Timestamp = 0;
  volume: Qty = 0;
  turnover: Money = 0;
  open: Price = 0;
  high: Price = 0;
  low: Price = 0;
  /** Pending stops, buy side ascending by trigger (they fire when last >= stop), then by arrival. */
  readonly buyStops: Order[] = [];
  /** Pending stops, sell side descending by trigger (they fire when last <= stop), then by arrival. */
  readonly sellStops: Order[] = [];
  /** Trailing stops in arrival order. */
  readonly trailing: Order[] = [];
  readonly candles: Record<Timeframe, CandleSeries>;

  constructor(
    readonly idx: number,
    readonly symbol: string,
    readonly name: string,
    readonly tick: Price,
    readonly lot: Qty,
    referencePrice: Price,
    readonly bandBps: number,
    previousClose: Price,
    status: InstrumentStatus,
    readonly book: Book,
    candleHistory: number,
  ) {
    this.status = status;
    this.referencePrice = referencePrice;
    this.previousClose = previousClose;
    this.setBand(referencePrice);
    const c = {} as Record<Timeframe, CandleSeries>;
    for (const tf of TIMEFRAMES) c[tf] = new CandleSeries(TIMEFRAME_MS[tf], candleHistory);
    this.candles = c;
  }

  /**
   * Re-centres the band on a reference price, rounding inwards to whole ticks, and at most MAX_BAND_TICKS
   * either side: a session's end re-centres it on the close, and a book keeps a slot per tick it spans.
   */
  setBand(ref: Price): void {
    this.referencePrice = ref;
    const lo = Math.ceil((ref * (10_000 - this.bandBps)) / 10_000 / this.tick) * this.tick;
    const hi = Math.floor((ref * (10_000 + this.bandBps)) / 10_000 / this.tick) * this.tick;
    const span = MAX_BAND_TICKS * this.tick;
    this.bandLow = Math.max(this.tick, lo, ref - span);
    this.bandHigh = Math.min(hi, ref + span);
  }

  /** Last trade price, or the previous close when nothing traded this session. */
  get mark(): Price {
    return this.last > 0 ? this.last : this.previousClose;
  }
}

export class IndexDef {
  previousClose: number;
  readonly #formula: IndexFormula;
  readonly #mark = (i: number): Price => this.constituents[i]!.inst.mark;
  constructor(
    readonly name: string,
    readonly baseValue: number,
    readonly constituents: readonly { readonly inst: Instrument; readonly weightBps: number; readonly basePrice: Price }[],
  ) {
    this.previousClose = baseValue;
    this.#formula = new IndexFormula(baseValue, constituents);
  }

  /** Index points in hundredths, recomputed from scratch from current marks (no accumulated drift), exactly. */
  value(): number {
    return this.#formula.value(this.#mark);
  }
}

/** Rounds a/b half away from zero for integers (b > 0), exactly. */
export function roundDiv(a: number, b: number): number {
  let q = Math.trunc(a / b);
  let r = a - q * b;
  // the float quotient can be one off for large operands: correct it so |r| < b with the sign of a
  if (a >= 0 ? r < 0 : r > 0) {
    q -= Math.sign(a);
    r = a - q * b;
  } else if (Math.abs(r) >= b) {
    q += Math.sign(a);
    r = a - q * b;
  }
  if (2 * Math.abs(r) >= b) return q + Math.sign(a);
  return q;
}

/** cost * part / whole rounded half away from zero, exact even when the product is not a safe integer. */
export function proportion(cost: Money, part: Qty, whole: Qty): Money {
  if (part === whole) return cost;
  const prod = cost * part;
  if (Number.isSafeInteger(prod)) return roundDiv(prod, whole);
  return roundDivBig(BigInt(cost) * BigInt(part), BigInt(whole));
}
