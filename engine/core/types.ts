import type { ResultCode } from './codes.js';

/**
 * Units. All are plain integers (safe integers) so arithmetic is exact:
 * - Price: minor currency units (cents) per share; always a multiple of the instrument's tick size.
 * - Qty: shares; always a multiple of the instrument's lot size.
 * - Money: minor currency units (cents).
 * - Timestamp: milliseconds since the Unix epoch, supplied by the caller with every command.
 */
export type Price = number;
export type Qty = number;
export type Money = number;
export type Timestamp = number;
export type OrderId = number;
export type AccountId = number;
export type TradeId = number;

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
export type TimeInForce = 'day' | 'gtc' | 'ioc' | 'fok';
/** Self-trade prevention: what happens when an order would trade against its own account. */
export type StpMode = 'cancel_taker' | 'cancel_maker' | 'cancel_both';
export type InstrumentStatus = 'open' | 'halted';
export type Timeframe = '1m' | '5m' | '15m' | '1h' | '1d';
export const TIMEFRAMES: readonly Timeframe[] = ['1m', '5m', '15m', '1h', '1d'];
export const TIMEFRAME_MS: Record<Timeframe, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/**
 * The engine's rules, numbered. A rule change that would give an already-journaled command another outcome
 * applies only to commands that do not say they ran under earlier rules: the venue's journal encoding marks
 * the commands it writes as current, and decodes older entries of the commands whose outcome changed with
 * `rules: 1`, so an old journal replays as it ran. A command without `rules` runs under the current ones.
 *  1: the rules before they were numbered.
 *  2: a replace that re-prices a bracket entry is checked against its take-profit and stop-loss as a
 *     placement is.
 *  3: a session's end cancels the orders whose limit price is outside the re-centred band (price_band).
 */
export const RULES = 3;

export type OrderStatus =
  | 'working' // resting in the book
  | 'pending_trigger' // stop / trailing stop waiting for its trigger
  | 'pending_parent'; // bracket child waiting for its entry to fill

export type CancelReason =
  | 'user' // CancelOrder
  | 'ioc' // unfilled remainder of an IOC or market order
  | 'expired' // day order at end of session
  | 'self_trade' // self-trade prevention
  | 'oco' // the other leg of its OCO group traded, or (a stop leg) triggered
  | 'parent_canceled' // bracket entry canceled before any fill
  | 'insufficient_funds' // market order ran out of buying power mid-way
  | 'insufficient_shares' // a bracket child could not reserve shares on activation
  | 'no_liquidity' // a triggered stop found nothing to trade against
  | 'limit_exceeded' // a market order's next fill would take it past the account's maximum order notional
  | 'price_band'; // its limit price is outside the band re-centred at the end of a session

export interface InstrumentSpec {
  symbol: string;
  name: string;
  /** Minimum price increment, in minor units (>= 1). */
  tickSize: Price;
  /** Minimum quantity increment, in shares (>= 1). */
  lotSize: Qty;
  /** Reference price for the band (minor units, multiple of tick). */
  referencePrice: Price;
  /** Band half-width in basis points of the reference price (e.g. 1000 = ±10%). */
  bandBps: number;
  /** Previous session's close; defaults to the reference price. */
  previousClose?: Price;
  status?: InstrumentStatus;
}

export interface AccountLimits {
  maxOrderQty?: Qty;
  maxOrderNotional?: Money;
  maxOpenOrders?: number;
  maxDailyOrders?: number;
}

/** The order fields a trader chooses (no ids, account or time). */
export interface OrderSpec {
  symbol: string;
  side: Side;
  orderType: OrderType;
  qty: Qty;
  /** Limit price: required for limit and stop_limit, forbidden otherwise. */
  price?: Price;
  /** Trigger price: required for stop and stop_limit. */
  stopPrice?: Price;
  /** Trailing distance in minor units (multiple of tick): required for trailing_stop. */
  trailAmount?: Price;
  tif: TimeInForce;
  postOnly?: boolean;
  stp?: StpMode;
  clientOrderId?: string;
}

export interface BracketSpec {
  /** Take-profit: a limit order on the opposite side. */
  takeProfit?: { orderId: OrderId; price: Price };
  /** Stop-loss: a stop (or stop-limit when `price` is given) on the opposite side. */
  stopLoss?: { orderId: OrderId; stopPrice: Price; price?: Price };
}

// ---------------------------------------------------------------- commands (imperative names)

