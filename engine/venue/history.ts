/**
 * The history writer: turns each journaled command's events into rows of the history tables (orders,
 * executions, ledger, candles, sessions).
 *
 * History is derived data: the journal alone is the record, and any history row can be recomputed from it.
 * So history is written in large, infrequent batches rather than with every group commit: rows accumulate
 * in memory (order rows and candle bars coalesced: an order placed and filled before the next history flush
 * costs one row write) and are flushed together with the watermark `history_meta.history_seq` (the last
 * command whose rows are in the tables) in one transaction. This matters because the history indexes are
 * keyed by account and symbol: a batch of commands from a thousand accounts touches a thousand index pages
 * whether it holds one command per account or fifty, so flushing fewer, larger batches divides the pages
 * written per command. The tables live in the history file, written by its own thread (history-thread.ts):
 * a flush hands the rows over and the sequencer goes on. The venue flushes history after a group commit
 * when enough has accumulated or enough time passed, before every history query (which then waits until
 * the rows are written, so a caller always reads its own acknowledged writes), before a snapshot, at the
 * end of a trading session and on close. After a crash, recovery replays the journal from the watermark
 * with the writer attached, so the history always ends up complete.
 *
 * Realized P&L per execution and the cash balance after each ledger entry are computed here from the
 * events, with the engine's own formulas (core/engine.ts `settle`, core/state.ts `proportion`): the writer
 * keeps qty and cost per (account, symbol) and cash per account, seeded from the engine's state at the
 * watermark. Reading them back from the engine after each command would give only a per-command total
 * (a sweep through several price levels is one command), not the figure for each fill; the tests check the
 * writer's positions, cash and realized P&L against the engine's after long random runs.
 */
import type { Engine } from '../core/index.js';
import { proportion } from '../core/state.js';
import type {
  AccountId,
  CancelReason,
  Command,
  EngineEvent,
  OrderId,
  OrderSpec,
  OrderType,
  PlaceOco,
  PlaceOrder,
  Side,
  TimeInForce,
  Timeframe,
  Timestamp,
} from '../core/types.js';
import { TIMEFRAMES, TIMEFRAME_MS } from '../core/types.js';
import type { ResultCode } from '../core/codes.js';
import type { OrderRecord, OrderRecordStatus } from '../protocol/schemas.js';
import type { Db } from './schema.js';
import { createBatchWriter, rowStatement, type BatchWriter, type HistoryBatch, type HistoryThread, type RowStatement } from './history-thread.js';

// ---------------------------------------------------------------- order records

/** One order's history row, in memory. Field names follow the protocol's OrderRecord. */
export class OrderRow {
  dirty = false;
  constructor(
    readonly orderId: OrderId,
    readonly accountId: AccountId,
    readonly clientOrderId: string | null,
    readonly symbol: string,
    readonly side: Side,
    readonly orderType: OrderType,
    readonly tif: TimeInForce,
    public qty: number,
    public filledQty: number,
    public leaves: number,
    public price: number | null,
    public stopPrice: number | null,
    public trailAmount: number | null,
    readonly postOnly: boolean,
    public status: OrderRecordStatus,
    public parentId: OrderId | null,
    public linkedId: OrderId | null,
    /** Sum of price * qty over the fills (for the average fill price). */
    public notional: number,
    public cancelReason: CancelReason | null,
    public rejectCode: ResultCode | null,
    public rejectMessage: string | null,
    readonly ts: Timestamp,
    public updatedTs: Timestamp,
    public seq: number,
    readonly session: number,
  ) {}

  get live(): boolean {
    return this.status === 'working' || this.status === 'pending_trigger' || this.status === 'pending_parent';
  }

  toRecord(): OrderRecord {
    return orderRecord(this);
  }
}

