/**
 * THE method and channel table. Every request the protocol accepts and every stream it serves is declared
 * here once: its parameter schema, its result (or push data) schema and the access level it needs. The
 * client validates against it before sending and after receiving, the server routes and checks access
 * with it, and the TypeScript types (`ParamsOf`, `ResultOf`, `ChannelData`, ...) are derived from it.
 *
 * Parameters are strict objects: unknown keys are a BAD_REQUEST. In particular no method takes an
 * `accountId`: the account is always the session's (admin methods name the account they act on).
 */
import { z } from 'zod';
import {
  AccountIdSchema,
  AccountViewSchema,
  AmountSchema,
  CandleSchema,
  CountSchema,
  CursorSchema,
  DepthSchema,
  ExecutionSchema,
  IndexNameSchema,
  IndexViewSchema,
  InstrumentSpecSchema,
  InstrumentStatusSchema,
  InstrumentViewSchema,
  LedgerEntrySchema,
  MoneySchema,
  OrderIdSchema,
  OrderRecordSchema,
  OrderSpecSchema,
  PositionViewSchema,
  PriceSchema,
  QtySchema,
  QuoteSchema,
  StatsPeriodSchema,
  SymbolSchema,
  TimeframeSchema,
  TimestampSchema,
  TradePrintSchema,
  TradeStatsRowSchema,
} from './schemas.js';
import type { Equals, Expect } from './schemas.js';
import type * as core from '../core/types.js';
import { HUB_CHANNELS, HUB_METHODS } from './hub.js';
import { AuditEntrySchema, PublicUserSchema } from './rest.js';

// ---------------------------------------------------------------- access levels

/** Who may call a method or open a channel. Each level includes the ones before it. */
export type Access = 'public' | 'viewer' | 'trader' | 'admin';
export const ACCESS_LEVELS = ['public', 'viewer', 'trader', 'admin'] as const satisfies readonly Access[];
/** Rank of an access level; a session role grants every level up to its own rank. */
export const ACCESS_RANK: Readonly<Record<Access, number>> = { public: 0, viewer: 1, trader: 2, admin: 3 };

/** The access rank a session role grants: unknown or missing roles grant only `public`. */
export function roleRank(role: string | undefined): number {
  return role !== undefined && Object.hasOwn(ACCESS_RANK, role) ? ACCESS_RANK[role as Access] : 0;
}

// ---------------------------------------------------------------- table entry shapes

export interface MethodDef<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly access: Access;
  /** True when the method changes nothing: REST serves it as GET too (who may call it is `access`). */
  readonly readOnly: boolean;
  readonly params: P;
  readonly result: R;
  readonly doc: string;
}

export interface ChannelDef<P extends z.ZodType = z.ZodType, D extends z.ZodType = z.ZodType> {
  readonly access: Access;
  readonly params: P;
  readonly data: D;
  /**
   * True for market data: when the consumer is behind, a newer push replaces a queued one with the same
   * `conflateKey` (latest value wins). False for private streams: nothing is dropped; a consumer that
   * falls too far behind gets `end` with RESYNC_REQUIRED and resynchronises from a snapshot.
   */
  readonly conflate: boolean;
  /** Pushes with equal keys conflate; without a key, any queued push is replaced by the newest. */
  conflateKey?(data: z.output<D>): string | number;
  readonly doc: string;
}

const method = <P extends z.ZodType, R extends z.ZodType>(def: MethodDef<P, R>): MethodDef<P, R> => def;
const channel = <P extends z.ZodType, D extends z.ZodType>(def: ChannelDef<P, D>): ChannelDef<P, D> => def;

// ---------------------------------------------------------------- shared parameter pieces

const NoParams = z.strictObject({});
const limit = (max: number, dflt: number) => z.int().min(1).max(max).default(dflt);
const fromTo = { from: TimestampSchema.optional(), to: TimestampSchema.optional() };
const rangeOk = (p: { from?: number | undefined; to?: number | undefined }) =>
  p.from === undefined || p.to === undefined || p.from <= p.to;
const rangeError = { error: '`from` must not be after `to`', path: ['to'] };

