/**
 * History queries over the venue database. Lists are newest first (statements oldest first) and paged with
 * keyset cursors: a cursor names the last row of the previous page, so a page costs the same however deep
 * it is and rows that arrive meanwhile neither repeat nor shift the next page (no OFFSET).
 *
 * Time stamps are non-decreasing in journal order (the venue clamps its clock), so id order and time order
 * agree in every table; the (account, ts) and (symbol, ts) indexes serve both the ranges and the order.
 */
import type { AccountId, Candle, OrderId, Timeframe } from '../core/types.js';
import type {
  Execution,
  LedgerEntry,
  LedgerKind,
  OrderRecord,
  OrderRecordStatus,
  StatsPeriod,
  TradePrint,
  TradeStatsRow,
} from '../protocol/schemas.js';
import { VenueError } from './errors.js';
import { ORDER_SELECT, orderRecord } from './history.js';
import type { Db, Stmt } from './schema.js';

export interface Page<T> {
  items: T[];
  /** Present when there may be more: pass it back as `cursor`. */
  nextCursor?: string;
}

export type OrderStatusFilter = 'open' | 'filled' | 'canceled' | 'rejected' | 'all' | OrderRecordStatus | OrderRecordStatus[];

export interface OrderQuery {
  accountId?: AccountId;
  status?: OrderStatusFilter;
  symbol?: string;
  /** Created at or after (ms). */
  from?: number;
  /** Created before (ms). */
  to?: number;
  /** Default 100, at most 1000. */
  limit?: number;
  cursor?: string;
}

export interface ExecutionQuery {
  accountId?: AccountId;
  symbol?: string;
  from?: number;
  to?: number;
  /** Default 100, at most 5000. */
  limit?: number;
  cursor?: string;
}

/** A fill as the venue stores it: the protocol's Execution plus the account and the realized P&L. */
export interface ExecutionRecord extends Execution {
  accountId: AccountId;
  realizedPnl: number;
}

export interface StatementQuery {
  accountId: AccountId;
  from?: number;
  to?: number;
  /** Default 1000, at most 10000. */
  limit?: number;
  cursor?: string;
}

export interface Statement extends Page<LedgerEntry> {
  /** Cash before `from`. */
  openingCash: number;
  /** Cash at the end of the range (before `to`). */
  closingCash: number;
}

export interface StatsQuery {
  accountId: AccountId;
  from?: number;
  to?: number;
  period?: StatsPeriod;
}

export interface RecentTradesQuery {
  symbol: string;
  /** Default 100, at most 10000. */
  limit?: number;
}

export interface CandleQuery {
  symbol: string;
  timeframe: Timeframe;
  /** Bars starting at or after (ms). */
  from?: number;
  /** Bars starting before (ms). */
  to?: number;
  /** The latest `limit` bars of the range (default 500, at most 10000). */
  limit?: number;
}

/** What the queries use from outside themselves (see createHistoryQueries). */
export interface QueryLib {
  /** The SELECT list of an order row (history.ts ORDER_SELECT). */
  orderSelect: string;
  orderRecord: typeof orderRecord;
  periodStart: typeof periodStart;
  /** The error for a bad query or cursor. */
  fail(code: 'BAD_QUERY' | 'BAD_CURSOR', message: string): Error;
}

/** The queries on the venue's connection: errors are VenueErrors. */
export const VENUE_QUERY_LIB: QueryLib = {
  orderSelect: ORDER_SELECT,
  orderRecord,
  periodStart,
  fail: (code, message) => new VenueError(code, message),
};

/**
 * The history queries over `db` (the venue's connection, or a reader thread's connection to the history
 * file: history-reader.ts). Self-contained on purpose: its source is also the reader thread's, so it uses
 * nothing from outside itself but `lib`.
 */