/** The protocol's OrderRecord for a row (in memory or read from the database). */
export function orderRecord(r: {
  orderId: number;
  accountId: number;
  clientOrderId: string | null;
  symbol: string;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  qty: number;
  filledQty: number;
  leaves: number;
  price: number | null;
  stopPrice: number | null;
  trailAmount: number | null;
  postOnly: boolean | number;
  status: OrderRecordStatus;
  parentId: number | null;
  linkedId: number | null;
  notional: number;
  cancelReason: CancelReason | null;
  rejectCode: ResultCode | null;
  rejectMessage: string | null;
  ts: number;
  updatedTs: number;
}): OrderRecord {
  const o: OrderRecord = {
    orderId: r.orderId,
    accountId: r.accountId,
    symbol: r.symbol,
    side: r.side,
    orderType: r.orderType,
    tif: r.tif,
    qty: r.qty,
    filledQty: r.filledQty,
    leaves: r.leaves,
    postOnly: r.postOnly === true || r.postOnly === 1,
    status: r.status,
    ts: r.ts,
    updatedTs: r.updatedTs,
  };
  if (r.clientOrderId !== null) o.clientOrderId = r.clientOrderId;
  if (r.price !== null) o.price = r.price;
  if (r.stopPrice !== null) o.stopPrice = r.stopPrice;
  if (r.trailAmount !== null) o.trailAmount = r.trailAmount;
  if (r.parentId !== null) o.parentId = r.parentId;
  if (r.linkedId !== null) o.linkedId = r.linkedId;
  if (r.filledQty > 0) o.avgFillPrice = r.notional / r.filledQty;
  if (r.cancelReason !== null) o.cancelReason = r.cancelReason;
  if (r.rejectCode !== null) o.rejectCode = r.rejectCode;
  if (r.rejectMessage !== null) o.rejectMessage = r.rejectMessage;
  return o;
}

/** Order columns fixed at placement (or at rejection): never part of an update. */
const IMMUTABLE_ORDER_COLUMNS = new Set(['order_id', 'account_id', 'client_order_id', 'symbol', 'side', 'order_type', 'tif', 'post_only', 'ts', 'session']);

export const ORDER_COLUMNS = [
  'order_id',
  'account_id',
  'client_order_id',
  'symbol',
  'side',
  'order_type',
  'tif',
  'qty',
  'filled_qty',
  'leaves',
  'price',
  'stop_price',
  'trail_amount',
  'post_only',
  'status',
  'parent_id',
  'linked_id',
  'notional',
  'cancel_reason',
  'reject_code',
  'reject_message',
  'ts',
  'updated_ts',
  'seq',
  'session',
] as const;

/** SELECT list giving OrderRow-shaped objects. */
export const ORDER_SELECT = `order_id AS orderId, account_id AS accountId, client_order_id AS clientOrderId, symbol, side,
  order_type AS orderType, tif, qty, filled_qty AS filledQty, leaves, price, stop_price AS stopPrice,
  trail_amount AS trailAmount, post_only AS postOnly, status, parent_id AS parentId, linked_id AS linkedId, notional,
  cancel_reason AS cancelReason, reject_code AS rejectCode, reject_message AS rejectMessage, ts, updated_ts AS updatedTs, seq,
  session`;

type OrderRowData = Parameters<typeof orderRecord>[0] & { seq: number; session: number };

function rowFromDb(d: OrderRowData): OrderRow {
  return new OrderRow(
    d.orderId,
    d.accountId,
    d.clientOrderId,
    d.symbol,
    d.side,
    d.orderType,
    d.tif,
    d.qty,
    d.filledQty,
    d.leaves,
    d.price,
    d.stopPrice,
    d.trailAmount,
    d.postOnly === 1 || d.postOnly === true,
    d.status,
    d.parentId,
    d.linkedId,
    d.notional,
    d.cancelReason,
    d.rejectCode,
    d.rejectMessage,
    d.ts,
    d.updatedTs,
    d.seq,
    d.session,
  );
}

// ---------------------------------------------------------------- row statements

// Only what can change after placement: naming an indexed column (account_id, client_order_id) in the SET
// list would make SQLite rewrite that index entry on every update.
const ORDER_UPDATE = ORDER_COLUMNS.filter((c) => !IMMUTABLE_ORDER_COLUMNS.has(c))
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');

/** The history statements, in the order of a HistoryBatch's rows. */
export const HISTORY_STATEMENTS: readonly RowStatement[] = [
  rowStatement(`INSERT INTO orders (${ORDER_COLUMNS.join(', ')})`, ORDER_COLUMNS.length, `ON CONFLICT (order_id) DO UPDATE SET ${ORDER_UPDATE}`, 16),
  rowStatement('INSERT INTO executions (trade_id, order_id, account_id, symbol, side, price, qty, liquidity, realized_pnl, ts, seq)', 11),
  rowStatement('INSERT INTO ledger (account_id, ts, kind, amount, cash, symbol, trade_id, order_id, seq)', 9),
  rowStatement(
    'INSERT INTO candles (symbol, tf, t, o, h, l, c, v)',
    8,
    'ON CONFLICT (symbol, tf, t) DO UPDATE SET o = excluded.o, h = excluded.h, l = excluded.l, c = excluded.c, v = excluded.v',
    16,
  ),
  rowStatement('INSERT OR REPLACE INTO sessions (session, ts, seq)', 3, '', 1),
];
const ORDERS = 0;
const EXECUTIONS = 1;
const LEDGER = 2;
const CANDLES = 3;
const SESSIONS = 4;

