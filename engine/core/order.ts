import type {
  AccountId,
  Money,
  OrderId,
  OrderStatus,
  OrderType,
  Price,
  Qty,
  Side,
  StpMode,
  TimeInForce,
  Timestamp,
} from './types.js';

/** A price level of the fast book: an intrusive FIFO list of orders. */
export class Level {
  total: Qty = 0;
  count = 0;
  head: Order | null = null;
  tail: Order | null = null;
  constructor(readonly price: Price) {}
}

/**
 * Something that holds a reservation of cash and/or shares on behalf of working orders: an order, or an OCO
 * group whose legs share one reservation (they can never both fill in full).
 */
export interface Holder {
  resvCash: Money;
  resvShares: Qty;
  /** Price used for the cash part of the reservation. */
  resvPx: Price;
}

/** Links two orders: either a plain OCO (a trade on one cancels the other) or bracket children (a trade on
 * one reduces the other by the same quantity). The group holds the legs' shared reservation. */
export class OcoGroup implements Holder {
  resvCash = 0;
  resvShares = 0;
  resvPx = 0;
  constructor(
    public a: Order,
    public b: Order,
    readonly mode: 'cancel' | 'reduce',
  ) {}
  other(o: Order): Order {
    return o === this.a ? this.b : this.a;
  }
}

/**
 * A live order inside the engine. Mutable and intrusive for speed: the fast book links orders through
 * prev/next/level; the reference book ignores those fields.
 */
export class Order implements Holder {
  // book links (fast book only)
  prev: Order | null = null;
  next: Order | null = null;
  level: Level | null = null;
  /** Queue priority: a larger number entered the book later. Assigned on every (re)entry into the book. */
  seq = 0;
  /** True while the order rests in its book (maintained by the engine, for either book implementation). */
  resting = false;
  /** False once the order is filled or canceled (retired from the engine). */
  live = true;
  /** Open quantity. */
  leaves: Qty;
  status: OrderStatus = 'working';
  /** Type the order currently has (a triggered stop becomes market or limit). */
  type: OrderType;
  resvCash: Money = 0;
  resvShares: Qty = 0;
  resvPx: Price = 0;
  /** Trailing stops: best price seen since placement (highest for sells, lowest for buys). */
  trailRef: Price = 0;
  oco: OcoGroup | null = null;
  /** Bracket entry: its children (pending until the entry is done). */
  children: Order[] | null = null;
  parent: Order | null = null;

  constructor(
    readonly id: OrderId,
    readonly accountId: AccountId,
    readonly instIdx: number,
    readonly side: Side,
    readonly origType: OrderType,
    /** Total quantity including what has filled. */
    public qty: Qty,
    /** Limit price (0 when none). */
    public price: Price,
    /** Trigger price (0 when none). */
    public stopPrice: Price,
    public trail: Price,
    readonly tif: TimeInForce,
    readonly postOnly: boolean,
    readonly stp: StpMode,
    readonly clientOrderId: string | undefined,
    readonly ts: Timestamp,
  ) {
    this.leaves = qty;
    this.type = origType;
  }

  get filled(): Qty {
    return this.qty - this.leaves;
  }
}