export function createHistoryQueries(db: Db, lib: QueryLib) {
  const OPEN: OrderRecordStatus[] = ['working', 'pending_trigger', 'pending_parent'];
  const ALL_STATUSES: OrderRecordStatus[] = [...OPEN, 'filled', 'canceled', 'rejected'];
  const MIN_TS = -8.64e15;
  const MAX_TS = 8.64e15;
  const BAD_CURSOR = 'That cursor was not handed out by this query';
  const cache = new Map<string, Stmt>();

  function stmt(sql: string): Stmt {
    let s = cache.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  }

  function clampLimit(v: number | undefined, dflt: number, max: number): number {
    if (v === undefined) return dflt;
    if (!Number.isSafeInteger(v) || v < 1) throw lib.fail('BAD_QUERY', `limit must be a positive integer, not ${String(v)}`);
    return Math.min(v, max);
  }

  /** Cursors: a tag and integers, e.g. "o.1234" or "x.1700000000000.77". */
  function makeCursor(tag: string, ...parts: number[]): string {
    return `${tag}.${parts.join('.')}`;
  }
  function readCursor(c: string | undefined, tag: string, n: number): number[] | undefined {
    if (c === undefined) return undefined;
    const parts = typeof c === 'string' ? c.split('.') : [];
    if (parts.length !== n + 1 || parts[0] !== tag) throw lib.fail('BAD_CURSOR', BAD_CURSOR);
    // digits only, as made: Number() would read '' as 0, and take '-5' or '1e3'
    if (!parts.slice(1).every((p) => /^\d{1,16}$/.test(p))) throw lib.fail('BAD_CURSOR', BAD_CURSOR);
    const nums = parts.slice(1).map(Number);
    if (!nums.every(Number.isSafeInteger)) throw lib.fail('BAD_CURSOR', BAD_CURSOR);
    return nums;
  }

  function statusList(s: OrderStatusFilter | undefined): OrderRecordStatus[] | undefined {
    if (s === undefined || s === 'all') return undefined;
    if (s === 'open') return OPEN;
    const list = Array.isArray(s) ? s : [s];
    for (const x of list) if (!ALL_STATUSES.includes(x)) throw lib.fail('BAD_QUERY', `Unknown order status ${String(x)}`);
    return list;
  }

  type OrderRowData = Parameters<typeof orderRecord>[0] & { orderId: number };

  return {
    order(orderId: OrderId): OrderRecord | undefined {
      const r = stmt(`SELECT ${lib.orderSelect} FROM orders WHERE order_id = ?`).get(orderId) as OrderRowData | undefined;
      return r === undefined ? undefined : lib.orderRecord(r);
    },

    /**
     * The order placed before trading session `beforeSession` that carries a client order id on an account
     * (rejected orders excluded).
     */
    orderByClientId(accountId: AccountId, clientOrderId: string, beforeSession: number): OrderId | undefined {
      return stmt(
        "SELECT order_id FROM orders WHERE account_id = ? AND client_order_id = ? AND status <> 'rejected' AND session < ? ORDER BY order_id LIMIT 1",
      )
        .pluck()
        .get(accountId, clientOrderId, beforeSession) as OrderId | undefined;
    },

    orders(q: OrderQuery = {}): Page<OrderRecord> {
      const limit = clampLimit(q.limit, 100, 1000);
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.accountId !== undefined) {
        where.push('account_id = ?');
        args.push(q.accountId);
      }
      const statuses = statusList(q.status);
      if (statuses !== undefined) {
        where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
        args.push(...statuses);
      }
      if (q.symbol !== undefined) {
        where.push('symbol = ?');
        args.push(q.symbol);
      }
      if (q.from !== undefined) {
        where.push('ts >= ?');
        args.push(q.from);
      }
      if (q.to !== undefined) {
        where.push('ts < ?');
        args.push(q.to);
      }
      const cur = readCursor(q.cursor, 'o', 1);
      if (cur !== undefined) {
        where.push('order_id < ?');
        args.push(cur[0]);
      }
      const sql = `SELECT ${lib.orderSelect} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY order_id DESC LIMIT ?`;
      const rows = stmt(sql).all(...args, limit + 1) as OrderRowData[];
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const page: Page<OrderRecord> = { items: rows.map((r) => lib.orderRecord(r)) };
      if (more) page.nextCursor = makeCursor('o', rows[rows.length - 1]!.orderId);
      return page;
    },

    executions(q: ExecutionQuery = {}): Page<ExecutionRecord> {
      const limit = clampLimit(q.limit, 100, 5000);
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.accountId !== undefined) {
        where.push('account_id = ?');
        args.push(q.accountId);
      }
      if (q.symbol !== undefined) {
        where.push('symbol = ?');
        args.push(q.symbol);
      }
      where.push('ts >= ?', 'ts < ?');
      args.push(q.from ?? MIN_TS, q.to ?? MAX_TS);
      const cur = readCursor(q.cursor, 'x', 2);
      if (cur !== undefined) {
        where.push('(ts, exec_id) < (?, ?)');
        args.push(cur[0], cur[1]);
      }
      const sql = `SELECT exec_id AS execId, trade_id AS tradeId, order_id AS orderId, account_id AS accountId, symbol, side, price,
        qty, liquidity, realized_pnl AS realizedPnl, ts FROM executions WHERE ${where.join(' AND ')}
        ORDER BY ts DESC, exec_id DESC LIMIT ?`;
      const rows = stmt(sql).all(...args, limit + 1) as (ExecutionRecord & { execId: number })[];
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const page: Page<ExecutionRecord> = {
        items: rows.map((r) => ({
          tradeId: r.tradeId,
          orderId: r.orderId,
          accountId: r.accountId,
          symbol: r.symbol,
          side: r.side,
          price: r.price,
          qty: r.qty,
          liquidity: r.liquidity,
          realizedPnl: r.realizedPnl,
          ts: r.ts,
        })),
      };
      if (more) {
        const last = rows[rows.length - 1]!;
        page.nextCursor = makeCursor('x', last.ts, last.execId);
      }
      return page;
    },

    /** Public trade prints for a symbol, newest first (one per trade: the taker's side is the aggressor). */
    recentTrades(q: RecentTradesQuery): TradePrint[] {
      const n = clampLimit(q.limit, 100, 10_000);
      return stmt(
        `SELECT trade_id AS tradeId, symbol, price, qty, side AS aggressor, ts FROM executions
         WHERE symbol = ? AND liquidity = 'taker' ORDER BY ts DESC, exec_id DESC LIMIT ?`,
      ).all(q.symbol, n) as TradePrint[];
    },

    statement(q: StatementQuery): Statement {
      const limit = clampLimit(q.limit, 1000, 10_000);
      const from = q.from ?? MIN_TS;
      const to = q.to ?? MAX_TS;
      const cashBefore = stmt('SELECT cash FROM ledger WHERE account_id = ? AND ts < ? ORDER BY ts DESC, entry_id DESC LIMIT 1').pluck();
      const openingCash = (cashBefore.get(q.accountId, from) as number | undefined) ?? 0;
      const closingCash = (cashBefore.get(q.accountId, to) as number | undefined) ?? openingCash;
      const cur = readCursor(q.cursor, 'l', 2);
      const args: unknown[] = [q.accountId, from, to];
      let extra = '';
      if (cur !== undefined) {
        extra = 'AND (ts, entry_id) > (?, ?)';
        args.push(cur[0], cur[1]);
      }
      const rows = stmt(
        `SELECT entry_id AS id, ts, kind, amount, cash, symbol, trade_id AS tradeId FROM ledger
         WHERE account_id = ? AND ts >= ? AND ts < ? ${extra} ORDER BY ts, entry_id LIMIT ?`,
      ).all(...args, limit + 1) as { id: number; ts: number; kind: LedgerKind; amount: number; cash: number; symbol: string | null; tradeId: number | null }[];
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const entries: LedgerEntry[] = rows.map((r) => {
        const e: LedgerEntry = { id: r.id, ts: r.ts, kind: r.kind, amount: r.amount, cash: r.cash };
        if (r.symbol !== null) e.symbol = r.symbol;
        if (r.tradeId !== null) e.tradeId = r.tradeId;
        return e;
      });
      const st: Statement = { items: entries, openingCash, closingCash };
      if (more) {
        const last = rows[rows.length - 1]!;
        st.nextCursor = makeCursor('l', last.ts, last.id);
      }
      return st;
    },

    /** Trade statistics per UTC day, ISO week (starting Monday) or calendar month, oldest first. */
    tradeStats(q: StatsQuery): TradeStatsRow[] {
      const days = stmt(
        `SELECT (ts - (ts % 86400000)) AS period, count(*) AS trades, sum(side = 'buy') AS buys, sum(side = 'sell') AS sells,
           sum(qty) AS volume, sum(price * qty) AS notional, sum(realized_pnl) AS realizedPnl
         FROM executions WHERE account_id = ? AND ts >= ? AND ts < ? GROUP BY period ORDER BY period`,
      ).all(q.accountId, q.from ?? 0, q.to ?? MAX_TS) as TradeStatsRow[];
      const period = q.period ?? 'day';
      if (period === 'day') return days;
      const out: TradeStatsRow[] = [];
      for (const d of days) {
        const start = lib.periodStart(d.period, period);
        const last = out[out.length - 1];
        if (last !== undefined && last.period === start) {
          last.trades += d.trades;
          last.buys += d.buys;
          last.sells += d.sells;
          last.volume += d.volume;
          last.notional += d.notional;
          last.realizedPnl += d.realizedPnl;
        } else out.push({ ...d, period: start });
      }
      return out;
    },

    /** Bars of the venue's own trades and, under them, imported bars (the venue file's, or the history file's copy). */
    candles(q: CandleQuery): Candle[] {
      const limit = clampLimit(q.limit, 500, 10_000);
      const args = [q.symbol, q.timeframe, q.from ?? MIN_TS, q.to ?? MAX_TS, limit] as const;
      const live = stmt('SELECT t, o, h, l, c, v FROM candles WHERE symbol = ? AND tf = ? AND t >= ? AND t < ? ORDER BY t DESC LIMIT ?').all(
        ...args,
      ) as Candle[];
      // Imported history sits under the live bars (a live bar wins over an imported one with the same start).
      // Usually it all lies before the first live bar, so only the part before that is asked for.
      if (live.length >= limit) return live.reverse();
      const to = live.length > 0 ? Math.min(args[3], live[live.length - 1]!.t) : args[3];
      const imported = stmt(
        'SELECT t, o, h, l, c, v FROM imported_candles WHERE symbol = ? AND tf = ? AND t >= ? AND t < ? ORDER BY t DESC LIMIT ?',
      ).all(q.symbol, q.timeframe, args[2], to, limit - live.length) as Candle[];
      if (imported.length === 0) return live.reverse();
      return [...imported.reverse(), ...live.reverse()];
    },

    /** Number of imported bars (all symbols, or one). */
    importedCandleCount(symbol?: string, timeframe?: Timeframe): number {
      return (
        symbol === undefined
          ? stmt('SELECT count(*) FROM imported_candles').pluck().get()
          : timeframe === undefined
            ? stmt('SELECT count(*) FROM imported_candles WHERE symbol = ?').pluck().get(symbol)
            : stmt('SELECT count(*) FROM imported_candles WHERE symbol = ? AND tf = ?').pluck().get(symbol, timeframe)
      ) as number;
    },
  };
}

export type HistoryQueries = ReturnType<typeof createHistoryQueries>;

/** Start (UTC ms) of the week (Monday) or month containing a day start. */
export function periodStart(dayStart: number, period: StatsPeriod): number {
  if (period === 'day') return dayStart;
  const d = new Date(dayStart);
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  return dayStart - dow * 86_400_000;
}