/** Order fields as a request parameter (strict: no ids, account or time; the venue assigns those). */
export const OrderSpecParamsSchema = z.strictObject(OrderSpecSchema.shape);
/** Bracket children for `order.place`: the venue assigns their order ids. */
export const BracketParamsSchema = z.strictObject({
  takeProfit: z.strictObject({ price: PriceSchema }).optional(),
  stopLoss: z.strictObject({ stopPrice: PriceSchema, price: PriceSchema.optional() }).optional(),
});
export const PlaceOrderParamsSchema = z.strictObject({
  ...OrderSpecSchema.shape,
  bracket: BracketParamsSchema.optional(),
});
export const ReplaceOrderParamsSchema = z
  .strictObject({
    orderId: OrderIdSchema,
    /** New total quantity, including what has already filled. */
    qty: QtySchema.optional(),
    price: PriceSchema.optional(),
    stopPrice: PriceSchema.optional(),
    trailAmount: PriceSchema.optional(),
  })
  .refine(
    (p) => p.qty !== undefined || p.price !== undefined || p.stopPrice !== undefined || p.trailAmount !== undefined,
    { error: 'Give at least one of qty, price, stopPrice, trailAmount' },
  );
export const OrderListStatusSchema = z.enum(['open', 'filled', 'canceled', 'rejected', 'all']);

/** Price alerts: an "above" alert triggers on the first trade print at or above its price, "below" at or below; once. */
export const AlertDirectionSchema = z.enum(['above', 'below']);
/** armed: waiting; triggered: a print reached the level (kept, listed); deleted: only in the `alerts` push of a deletion. */
export const AlertStatusSchema = z.enum(['armed', 'triggered', 'deleted']);
export const PriceAlertSchema = z.object({
  id: z.int().positive(),
  symbol: SymbolSchema,
  direction: AlertDirectionSchema,
  price: PriceSchema,
  note: z.string().max(200).optional(),
  status: AlertStatusSchema,
  createdAt: TimestampSchema,
  /** When a trade print first reached the level; absent while armed. */
  triggeredAt: TimestampSchema.optional(),
  triggerPrice: PriceSchema.optional(),
});
export type PriceAlert = z.output<typeof PriceAlertSchema>;

// The request shapes that mirror engine commands must stay in step with them.
type Bracket = NonNullable<core.BracketSpec>;
export type _MethodChecks = [
  Expect<
    Equals<
      z.output<typeof BracketParamsSchema>,
      {
        takeProfit?: Omit<NonNullable<Bracket['takeProfit']>, 'orderId'> | undefined;
        stopLoss?: Omit<NonNullable<Bracket['stopLoss']>, 'orderId'> | undefined;
      }
    >
  >,
  Expect<Equals<z.output<typeof OrderSpecParamsSchema>, core.OrderSpec>>,
  Expect<Equals<Omit<z.output<typeof PlaceOrderParamsSchema>, 'bracket'>, core.OrderSpec>>,
  // `rules` is the journal's (see core RULES), never a caller's
  Expect<Equals<z.output<typeof ReplaceOrderParamsSchema>, Omit<core.ReplaceOrder, 'type' | 'ts' | 'accountId' | 'rules'>>>,
  Expect<Equals<z.output<typeof InstrumentSpecSchema>, core.InstrumentSpec>>,
];

// ---------------------------------------------------------------- methods

