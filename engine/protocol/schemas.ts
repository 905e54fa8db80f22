/**
 * Zod schemas for the values the protocol carries: units, enums, the engine's read models and the venue's
 * records. Each TypeScript type is inferred from its schema; where engine/core already declares the type,
 * a compile-time check at the bottom of this file proves the schema and the interface are the same type
 * (deeply, optional keys included), so neither can drift without the build failing.
 *
 * Conventions:
 * - Every price, quantity, amount, id and timestamp is a safe integer (`z.int()` is the safe-integer range
 *   in zod 4). Positivity is required where the engine requires it (order price/qty, tick, lot, amounts).
 * - Strings are bounded. Symbols are 1-16 of `A-Z 0-9 . -`; client order ids 1-64 printable ASCII.
 * - Read models are `z.object` (unknown keys are stripped, so a newer server may add fields); request
 *   parameters are strict (see methods.ts), so a stray `accountId` is an error instead of being ignored.
 */
import { z } from 'zod';
import { RESULT_CODES } from '../core/codes.js';
import type { ErrorShape } from '../core/codes.js';
import { TIMEFRAMES } from '../core/types.js';
import type * as core from '../core/types.js';

// ---------------------------------------------------------------- units

/** Price in minor units per share: a positive safe integer (tick multiples are checked by the engine). */
export const PriceSchema = z.int().positive();
/** A signed price difference (e.g. `Quote.change`). */
export const PriceDeltaSchema = z.int();
/** Order quantity in shares: a positive safe integer (lot multiples are checked by the engine). */
export const QtySchema = z.int().positive();
/** A quantity that may be zero (filled, leaves, sizes, volume). */
export const QtyOrZeroSchema = z.int().nonnegative();
/** A signed share position (negative when short). */
export const PositionQtySchema = z.int();
/** Money in minor units, signed (cash, P&L, ledger amounts). */
export const MoneySchema = z.int();
/** An amount of money to move: positive minor units. */
export const AmountSchema = z.int().positive();
/** Milliseconds since the Unix epoch. */
export const TimestampSchema = z.int().nonnegative();
export const OrderIdSchema = z.int().nonnegative();
export const AccountIdSchema = z.int().nonnegative();
export const TradeIdSchema = z.int().nonnegative();
/** A non-negative count (orders, trades). */
export const CountSchema = z.int().nonnegative();
/** Basis points (signed). */
export const BpsSchema = z.int();

export const SYMBOL_PATTERN = /^[A-Z0-9.-]{1,16}$/;
export const SymbolSchema = z.string().regex(SYMBOL_PATTERN, 'A symbol is 1-16 characters of A-Z, 0-9, "." and "-"');
export const CLIENT_ORDER_ID_PATTERN = /^[\x20-\x7e]{1,64}$/;
export const ClientOrderIdSchema = z
  .string()
  .regex(CLIENT_ORDER_ID_PATTERN, 'A client order id is 1-64 printable ASCII characters');
export const IndexNameSchema = z.string().regex(/^[\x20-\x7e]{1,32}$/, 'An index name is 1-32 printable ASCII characters');
export const InstrumentNameSchema = z.string().min(1).max(100);
/** Human-readable text from the server (error and reject messages). */
export const MessageTextSchema = z.string().max(2000);
/** An opaque paging cursor handed out by the server. */
export const CursorSchema = z.string().min(1).max(256);

// ---------------------------------------------------------------- enums