interface CommandBase {
  ts: Timestamp;
}
export interface CreateInstrument extends CommandBase {
  type: 'CreateInstrument';
  instrument: InstrumentSpec;
}
export interface SetInstrumentStatus extends CommandBase {
  type: 'SetInstrumentStatus';
  symbol: string;
  status: InstrumentStatus;
}
export interface CreateIndex extends CommandBase {
  type: 'CreateIndex';
  name: string;
  /** Index points (in hundredths) at creation. */
  baseValue: number;
  /** Weights in basis points, summing to 10000. */
  constituents: { symbol: string; weightBps: number }[];
}
export interface OpenAccount extends CommandBase {
  type: 'OpenAccount';
  accountId: AccountId;
  allowShort?: boolean;
  limits?: AccountLimits;
}
export interface SetAccountLimits extends CommandBase {
  type: 'SetAccountLimits';
  accountId: AccountId;
  limits: AccountLimits;
  allowShort?: boolean;
}
export interface Deposit extends CommandBase {
  type: 'Deposit';
  accountId: AccountId;
  amount: Money;
}
export interface Withdraw extends CommandBase {
  type: 'Withdraw';
  accountId: AccountId;
  amount: Money;
}
export interface PlaceOrder extends CommandBase, OrderSpec {
  type: 'PlaceOrder';
  orderId: OrderId;
  accountId: AccountId;
  bracket?: BracketSpec;
}
export interface PlaceOco extends CommandBase {
  type: 'PlaceOco';
  accountId: AccountId;
  /** Two orders on the same symbol and side; when one trades, the other is canceled. */
  legs: [OrderSpec & { orderId: OrderId }, OrderSpec & { orderId: OrderId }];
}
export interface CancelOrder extends CommandBase {
  type: 'CancelOrder';
  accountId: AccountId;
  orderId: OrderId;
}
export interface ReplaceOrder extends CommandBase {
  type: 'ReplaceOrder';
  accountId: AccountId;
  orderId: OrderId;
  /** New total order quantity (including what has already filled). */
  qty?: Qty;
  price?: Price;
  stopPrice?: Price;
  trailAmount?: Price;
  /** Journaled under rules before 2 (see RULES): a bracket entry's new price is not checked against its children. */
  rules?: number;
}
/**
 * Ends the trading session: day orders expire (bracket children of partly filled day entries go live), the
 * last price becomes the previous close and the band re-centres on it, session statistics reset. Then every
 * order whose limit price is outside the new band is canceled (reason price_band), so nothing trades at a
 * price no new order could be entered at: resting limits, stop-limits still waiting for their trigger, and
 * bracket children waiting for their entry (an entry canceled so activates its children for what it filled,
 * an OCO leg canceled so leaves its sibling alone, as any cancel does). Stops and trailing stops have no limit
 * and stay; triggered, they trade only against orders inside the band.
 * Candles are not touched: a 1d bar is a UTC day, as every timeframe is a fixed UTC bucket (the history writer's
 * bars are the same), so two sessions on one UTC day share one bar; the simulated market's calendar keeps one
 * session per UTC day (engine/sim/calendar.ts).
 */
export interface EndSession extends CommandBase {
  type: 'EndSession';
  /** Journaled under rules before 3 (see RULES): orders outside the new band are kept. */
  rules?: number;
}

export type Command =
  | CreateInstrument
  | SetInstrumentStatus
  | CreateIndex
  | OpenAccount
  | SetAccountLimits
  | Deposit
  | Withdraw
  | PlaceOrder
  | PlaceOco
  | CancelOrder
  | ReplaceOrder
  | EndSession;
export type CommandType = Command['type'];

// ---------------------------------------------------------------- events (past tense)

export interface InstrumentCreated {
  type: 'InstrumentCreated';
  ts: Timestamp;
  symbol: string;
}
export interface InstrumentStatusChanged {
  type: 'InstrumentStatusChanged';
  ts: Timestamp;
  symbol: string;
  status: InstrumentStatus;
}
export interface IndexCreated {
  type: 'IndexCreated';
  ts: Timestamp;
  name: string;
}
export interface AccountOpened {
  type: 'AccountOpened';
  ts: Timestamp;
  accountId: AccountId;
}
export interface AccountLimitsChanged {
  type: 'AccountLimitsChanged';
  ts: Timestamp;
  accountId: AccountId;
}
export interface CashMoved {
  type: 'CashMoved';
  ts: Timestamp;
  accountId: AccountId;
  /** Positive for a deposit, negative for a withdrawal. */
  amount: Money;
  cash: Money;
}
export interface OrderAccepted {
  type: 'OrderAccepted';
  ts: Timestamp;
  orderId: OrderId;
  accountId: AccountId;
  clientOrderId?: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  qty: Qty;
  price?: Price;
  stopPrice?: Price;
  trailAmount?: Price;
  status: OrderStatus;
  /** For a bracket child: its entry order. */
  parentId?: OrderId;
  /** For an OCO leg or bracket child: the other leg. */
  linkedId?: OrderId;
}
export interface Rejected {
  type: 'Rejected';
  ts: Timestamp;
  command: CommandType;
  code: ResultCode;
  message: string;
  accountId?: AccountId;
  orderId?: OrderId;
  clientOrderId?: string;
  /** For DUPLICATE_CLIENT_ORDER_ID: the order that already carries the id. */
  originalOrderId?: OrderId;
}
export interface Trade {
  type: 'Trade';
  ts: Timestamp;
  tradeId: TradeId;
  symbol: string;
  price: Price;
  qty: Qty;
  /** Side of the incoming (taker) order. */
  aggressor: Side;
  makerOrderId: OrderId;
  makerAccountId: AccountId;
  /** Quantity the maker still has open after this trade. */
  makerLeaves: Qty;
  takerOrderId: OrderId;
  takerAccountId: AccountId;
  takerLeaves: Qty;
}
export interface OrderCanceled {
  type: 'OrderCanceled';
  ts: Timestamp;
  orderId: OrderId;
  accountId: AccountId;
  symbol: string;
  reason: CancelReason;
  /** Open quantity that was canceled. */
  canceledQty: Qty;
}
export interface OrderReplaced {
  type: 'OrderReplaced';
  ts: Timestamp;
  orderId: OrderId;
  accountId: AccountId;
  symbol: string;
  qty: Qty;
  leaves: Qty;
  price?: Price;
  stopPrice?: Price;
  trailAmount?: Price;
  /** True when the order kept its place in the queue (size down only). */
  keptPriority: boolean;
}
/** A stop, trailing stop or bracket child became live. */
export interface OrderTriggered {
  type: 'OrderTriggered';
  ts: Timestamp;
  orderId: OrderId;
  accountId: AccountId;
  symbol: string;
  /** What it now is: market or limit. */
  orderType: 'market' | 'limit';
  qty: Qty;
  price?: Price;
  status: OrderStatus;
}
/** A bracket child went live because its entry is done (filled, or canceled after a partial fill). */
export interface OrderActivated {
  type: 'OrderActivated';
  ts: Timestamp;
  orderId: OrderId;
  accountId: AccountId;
  symbol: string;
  orderType: OrderType;
  /** Its quantity: what the entry filled. */
  qty: Qty;
  price?: Price;
  stopPrice?: Price;
  /** working (a take-profit limit) or pending_trigger (a stop-loss). */
  status: OrderStatus;
}
/** A trailing stop's trigger moved with the market. */
export interface StopMoved {
  type: 'StopMoved';
  ts: Timestamp;
  orderId: OrderId;
  accountId: AccountId;
  stopPrice: Price;
}
export interface SessionEnded {
  type: 'SessionEnded';
  ts: Timestamp;
  session: number;
}