export const METHODS = {
  // ---- public: market data and reference data
  'instruments.list': method({
    access: 'public',
    readOnly: true,
    params: NoParams,
    result: z.array(InstrumentViewSchema),
    doc: 'All instruments.',
  }),
  'instruments.search': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ query: z.string().max(64), limit: limit(100, 20) }),
    result: z.array(InstrumentViewSchema),
    doc: 'Instruments whose symbol or name matches the query, best first.',
  }),
  'quote.get': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ symbol: SymbolSchema }),
    result: QuoteSchema,
    doc: 'The current quote for one symbol.',
  }),
  'quotes.get': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ symbols: z.array(SymbolSchema).max(200) }),
    result: z.array(QuoteSchema),
    doc: 'Current quotes for up to 200 symbols, in the order asked.',
  }),
  'depth.get': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ symbol: SymbolSchema, levels: z.int().min(1).max(50).default(10) }),
    result: DepthSchema,
    doc: 'Aggregated book depth, best levels first (default 10, at most 50 per side).',
  }),
  'trades.recent': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ symbol: SymbolSchema, limit: limit(1000, 100) }),
    result: z.array(TradePrintSchema),
    doc: 'The most recent trade prints, newest first.',
  }),
  'candles.get': method({
    access: 'public',
    readOnly: true,
    params: z
      .strictObject({ symbol: SymbolSchema, timeframe: TimeframeSchema, ...fromTo, limit: limit(5000, 500) })
      .refine(rangeOk, rangeError),
    result: z.array(CandleSchema),
    doc: 'Candles in [from, to), oldest first; the latest `limit` when the range holds more.',
  }),
  'index.get': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ name: IndexNameSchema }),
    result: IndexViewSchema,
    doc: 'One index with its constituents.',
  }),
  'time.get': method({
    access: 'public',
    readOnly: true,
    params: NoParams,
    result: z.object({ ts: TimestampSchema }),
    doc: "The venue's clock (ms since the epoch).",
  }),

  // ---- viewer: read my own account
  'account.get': method({
    access: 'viewer',
    readOnly: true,
    params: NoParams,
    result: AccountViewSchema,
    doc: 'My account: cash, buying power, P&L, limits and positions.',
  }),
  'positions.list': method({
    access: 'viewer',
    readOnly: true,
    params: NoParams,
    result: z.array(PositionViewSchema),
    doc: 'My open positions.',
  }),
  'orders.list': method({
    access: 'viewer',
    readOnly: true,
    params: z.strictObject({
      status: OrderListStatusSchema.default('all'),
      symbol: SymbolSchema.optional(),
      limit: limit(500, 100),
      cursor: CursorSchema.optional(),
    }),
    result: z.object({ items: z.array(OrderRecordSchema), nextCursor: CursorSchema.optional() }),
    doc: 'My orders, newest first; pass `nextCursor` back as `cursor` for the next page.',
  }),
  'order.get': method({
    access: 'viewer',
    readOnly: true,
    params: z.strictObject({ orderId: OrderIdSchema }),
    result: OrderRecordSchema,
    doc: 'One of my orders, in any state.',
  }),
  'executions.list': method({
    access: 'viewer',
    readOnly: true,
    params: z
      .strictObject({ symbol: SymbolSchema.optional(), ...fromTo, limit: limit(1000, 100), cursor: CursorSchema.optional() })
      .refine(rangeOk, rangeError),
    result: z.object({ items: z.array(ExecutionSchema), nextCursor: CursorSchema.optional() }),
    doc: 'My fills, newest first, paged like orders.list.',
  }),
  'statement.get': method({
    access: 'viewer',
    readOnly: true,
    params: z.strictObject({ ...fromTo, limit: limit(10_000, 10_000), cursor: CursorSchema.optional() }).refine(rangeOk, rangeError),
    result: z.object({ entries: z.array(LedgerEntrySchema), openingCash: MoneySchema, closingCash: MoneySchema, nextCursor: CursorSchema.optional() }),
    doc: 'My cash ledger in [from, to), oldest first, with the cash before and after the whole range; up to `limit` entries a page (default and most 10,000), the next page from `nextCursor` when there is one.',
  }),
  'stats.get': method({
    access: 'viewer',
    readOnly: true,
    params: z.strictObject({ ...fromTo, period: StatsPeriodSchema.default('day') }).refine(rangeOk, rangeError),
    result: z.array(TradeStatsRowSchema),
    doc: 'My trade statistics per day, week or month (UTC), oldest first.',
  }),

  // ---- trader: act on my own account
  'order.place': method({
    access: 'trader',
    readOnly: false,
    params: PlaceOrderParamsSchema,
    result: OrderRecordSchema,
    doc: 'Place an order (optionally with bracket children). The venue assigns the order ids. Rejections answer with their engine code.',
  }),
  'order.placeOco': method({
    access: 'trader',
    readOnly: false,
    params: z.strictObject({ legs: z.tuple([OrderSpecParamsSchema, OrderSpecParamsSchema]) }),
    result: z.tuple([OrderRecordSchema, OrderRecordSchema]),
    doc: 'Place two linked orders on one symbol and side; when one trades the other is canceled.',
  }),
  'order.cancel': method({
    access: 'trader',
    readOnly: false,
    params: z.strictObject({ orderId: OrderIdSchema }),
    result: OrderRecordSchema,
    doc: 'Cancel one of my orders; answers with its final record.',
  }),
  'order.cancelAll': method({
    access: 'trader',
    readOnly: false,
    params: z.strictObject({ symbol: SymbolSchema.optional() }),
    result: z.object({ canceled: CountSchema }),
    doc: 'Cancel all my open orders (in one symbol, or all symbols).',
  }),
  'order.replace': method({
    access: 'trader',
    readOnly: false,
    params: ReplaceOrderParamsSchema,
    result: OrderRecordSchema,
    doc: 'Change quantity and/or prices of one of my open orders.',
  }),

  // ---- viewer: my price alerts (stored by the venue, checked against every trade print)
  'alerts.list': method({
    access: 'viewer',
    readOnly: true,
    params: NoParams,
    result: z.array(PriceAlertSchema),
    doc: 'My price alerts, newest first (armed and triggered).',
  }),
  'alerts.create': method({
    access: 'viewer',
    readOnly: false,
    params: z.strictObject({ symbol: SymbolSchema, direction: AlertDirectionSchema, price: PriceSchema, note: z.string().max(200).optional() }),
    result: PriceAlertSchema,
    doc: 'Alert me once when a trade prints at or above (or at or below) the price.',
  }),
  'alerts.delete': method({
    access: 'viewer',
    readOnly: false,
    params: z.strictObject({ id: z.int().positive() }),
    result: z.object({ deleted: z.boolean() }),
    doc: 'Delete one of my alerts (armed or triggered).',
  }),

  // ---- admin
  'admin.instrument.create': method({
    access: 'admin',
    readOnly: false,
    params: z.strictObject(InstrumentSpecSchema.shape),
    result: InstrumentViewSchema,
    doc: 'List a new instrument.',
  }),
  'admin.instrument.setStatus': method({
    access: 'admin',
    readOnly: false,
    params: z.strictObject({ symbol: SymbolSchema, status: InstrumentStatusSchema }),
    result: InstrumentViewSchema,
    doc: 'Halt or reopen trading in an instrument.',
  }),
  'admin.account.get': method({
    access: 'admin',
    readOnly: true,
    params: z.strictObject({ accountId: AccountIdSchema }),
    result: AccountViewSchema,
    doc: "Any account's cash, buying power, P&L, limits and positions (what account.get shows its owner).",
  }),
  'admin.account.fund': method({
    access: 'admin',
    readOnly: false,
    params: z.strictObject({ accountId: AccountIdSchema, amount: AmountSchema }),
    result: AccountViewSchema,
    doc: 'Deposit cash (minor units) into an account.',
  }),
  'admin.account.withdraw': method({
    access: 'admin',
    readOnly: false,
    params: z.strictObject({ accountId: AccountIdSchema, amount: AmountSchema }),
    result: AccountViewSchema,
    doc: 'Withdraw cash (minor units) from an account.',
  }),
  // ---- served by the desktop hub only (see hub.ts)
  ...HUB_METHODS,
} as const satisfies Record<string, MethodDef>;