export const SideSchema = z.enum(['buy', 'sell']);
export const OrderTypeSchema = z.enum(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop']);
export const TimeInForceSchema = z.enum(['day', 'gtc', 'ioc', 'fok']);
export const StpModeSchema = z.enum(['cancel_taker', 'cancel_maker', 'cancel_both']);
export const InstrumentStatusSchema = z.enum(['open', 'halted']);
export const TimeframeSchema = z.enum(TIMEFRAMES);
export const OrderStatusSchema = z.enum(['working', 'pending_trigger', 'pending_parent']);
export const CancelReasonSchema = z.enum([
  'user',
  'ioc',
  'expired',
  'self_trade',
  'oco',
  'parent_canceled',
  'insufficient_funds',
  'insufficient_shares',
  'no_liquidity',
  'limit_exceeded',
  'price_band',
]);
export const ResultCodeSchema = z.enum(RESULT_CODES);
export const LiquiditySchema = z.enum(['maker', 'taker']);
export const LedgerKindSchema = z.enum(['deposit', 'withdrawal', 'trade']);

/** The one error shape: `{ code, message, details? }` with `code` from the closed set in core/codes.ts. */
export const ErrorShapeSchema = z.object({
  code: ResultCodeSchema,
  message: MessageTextSchema,
  details: z.record(z.string(), z.unknown()).optional(),
});

// ---------------------------------------------------------------- engine inputs

export const InstrumentSpecSchema = z.object({
  symbol: SymbolSchema,
  name: InstrumentNameSchema,
  tickSize: PriceSchema,
  lotSize: QtySchema,
  referencePrice: PriceSchema,
  bandBps: z.int().nonnegative(),
  previousClose: PriceSchema.optional(),
  status: InstrumentStatusSchema.optional(),
});

export const AccountLimitsSchema = z.object({
  maxOrderQty: QtyOrZeroSchema.optional(),
  maxOrderNotional: z.int().nonnegative().optional(),
  maxOpenOrders: CountSchema.optional(),
  maxDailyOrders: CountSchema.optional(),
});

/**
 * The order fields a trader chooses. Shape only: which price fields each order type needs, tick and lot
 * multiples, the band and so on are the engine's rules and come back with their own codes
 * (INVALID_ORDER, INVALID_PRICE, ...), so they are not spelled a second time here.
 */
export const OrderSpecSchema = z.object({
  symbol: SymbolSchema,
  side: SideSchema,
  orderType: OrderTypeSchema,
  qty: QtySchema,
  price: PriceSchema.optional(),
  stopPrice: PriceSchema.optional(),
  trailAmount: PriceSchema.optional(),
  tif: TimeInForceSchema,
  postOnly: z.boolean().optional(),
  stp: StpModeSchema.optional(),
  clientOrderId: ClientOrderIdSchema.optional(),
});

// ---------------------------------------------------------------- engine read models

export const InstrumentViewSchema = z.object({
  symbol: SymbolSchema,
  name: InstrumentNameSchema,
  tickSize: PriceSchema,
  lotSize: QtySchema,
  referencePrice: PriceSchema,
  bandBps: z.int().nonnegative(),
  bandLow: z.int().nonnegative(),
  bandHigh: z.int().nonnegative(),
  previousClose: PriceSchema,
  status: InstrumentStatusSchema,
});

export const QuoteSchema = z.object({
  symbol: SymbolSchema,
  bid: PriceSchema.nullable(),
  bidSize: QtyOrZeroSchema,
  ask: PriceSchema.nullable(),
  askSize: QtyOrZeroSchema,
  last: PriceSchema.nullable(),
  lastSize: QtyOrZeroSchema,
  volume: QtyOrZeroSchema,
  turnover: MoneySchema,
  open: PriceSchema.nullable(),
  high: PriceSchema.nullable(),
  low: PriceSchema.nullable(),
  previousClose: PriceSchema,
  change: PriceDeltaSchema,
  changeBps: BpsSchema,
  ts: TimestampSchema,
});

export const DepthLevelSchema = z.object({
  price: PriceSchema,
  qty: QtyOrZeroSchema,
  orders: CountSchema,
});
export const DepthSchema = z.object({
  symbol: SymbolSchema,
  bids: z.array(DepthLevelSchema),
  asks: z.array(DepthLevelSchema),
});

export const CandleSchema = z.object({
  t: TimestampSchema,
  o: PriceSchema,
  h: PriceSchema,
  l: PriceSchema,
  c: PriceSchema,
  v: QtyOrZeroSchema,
});

export const PositionViewSchema = z.object({
  symbol: SymbolSchema,
  qty: PositionQtySchema,
  cost: MoneySchema,
  /** Display only: an exact fraction, so not an integer. */
  avgPrice: z.number(),
  reservedQty: QtyOrZeroSchema,
  realizedPnl: MoneySchema,
  unrealizedPnl: MoneySchema,
  mark: z.int().nonnegative(),
});

export const AccountViewSchema = z.object({
  accountId: AccountIdSchema,
  cash: MoneySchema,
  reservedCash: MoneySchema,
  buyingPower: MoneySchema,
  realizedPnl: MoneySchema,
  unrealizedPnl: MoneySchema,
  equity: MoneySchema,
  openOrders: CountSchema,
  dailyOrders: CountSchema,
  allowShort: z.boolean(),
  limits: AccountLimitsSchema,
  positions: z.array(PositionViewSchema),
});

export const OrderViewSchema = z.object({
  orderId: OrderIdSchema,
  accountId: AccountIdSchema,
  clientOrderId: ClientOrderIdSchema.optional(),
  symbol: SymbolSchema,
  side: SideSchema,
  orderType: OrderTypeSchema,
  tif: TimeInForceSchema,
  qty: QtySchema,
  filledQty: QtyOrZeroSchema,
  leaves: QtyOrZeroSchema,
  price: PriceSchema.optional(),
  stopPrice: PriceSchema.optional(),
  trailAmount: PriceSchema.optional(),
  postOnly: z.boolean(),
  status: OrderStatusSchema,
  parentId: OrderIdSchema.optional(),
  linkedId: OrderIdSchema.optional(),
  ts: TimestampSchema,
});

export const IndexViewSchema = z.object({
  name: IndexNameSchema,
  value: z.int(),
  baseValue: z.int(),
  previousClose: z.int(),
  constituents: z.array(z.object({ symbol: SymbolSchema, weightBps: BpsSchema, basePrice: PriceSchema })),
});

/** A public trade print: the market-data view of a core `Trade` (no order or account ids). */
export const TradePrintSchema = z.object({
  tradeId: TradeIdSchema,
  symbol: SymbolSchema,
  price: PriceSchema,
  qty: QtySchema,
  aggressor: SideSchema,
  ts: TimestampSchema,
});

// ---------------------------------------------------------------- venue records (not in engine/core)

/** Where an order is in its life: the engine's live states plus the venue's terminal ones. */
export const OrderRecordStatusSchema = z.enum([...OrderStatusSchema.options, 'filled', 'canceled', 'rejected']);

/** The venue's durable view of one order, including terminal states. */
export const OrderRecordSchema = OrderViewSchema.extend({
  status: OrderRecordStatusSchema,
  /** Volume-weighted fill price; display only (not an integer). Absent until the first fill. */
  avgFillPrice: z.number().positive().optional(),
  cancelReason: CancelReasonSchema.optional(),
  rejectCode: ResultCodeSchema.optional(),
  rejectMessage: MessageTextSchema.optional(),
  /** When this record last changed. */
  updatedTs: TimestampSchema,
});

/** One of my fills. */
export const ExecutionSchema = z.object({
  tradeId: TradeIdSchema,
  orderId: OrderIdSchema,
  symbol: SymbolSchema,
  side: SideSchema,
  price: PriceSchema,
  qty: QtySchema,
  liquidity: LiquiditySchema,
  ts: TimestampSchema,
});

/** One cash movement on my account. */
export const LedgerEntrySchema = z.object({
  id: z.int().nonnegative(),
  ts: TimestampSchema,
  kind: LedgerKindSchema,
  /** Signed: positive into the account. */
  amount: MoneySchema,
  /** Cash after this entry. */
  cash: MoneySchema,
  symbol: SymbolSchema.optional(),
  tradeId: TradeIdSchema.optional(),
});

export const StatsPeriodSchema = z.enum(['day', 'week', 'month']);
/** Trade statistics for one period. */
export const TradeStatsRowSchema = z.object({
  /** Start of the period (UTC), ms since the epoch. */
  period: TimestampSchema,
  trades: CountSchema,
  buys: CountSchema,
  sells: CountSchema,
  /** Shares traded. */
  volume: QtyOrZeroSchema,
  /** Money traded (sum of price * qty). */
  notional: z.int().nonnegative(),
  realizedPnl: MoneySchema,
});

export type OrderRecordStatus = z.output<typeof OrderRecordStatusSchema>;
export type OrderRecord = z.output<typeof OrderRecordSchema>;
export type Execution = z.output<typeof ExecutionSchema>;
export type LedgerEntry = z.output<typeof LedgerEntrySchema>;
export type LedgerKind = z.output<typeof LedgerKindSchema>;
export type Liquidity = z.output<typeof LiquiditySchema>;
export type TradePrint = z.output<typeof TradePrintSchema>;
export type StatsPeriod = z.output<typeof StatsPeriodSchema>;
export type TradeStatsRow = z.output<typeof TradeStatsRowSchema>;

// ---------------------------------------------------------------- compile-time proofs

/** True only when A and B are the same type (the compiler's identity relation, so optional keys count). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless T is `true`. */
export type Expect<T extends true> = T;
/** The type a schema produces. */
type Out<S extends z.ZodType> = z.output<S>;

// Each line fails to compile if the schema and engine/core's declaration differ in any field, in either
// direction. When core changes a read model, fix the schema here; when the wire needs a different shape,
// that is a protocol decision to write down, not a silent divergence.
export type _Checks = [
  Expect<Equals<Out<typeof ErrorShapeSchema>, ErrorShape>>,
  Expect<Equals<Out<typeof SideSchema>, core.Side>>,
  Expect<Equals<Out<typeof OrderTypeSchema>, core.OrderType>>,
  Expect<Equals<Out<typeof TimeInForceSchema>, core.TimeInForce>>,
  Expect<Equals<Out<typeof StpModeSchema>, core.StpMode>>,
  Expect<Equals<Out<typeof InstrumentStatusSchema>, core.InstrumentStatus>>,
  Expect<Equals<Out<typeof TimeframeSchema>, core.Timeframe>>,
  Expect<Equals<Out<typeof OrderStatusSchema>, core.OrderStatus>>,
  Expect<Equals<Out<typeof CancelReasonSchema>, core.CancelReason>>,
  Expect<Equals<Out<typeof InstrumentSpecSchema>, core.InstrumentSpec>>,
  Expect<Equals<Out<typeof AccountLimitsSchema>, core.AccountLimits>>,
  Expect<Equals<Out<typeof OrderSpecSchema>, core.OrderSpec>>,
  Expect<Equals<Out<typeof InstrumentViewSchema>, core.InstrumentView>>,
  Expect<Equals<Out<typeof QuoteSchema>, core.Quote>>,
  Expect<Equals<Out<typeof DepthLevelSchema>, core.DepthLevel>>,
  Expect<Equals<Out<typeof DepthSchema>, core.Depth>>,
  Expect<Equals<Out<typeof CandleSchema>, core.Candle>>,
  Expect<Equals<Out<typeof PositionViewSchema>, core.PositionView>>,
  Expect<Equals<Out<typeof AccountViewSchema>, core.AccountView>>,
  Expect<Equals<Out<typeof OrderViewSchema>, core.OrderView>>,
  Expect<Equals<Out<typeof IndexViewSchema>, core.IndexView>>,
  Expect<Equals<TradePrint, Pick<core.Trade, 'tradeId' | 'symbol' | 'price' | 'qty' | 'aggressor' | 'ts'>>>,
  // An OrderRecord is an OrderView with a wider status and a few venue fields.
  Expect<
    Equals<
      Omit<OrderRecord, 'status' | 'avgFillPrice' | 'cancelReason' | 'rejectCode' | 'rejectMessage' | 'updatedTs'>,
      Omit<core.OrderView, 'status'>
    >
  >,
  Expect<Equals<Exclude<core.OrderStatus, OrderRecordStatus>, never>>,
  Expect<Equals<OrderRecord['cancelReason'], core.CancelReason | undefined>>,
  Expect<Equals<Execution['side'] | Execution['tradeId'] | Execution['orderId'], core.Side | core.TradeId | core.OrderId>>,
];