export type EngineEvent =
  | InstrumentCreated
  | InstrumentStatusChanged
  | IndexCreated
  | AccountOpened
  | AccountLimitsChanged
  | CashMoved
  | OrderAccepted
  | Rejected
  | Trade
  | OrderCanceled
  | OrderReplaced
  | OrderTriggered
  | OrderActivated
  | StopMoved
  | SessionEnded;
export type EventType = EngineEvent['type'];

// ---------------------------------------------------------------- read models (queries)

export interface InstrumentView {
  symbol: string;
  name: string;
  tickSize: Price;
  lotSize: Qty;
  referencePrice: Price;
  bandBps: number;
  bandLow: Price;
  bandHigh: Price;
  previousClose: Price;
  status: InstrumentStatus;
}

export interface Quote {
  symbol: string;
  bid: Price | null;
  bidSize: Qty;
  ask: Price | null;
  askSize: Qty;
  last: Price | null;
  lastSize: Qty;
  /** Shares traded this session. */
  volume: Qty;
  /** Money traded this session (for VWAP). */
  turnover: Money;
  open: Price | null;
  high: Price | null;
  low: Price | null;
  previousClose: Price;
  /** last - previousClose (0 when there is no last yet). */
  change: Price;
  /** Change in basis points of the previous close, rounded half away from zero. */
  changeBps: number;
  ts: Timestamp;
}

export interface DepthLevel {
  price: Price;
  qty: Qty;
  orders: number;
}
export interface Depth {
  symbol: string;
  bids: DepthLevel[];
  asks: DepthLevel[];
}

export interface Candle {
  /** Bucket start. */
  t: Timestamp;
  o: Price;
  h: Price;
  l: Price;
  c: Price;
  v: Qty;
}

export interface PositionView {
  symbol: string;
  qty: Qty;
  /** Cost basis of the open quantity (negative for a short). */
  cost: Money;
  /** Average price as an exact fraction: cost / qty. Use for display only. */
  avgPrice: number;
  reservedQty: Qty;
  realizedPnl: Money;
  /** qty * mark - cost, where mark is the last price (or previous close). */
  unrealizedPnl: Money;
  mark: Price;
}

export interface AccountView {
  accountId: AccountId;
  cash: Money;
  reservedCash: Money;
  buyingPower: Money;
  realizedPnl: Money;
  unrealizedPnl: Money;
  /** cash + market value of positions. */
  equity: Money;
  openOrders: number;
  dailyOrders: number;
  allowShort: boolean;
  limits: AccountLimits;
  positions: PositionView[];
}

export interface OrderView {
  orderId: OrderId;
  accountId: AccountId;
  clientOrderId?: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  qty: Qty;
  filledQty: Qty;
  leaves: Qty;
  price?: Price;
  stopPrice?: Price;
  trailAmount?: Price;
  postOnly: boolean;
  status: OrderStatus;
  parentId?: OrderId;
  linkedId?: OrderId;
  ts: Timestamp;
}

export interface IndexView {
  name: string;
  /** Index points in hundredths. */
  value: number;
  baseValue: number;
  previousClose: number;
  constituents: { symbol: string; weightBps: number; basePrice: Price }[];
}