/** Empty columns for every history statement. */
function noRows(): unknown[][][] {
  return HISTORY_STATEMENTS.map((st) => Array.from({ length: st.width }, () => []));
}

function execRow(c: unknown[][], tradeId: number, orderId: OrderId, accountId: AccountId, symbol: string, side: Side, px: number, q: number, liq: string, pnl: number, ts: Timestamp, seq: number): void {
  c[0]!.push(tradeId);
  c[1]!.push(orderId);
  c[2]!.push(accountId);
  c[3]!.push(symbol);
  c[4]!.push(side);
  c[5]!.push(px);
  c[6]!.push(q);
  c[7]!.push(liq);
  c[8]!.push(pnl);
  c[9]!.push(ts);
  c[10]!.push(seq);
}

function ledgerRow(c: unknown[][], accountId: AccountId, ts: Timestamp, kind: string, amount: number, cash: number, symbol: string | null, tradeId: number | null, orderId: OrderId | null, seq: number): void {
  c[0]!.push(accountId);
  c[1]!.push(ts);
  c[2]!.push(kind);
  c[3]!.push(amount);
  c[4]!.push(cash);
  c[5]!.push(symbol);
  c[6]!.push(tradeId);
  c[7]!.push(orderId);
  c[8]!.push(seq);
}

/** Moves the history watermark (one parameter: the seq as text). */
export const HISTORY_MARK = "INSERT INTO history_meta (key, value) VALUES ('history_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

// ---------------------------------------------------------------- positions and bars

interface Pos {
  qty: number;
  cost: number;
}

interface Bar {
  dirty: boolean;
  symbol: string;
  tf: Timeframe;
  ms: number;
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

/** Receives each order record after every change, for accounts it asks for (publishing to subscribers). */
export interface OrderSink {
  wants(accountId: AccountId): boolean;
  order(rec: OrderRecord): void;
}

// ---------------------------------------------------------------- the writer

export class HistoryWriter {
  /** Records of live orders (and of orders changed in the current batch). */
  private readonly cache = new Map<OrderId, OrderRow>();
  /**
   * Rows of orders that ended, by the flush that wrote them: kept until the writer thread has committed
   * them (and the newest flush's one flush longer), so the reply to a command acknowledged just after a
   * flush is still answered from memory and a row is never looked for in the table before it is there.
   */
  private retired: { seq: number; rows: Map<OrderId, OrderRow> }[] = [];
  private dirty: OrderRow[] = [];
  private readonly positions = new Map<AccountId, Map<string, Pos>>();
  private readonly cash = new Map<AccountId, number>();
  private readonly bars = new Map<string, Bar[]>();
  private dirtyBars: Bar[] = [];
  /** Rows waiting for the next flush, flat, one array per HISTORY_STATEMENTS entry. */
  private rows: unknown[][][] = noRows();
  private readonly direct: BatchWriter;
  private readonly getOrder;
  /** Rows (and coalesced records) waiting to be written. */
  private pendingRows = 0;
  /** Last command whose rows are flushed (written, or handed to the writer thread). */
  watermark = 0;
  /** performance.now() of the last flush. */
  flushedAt = 0;
  /** The last flush that holds a trading session's end (its orders are looked up by later sessions). */
  sessionMark = 0;
  /** A session's end applied and not flushed yet (0: none): the venue flushes right after its commit. */
  sessionDue = 0;
  /** The engine's current session number (orders record the session they were placed in). */
  private session = 0;
  /** Set by the venue while subscribers want order records. */
  sink: OrderSink | null = null;
  /** Set by the venue: flushes are handed to this thread instead of being written on the caller's connection. */
  thread: HistoryThread | undefined;

  constructor(private readonly db: Db) {
    this.direct = createBatchWriter(db, HISTORY_STATEMENTS, HISTORY_MARK);
    this.getOrder = db.prepare(`SELECT ${ORDER_SELECT} FROM orders WHERE order_id = ?`);
  }