// ---------------------------------------------------------------- channels

export const CHANNELS = {
  quotes: channel({
    access: 'public',
    params: z.strictObject({ symbols: z.array(SymbolSchema).min(1).max(200) }),
    data: QuoteSchema,
    conflate: true,
    conflateKey: (q) => q.symbol,
    doc: 'Quote updates for the symbols, starting with the current quote of each.',
  }),
  depth: channel({
    access: 'public',
    params: z.strictObject({ symbol: SymbolSchema, levels: z.int().min(1).max(50).default(10) }),
    data: DepthSchema,
    conflate: true,
    doc: 'The aggregated book each time it changes, starting with the current one.',
  }),
  trades: channel({
    access: 'public',
    params: z.strictObject({ symbol: SymbolSchema }),
    data: TradePrintSchema,
    // Time & sales must show every print: not conflated; a consumer that falls too far behind is ended
    // with RESYNC_REQUIRED and reloads recent trades with trades.recent.
    conflate: false,
    doc: 'Every trade print, in order.',
  }),
  candles: channel({
    access: 'public',
    params: z.strictObject({ symbol: SymbolSchema, timeframe: TimeframeSchema }),
    data: CandleSchema,
    conflate: true,
    conflateKey: (c) => c.t,
    doc: 'The live, updating bar; a new `t` starts the next bar.',
  }),
  index: channel({
    access: 'public',
    params: z.strictObject({ name: IndexNameSchema }),
    data: IndexViewSchema,
    conflate: true,
    doc: 'Index value updates, starting with the current value.',
  }),
  instruments: channel({
    access: 'public',
    params: NoParams,
    data: InstrumentViewSchema,
    conflate: true,
    conflateKey: (i) => i.symbol,
    doc: 'Every instrument, starting with the current list; then each one again when it is listed, halted or resumed, or re-based at the end of a session.',
  }),
  'admin.users': channel({
    access: 'admin',
    params: NoParams,
    data: PublicUserSchema,
    conflate: false,
    doc: "Every user, starting with the current list; then each user again after any change (listed, role, disabled or enabled, a password or 2FA set, changed or reset). The exchange server's only: the desktop's local venue has no users (UNKNOWN_METHOD).",
  }),
  'admin.audit': channel({
    access: 'admin',
    params: NoParams,
    data: AuditEntrySchema,
    conflate: false,
    doc: "Each new entry of the audit log once it is written (within about 300 ms), but orders' (order.*, one per order: read those with GET /api/v1/admin/audit). The exchange server's only (UNKNOWN_METHOD from the desktop's local venue).",
  }),
  orders: channel({
    access: 'viewer',
    params: NoParams,
    data: OrderRecordSchema,
    conflate: false,
    doc: 'Every change to one of my orders (the full record after the change).',
  }),
  executions: channel({
    access: 'viewer',
    params: NoParams,
    data: ExecutionSchema,
    conflate: false,
    doc: 'Each of my fills.',
  }),
  account: channel({
    access: 'viewer',
    params: NoParams,
    data: AccountViewSchema,
    conflate: false,
    doc: 'My account after each change, starting with the current one.',
  }),
  alerts: channel({
    access: 'viewer',
    params: NoParams,
    data: PriceAlertSchema,
    conflate: false,
    doc: 'Each of my alerts when it is created, triggered or deleted (status says which).',
  }),
  // ---- served by the desktop hub only (see hub.ts)
  ...HUB_CHANNELS,
} as const satisfies Record<string, ChannelDef>;