  /** The last command whose rows are committed to the history file. */
  get written(): number {
    return this.thread?.written ?? this.watermark;
  }

  /**
   * Forgets retired rows the writer thread has committed. Called only between transactions of the caller's
   * connection: a read transaction begun before the thread's commit would not see them in the table.
   */
  prune(): void {
    const w = this.written;
    while (this.retired.length > 1 && this.retired[0]!.seq <= w) this.retired.shift();
  }

  private retiredRow(id: OrderId): OrderRow | undefined {
    for (let i = this.retired.length - 1; i >= 0; i--) {
      const r = this.retired[i]!.rows.get(id);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Rows waiting for the next flush. */
  get pending(): number {
    return this.pendingRows;
  }

  /**
   * Seeds positions, cash and current bars from the engine, whose state must be that after command
   * `watermark` (on open, during recovery, and after a rebuild). Drops anything buffered.
   */
  reset(engine: Engine, watermark: number): void {
    this.watermark = watermark;
    this.session = engine.sessionNumber;
    this.pendingRows = 0;
    this.sessionDue = 0;
    this.cache.clear();
    this.retired = [];
    this.dirty = [];
    this.rows = noRows();
    this.positions.clear();
    this.cash.clear();
    this.bars.clear();
    this.dirtyBars = [];
    for (const id of engine.accountIds()) {
      const v = engine.accountView(id)!;
      this.cash.set(id, v.cash);
      const m = new Map<string, Pos>();
      for (const p of v.positions) m.set(p.symbol, { qty: p.qty, cost: p.cost });
      this.positions.set(id, m);
    }
    for (const inst of engine.instruments()) {
      const arr: Bar[] = [];
      for (const tf of TIMEFRAMES) {
        const c = engine.candles(inst.symbol, tf, 1)[0];
        arr.push(
          c === undefined
            ? { dirty: false, symbol: inst.symbol, tf, ms: TIMEFRAME_MS[tf], t: NaN, o: 0, h: 0, l: 0, c: 0, v: 0 }
            : { dirty: false, symbol: inst.symbol, tf, ms: TIMEFRAME_MS[tf], t: c.t, o: c.o, h: c.h, l: c.l, c: c.c, v: c.v },
        );
      }
      this.bars.set(inst.symbol, arr);
    }
  }

  /**
   * The current record of an order whose row is live or not yet written (every order touched since the last
   * flush is here); undefined means the table already holds its latest row.
   */
  record(id: OrderId): OrderRecord | undefined {
    return (this.cache.get(id) ?? this.retiredRow(id))?.toRecord();
  }

  /** The writer's view of a position and cash (for consistency checks against the engine). */
  position(accountId: AccountId, symbol: string): Pos | undefined {
    return this.positions.get(accountId)?.get(symbol);
  }
  cashOf(accountId: AccountId): number | undefined {
    return this.cash.get(accountId);
  }

  private row(id: OrderId): OrderRow {
    let r = this.cache.get(id);
    if (r === undefined) {
      r = this.retiredRow(id);
      if (r === undefined) {
        const d = this.getOrder.get(id) as OrderRowData | undefined;
        if (d === undefined) throw new Error(`History has no order ${id}, but the engine reported an event for it`);
        r = rowFromDb(d);
      }
      this.cache.set(id, r);
    }
    return r;
  }

  private touch(r: OrderRow, ts: Timestamp, seq: number): void {
    r.updatedTs = ts;
    r.seq = seq;
    if (!r.dirty) {
      r.dirty = true;
      this.dirty.push(r);
      this.pendingRows++;
    }
    const s = this.sink;
    if (s !== null && s.wants(r.accountId)) s.order(r.toRecord());
  }

  /** Derives the history rows of one journaled command. */
  apply(seq: number, cmd: Command, events: readonly EngineEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'OrderAccepted': {
          const r = new OrderRow(
            e.orderId,
            e.accountId,
            e.clientOrderId ?? null,
            e.symbol,
            e.side,
            e.orderType,
            e.tif,
            e.qty,
            0,
            e.qty,
            e.price ?? null,
            e.stopPrice ?? null,
            e.trailAmount ?? null,
            postOnlyOf(cmd, e.orderId),
            e.status,
            e.parentId ?? null,
            e.linkedId ?? null,
            0,
            null,
            null,
            null,
            e.ts,
            e.ts,
            seq,
            this.session,
          );
          this.cache.set(r.orderId, r);
          this.touch(r, e.ts, seq);
          break;
        }
        case 'Trade':
          this.trade(seq, e);
          break;
        case 'OrderCanceled': {
          const r = this.row(e.orderId);
          // a bracket child canceled before it went live (its entry ended during a halt and cut it to what the
          // entry filled, which its OrderReplaced already said): its quantity is what it held
          if (r.status === 'pending_parent') r.qty = r.filledQty + e.canceledQty;
          r.status = 'canceled';
          r.cancelReason = e.reason;
          r.leaves = 0;
          this.touch(r, e.ts, seq);
          break;
        }
        case 'OrderReplaced': {
          const r = this.row(e.orderId);
          r.qty = e.qty;
          r.leaves = e.leaves;
          r.price = e.price ?? null;
          r.stopPrice = e.stopPrice ?? null;
          r.trailAmount = e.trailAmount ?? null;
          this.touch(r, e.ts, seq);
          break;
        }
        case 'OrderTriggered':
        case 'OrderActivated': {
          // A stop triggered, or a bracket child went live (its quantity is then what the entry filled).
          const r = this.row(e.orderId);
          r.status = e.status;
          r.leaves = e.qty;
          r.qty = r.filledQty + e.qty;
          if (e.price !== undefined) r.price = e.price;
          this.touch(r, e.ts, seq);
          break;
        }
        case 'StopMoved': {
          const r = this.row(e.orderId);
          r.stopPrice = e.stopPrice;
          this.touch(r, e.ts, seq);
          break;
        }
        case 'CashMoved':
          this.cash.set(e.accountId, e.cash);
          ledgerRow(this.rows[LEDGER]!, e.accountId, e.ts, e.amount > 0 ? 'deposit' : 'withdrawal', e.amount, e.cash, null, null, null, seq);
          this.pendingRows++;
          break;
        case 'AccountOpened':
          this.cash.set(e.accountId, 0);
          this.positions.set(e.accountId, new Map());
          break;
        case 'InstrumentCreated': {
          const arr: Bar[] = [];
          for (const tf of TIMEFRAMES) arr.push({ dirty: false, symbol: e.symbol, tf, ms: TIMEFRAME_MS[tf], t: NaN, o: 0, h: 0, l: 0, c: 0, v: 0 });
          this.bars.set(e.symbol, arr);
          break;
        }
        case 'Rejected':
          this.rejected(seq, cmd, e.code, e.message, e.ts);
          break;
        case 'SessionEnded': {
          this.session = e.session;
          const sc = this.rows[SESSIONS]!;
          sc[0]!.push(e.session);
          sc[1]!.push(e.ts);
          sc[2]!.push(seq);
          // Orders of the ended session must be in the table for the venue's client-order-id check of the
          // commands that follow (it looks at earlier sessions; the engine itself checks the current one):
          // the venue flushes right after the session end's COMMIT (sessionDue), and waits for that flush
          // (sessionMark) before it sequences them. Not here: inside the transaction, rows handed over would
          // be of a command the journal may never hold, should the COMMIT fail.
          this.sessionDue = seq;
          break;
        }
        default:
          break;
      }
    }
  }

  private trade(seq: number, e: Extract<EngineEvent, { type: 'Trade' }>): void {
    const px = e.price;
    const q = e.qty;
    const notional = px * q;
    const makerSide: Side = e.aggressor === 'buy' ? 'sell' : 'buy';
    const m = this.row(e.makerOrderId);
    m.filledQty += q;
    m.leaves = e.makerLeaves;
    m.notional += notional;
    if (m.leaves === 0) m.status = 'filled';
    const t = this.row(e.takerOrderId);
    t.filledQty += q;
    t.leaves = e.takerLeaves;
    t.notional += notional;
    if (t.leaves === 0) t.status = 'filled';
    const mr = this.settle(e.makerAccountId, e.symbol, makerSide, px, q);
    const tr = this.settle(e.takerAccountId, e.symbol, e.aggressor, px, q);
    const mc = this.moveCash(e.makerAccountId, makerSide === 'buy' ? -notional : notional);
    const tc = this.moveCash(e.takerAccountId, e.aggressor === 'buy' ? -notional : notional);
    const ex = this.rows[EXECUTIONS]!;
    execRow(ex, e.tradeId, e.makerOrderId, e.makerAccountId, e.symbol, makerSide, px, q, 'maker', mr, e.ts, seq);
    execRow(ex, e.tradeId, e.takerOrderId, e.takerAccountId, e.symbol, e.aggressor, px, q, 'taker', tr, e.ts, seq);
    const lg = this.rows[LEDGER]!;
    ledgerRow(lg, e.makerAccountId, e.ts, 'trade', makerSide === 'buy' ? -notional : notional, mc, e.symbol, e.tradeId, e.makerOrderId, seq);
    ledgerRow(lg, e.takerAccountId, e.ts, 'trade', e.aggressor === 'buy' ? -notional : notional, tc, e.symbol, e.tradeId, e.takerOrderId, seq);
    this.pendingRows += 4;
    this.touch(m, e.ts, seq);
    this.touch(t, e.ts, seq);
    this.print(e.symbol, e.ts, px, q);
  }