// ---------------------------------------------------------------- derived types

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
/** What a client passes (defaults not yet applied). */
export type ParamsOf<M extends MethodName> = z.input<Methods[M]['params']>;
/** What a server handler receives: validated, defaults applied. */
export type HandlerParamsOf<M extends MethodName> = z.output<Methods[M]['params']>;
export type ResultOf<M extends MethodName> = z.output<Methods[M]['result']>;

export type Channels = typeof CHANNELS;
export type ChannelName = keyof Channels;
/** What a client passes to subscribe. */
export type ChannelParams<C extends ChannelName> = z.input<Channels[C]['params']>;
/** What a channel handler receives: validated, defaults applied. */
export type HandlerChannelParams<C extends ChannelName> = z.output<Channels[C]['params']>;
export type ChannelData<C extends ChannelName> = z.output<Channels[C]['data']>;

export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];
export const CHANNEL_NAMES = Object.keys(CHANNELS) as ChannelName[];

export function isMethodName(s: unknown): s is MethodName {
  return typeof s === 'string' && Object.hasOwn(METHODS, s);
}
export function isChannelName(s: unknown): s is ChannelName {
  return typeof s === 'string' && Object.hasOwn(CHANNELS, s);
}
/** The table entry for a method, typed loosely for generic routing code. */
export function methodDef(name: MethodName): MethodDef {
  return METHODS[name];
}
/** The table entry for a channel, typed loosely for generic routing code. */
export function channelDef(name: ChannelName): ChannelDef {
  return CHANNELS[name] as ChannelDef;
}