  private moveCash(accountId: AccountId, delta: number): number {
    const c = (this.cash.get(accountId) ?? 0) + delta;
    this.cash.set(accountId, c);
    return c;
  }

  /** Position update and realized P&L of one side of a trade: the engine's `settle` arithmetic. */
  private settle(accountId: AccountId, symbol: string, side: Side, px: number, q: number): number {
    let m = this.positions.get(accountId);
    if (m === undefined) {
      m = new Map();
      this.positions.set(accountId, m);
    }
    let p = m.get(symbol);
    if (p === undefined) {
      p = { qty: 0, cost: 0 };
      m.set(symbol, p);
    }
    const dq = side === 'buy' ? q : -q;
    if (p.qty === 0 || p.qty > 0 === dq > 0) {
      p.qty += dq;
      p.cost += dq * px;
      return 0;
    }
    const abs = p.qty < 0 ? -p.qty : p.qty;
    const close = q < abs ? q : abs;
    const removed = proportion(p.cost, close, abs);
    const realized = p.qty > 0 ? px * close - removed : -removed - px * close;
    p.cost -= removed;
    p.qty += dq > 0 ? close : -close;
    const rest = q - close;
    if (rest > 0) {
      p.qty += dq > 0 ? rest : -rest;
      p.cost += (dq > 0 ? rest : -rest) * px;
    }
    return realized;
  }

  /** The engine's CandleSeries.update, per timeframe. */
  private print(symbol: string, ts: Timestamp, px: number, q: number): void {
    let arr = this.bars.get(symbol);
    if (arr === undefined) {
      arr = TIMEFRAMES.map((tf) => ({ dirty: false, symbol, tf, ms: TIMEFRAME_MS[tf], t: NaN, o: 0, h: 0, l: 0, c: 0, v: 0 }));
      this.bars.set(symbol, arr);
    }
    for (let i = 0; i < arr.length; i++) {
      let b = arr[i]!;
      const ms = b.ms;
      const t = ts - (((ts % ms) + ms) % ms);
      if (b.t === t) {
        if (px > b.h) b.h = px;
        if (px < b.l) b.l = px;
        b.c = px;
        b.v += q;
      } else {
        // the previous bar keeps its last values in the dirty set; a fresh object starts the new one
        b = { dirty: false, symbol, tf: b.tf, ms, t, o: px, h: px, l: px, c: px, v: q };
        arr[i] = b;
      }
      if (!b.dirty) {
        b.dirty = true;
        this.dirtyBars.push(b);
        this.pendingRows++;
      }
    }
  }

  private rejected(seq: number, cmd: Command, code: ResultCode, message: string, ts: Timestamp): void {
    // Rejected orders are recorded so the blotter shows them with their reason. Rejected cancels and
    // replaces leave the order they name untouched.
    if (cmd.type === 'PlaceOrder') {
      this.rejectedOrder(seq, cmd, cmd.orderId, cmd.accountId, null, code, message, ts);
    } else if (cmd.type === 'PlaceOco' && Array.isArray(cmd.legs)) {
      const ids = cmd.legs.map((l) => l.orderId);
      cmd.legs.forEach((l, i) => {
        const other = ids.length === 2 ? ids[1 - i]! : null;
        this.rejectedOrder(seq, l, l.orderId, cmd.accountId, other, code, message, ts);
      });
    }
  }

  private rejectedOrder(
    seq: number,
    spec: Partial<OrderSpec>,
    orderId: unknown,
    accountId: unknown,
    linkedId: OrderId | null,
    code: ResultCode,
    message: string,
    ts: Timestamp,
  ): void {
    if (typeof orderId !== 'number' || !Number.isSafeInteger(orderId) || typeof accountId !== 'number') return;
    if (this.cache.has(orderId) || this.retiredRow(orderId) !== undefined || this.getOrder.get(orderId) !== undefined) return; // never overwrite a real order
    const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
    const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : String(v));
    const r = new OrderRow(
      orderId,
      accountId,
      typeof spec.clientOrderId === 'string' ? spec.clientOrderId : null,
      str(spec.symbol),
      str(spec.side) as Side,
      str(spec.orderType) as OrderType,
      str(spec.tif) as TimeInForce,
      int(spec.qty) ?? 0,
      0,
      0,
      int(spec.price),
      int(spec.stopPrice),
      int(spec.trailAmount),
      spec.postOnly === true,
      'rejected',
      null,
      linkedId,
      0,
      null,
      code,
      message,
      ts,
      ts,
      seq,
      this.session,
    );
    this.cache.set(orderId, r);
    this.touch(r, ts, seq);
  }

  private flushOrders(): Map<OrderId, OrderRow> {
    const retired = new Map<OrderId, OrderRow>();
    const c = this.rows[ORDERS]!;
    for (const r of this.dirty) {
      c[0]!.push(r.orderId);
      c[1]!.push(r.accountId);
      c[2]!.push(r.clientOrderId);
      c[3]!.push(r.symbol);
      c[4]!.push(r.side);
      c[5]!.push(r.orderType);
      c[6]!.push(r.tif);
      c[7]!.push(r.qty);
      c[8]!.push(r.filledQty);
      c[9]!.push(r.leaves);
      c[10]!.push(r.price);
      c[11]!.push(r.stopPrice);
      c[12]!.push(r.trailAmount);
      c[13]!.push(r.postOnly ? 1 : 0);
      c[14]!.push(r.status);
      c[15]!.push(r.parentId);
      c[16]!.push(r.linkedId);
      c[17]!.push(r.notional);
      c[18]!.push(r.cancelReason);
      c[19]!.push(r.rejectCode);
      c[20]!.push(r.rejectMessage);
      c[21]!.push(r.ts);
      c[22]!.push(r.updatedTs);
      c[23]!.push(r.seq);
      c[24]!.push(r.session);
      r.dirty = false;
      if (!r.live) {
        this.cache.delete(r.orderId);
        retired.set(r.orderId, r);
      }
    }
    this.dirty = [];
    return retired;
  }

  /**
   * Flushes everything buffered with the watermark `seq` (the last command applied): hands it to the writer
   * thread, or writes it on the caller's connection (inside the caller's transaction, if one is open).
   */
  flush(seq: number): void {
    const retired = this.flushOrders();
    if (this.dirtyBars.length > 0) {
      const c = this.rows[CANDLES]!;
      for (const b of this.dirtyBars) {
        c[0]!.push(b.symbol);
        c[1]!.push(b.tf);
        c[2]!.push(b.t);
        c[3]!.push(b.o);
        c[4]!.push(b.h);
        c[5]!.push(b.l);
        c[6]!.push(b.c);
        c[7]!.push(b.v);
        b.dirty = false;
      }
      this.dirtyBars = [];
    }
    const batch: HistoryBatch = { seq, rows: this.rows };
    this.rows = noRows();
    if (this.thread !== undefined) {
      this.thread.post(batch);
      this.retired.push({ seq, rows: retired });
    } else {
      this.direct([batch]);
      this.retired = [{ seq, rows: retired }];
    }
    this.watermark = seq;
    this.pendingRows = 0;
    this.flushedAt = performance.now();
    if (this.sessionDue !== 0) {
      this.sessionMark = this.sessionDue;
      this.sessionDue = 0;
    }
  }

  /** Drops everything buffered (after a failed transaction; the venue is then unusable anyway). */
  discard(): void {
    this.pendingRows = 0;
    this.sessionDue = 0;
    this.dirty = [];
    this.cache.clear();
    this.retired = [];
    this.rows = noRows();
    this.dirtyBars = [];
  }
}

function postOnlyOf(cmd: Command, orderId: OrderId): boolean {
  if (cmd.type === 'PlaceOrder') return cmd.orderId === orderId && (cmd as PlaceOrder).postOnly === true;
  if (cmd.type === 'PlaceOco') return (cmd as PlaceOco).legs.some((l) => l.orderId === orderId && l.postOnly === true);
  return false;
}
