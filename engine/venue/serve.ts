/**
 * The protocol's handler table for a venue: every method and channel of engine/protocol/methods.ts that a
 * venue serves, for `serveSession(port, { handlers, channels, ... })`. One table serves every session: each
 * private method acts on the session's own account (`ctx.session.accountId`, see requireAccount), so a
 * session can never name another account (admin methods name the account they act on).
 *
 * Errors: engine rejections answer with their engine code (details: orderId, originalOrderId for a duplicate
 * client order id); unknown symbols/orders with UNKNOWN_SYMBOL/NOT_FOUND; a closed or failed venue with
 * UNAVAILABLE (the command was not carried out); a command journaled whose fsync failed with OUTCOME_UNKNOWN (it
 * may have been carried out: never answered as failed); a bad paging cursor with BAD_REQUEST.
 */
import type { AccountId, AccountView, OrderId } from '../core/types.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ChannelHandlers, MethodHandlers, SessionContext } from '../protocol/server.js';
import { requireAccount } from '../protocol/server.js';
import type { Execution, OrderRecord } from '../protocol/schemas.js';
import { CandleFeed } from './candle-feed.js';
import type { VenueCommand } from './codec.js';
import { isVenueError } from './errors.js';
import type { Ack, Venue } from './venue.js';

/** The venue's channels: every channel of the table but the exchange server's own (its users and their audit log). */
export type VenueChannelHandlers = Omit<ChannelHandlers, 'admin.users' | 'admin.audit'>;

export interface VenueHandlers {
  handlers: MethodHandlers;
  channels: VenueChannelHandlers;
}

/** Most ledger entries a page of `statement.get` holds (the rest from its nextCursor). */
export const STATEMENT_MAX_ENTRIES = 10_000;
/** Most armed price alerts per account. */
export const MAX_ARMED_ALERTS = 200;

/** Venue errors as protocol errors (anything unexpected stays as thrown: the server maps it to INTERNAL). */
export function venueErrorToProtocol(e: unknown): unknown {
  if (!isVenueError(e)) return e;
  switch (e.code) {
    case 'VENUE_CLOSED':
    case 'VENUE_FAILED':
      return new ProtocolError('UNAVAILABLE', 'The venue is not available right now');
    case 'VENUE_OUTCOME_UNKNOWN':
      return new ProtocolError(
        'OUTCOME_UNKNOWN',
        'The venue stopped while it made this command durable: it may have been carried out. Check your orders before you send it again.',
      );
    case 'BAD_CURSOR':
    case 'BAD_QUERY':
    case 'BAD_COMMAND':
      return new ProtocolError('BAD_REQUEST', e.message);
    default:
      return e;
  }
}

function guard<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
  return (...a: A): R => {
    try {
      const r = fn(...a);
      if (r instanceof Promise) return r.catch((e: unknown) => Promise.reject(venueErrorToProtocol(e))) as R;
      return r;
    } catch (e) {
      throw venueErrorToProtocol(e);
    }
  };
}

function rejectMapped(e: unknown): never {
  throw venueErrorToProtocol(e);
}

/** Throws the engine's rejection as a ProtocolError. */
function accepted(ack: Ack): Ack {
  const r = ack.rejected;
  if (r === undefined) return ack;
  const details: Record<string, unknown> = {};
  if (r.orderId !== undefined) details.orderId = r.orderId;
  if (r.originalOrderId !== undefined) details.originalOrderId = r.originalOrderId;
  if (r.clientOrderId !== undefined) details.clientOrderId = r.clientOrderId;
  throw new ProtocolError(r.code, r.message, Object.keys(details).length > 0 ? details : undefined);
}

function myOrder(venue: Venue, accountId: AccountId, orderId: OrderId): OrderRecord {
  const r = venue.order(orderId);
  if (r === undefined || r.accountId !== accountId) throw new ProtocolError('NOT_FOUND', `No order ${orderId} on this account`);
  return r;
}

function knownSymbol(venue: Venue, symbol: string): void {
  if (venue.view.instrument(symbol) === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${symbol}`);
}

function accountView(venue: Venue, accountId: AccountId): AccountView {
  const v = venue.view.accountView(accountId);
  if (v === undefined) throw new ProtocolError('UNKNOWN_ACCOUNT', `Account ${accountId} does not exist`);
  return v;
}

function execution(x: Execution): Execution {
  return { tradeId: x.tradeId, orderId: x.orderId, symbol: x.symbol, side: x.side, price: x.price, qty: x.qty, liquidity: x.liquidity, ts: x.ts };
}

/** Builds the method and channel handlers that serve `venue` over the protocol. */
export function venueHandlers(venue: Venue): VenueHandlers {
  const submit = async (cmd: VenueCommand): Promise<Ack> => accepted(await venue.submit(cmd));
  /**
   * The order path's submit: `then` maps the accepted ack to the result, and everything thrown on the way
   * is mapped as guard() maps it. One promise per call, where an async handler around an async submit
   * would make three (and their frames): at full load that is a good part of what the young generation
   * has to collect.
   */
  const submitThen = <R>(cmd: VenueCommand, then: (ack: Ack) => R): Promise<R> =>
    venue.submit(cmd).then((ack) => {
      try {
        return then(accepted(ack));
      } catch (e) {
        throw venueErrorToProtocol(e);
      }
    }, rejectMapped);
  const acct = (ctx: SessionContext): AccountId => requireAccount(ctx);

  const handlers: MethodHandlers = {
    // ---- public
    'instruments.list': () => venue.view.instruments(),
    'instruments.search': ({ query, limit }) => {
      const q = query.trim().toUpperCase();
      const rank = (sym: string, name: string): number => {
        if (q === '') return 4;
        if (sym === q) return 0;
        if (sym.startsWith(q)) return 1;
        if (sym.includes(q)) return 2;
        if (name.toUpperCase().includes(q)) return 3;
        return -1;
      };
      return venue.view
        .instruments()
        .map((i) => ({ i, r: rank(i.symbol, i.name) }))
        .filter((x) => x.r >= 0)
        .sort((a, b) => a.r - b.r || a.i.symbol.localeCompare(b.i.symbol))
        .slice(0, limit)
        .map((x) => x.i);
    },
    'quote.get': ({ symbol }) => {
      const q = venue.view.quote(symbol);
      if (q === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${symbol}`);
      return q;
    },
    'quotes.get': ({ symbols }) =>
      symbols.map((s) => {
        const q = venue.view.quote(s);
        if (q === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${s}`);
        return q;
      }),
    'depth.get': ({ symbol, levels }) => {
      const d = venue.view.depth(symbol, levels);
      if (d === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${symbol}`);
      return d;
    },
    'trades.recent': guard(({ symbol, limit }) => {
      knownSymbol(venue, symbol);
      return venue.queryHistory('recentTrades', { symbol, limit });
    }),
    'candles.get': guard(({ symbol, timeframe, from, to, limit }) => {
      knownSymbol(venue, symbol);
      return venue.queryHistory('candles', { symbol, timeframe, from, to, limit });
    }),
    'index.get': ({ name }) => {
      const x = venue.view.index(name);
      if (x === undefined) throw new ProtocolError('NOT_FOUND', `No index ${name}`);
      return x;
    },
    'time.get': () => ({ ts: venue.now() }),

    // ---- viewer
    'account.get': (_p, ctx) => accountView(venue, acct(ctx)),
    'positions.list': (_p, ctx) => accountView(venue, acct(ctx)).positions.filter((p) => p.qty !== 0),
    'orders.list': guard(({ status, symbol, limit, cursor }, ctx) =>
      venue
        .queryHistory('orders', { accountId: acct(ctx), status, symbol, limit, cursor })
        .then((page) => (page.nextCursor === undefined ? { items: page.items } : { items: page.items, nextCursor: page.nextCursor })),
    ),
    'order.get': guard(({ orderId }, ctx) => myOrder(venue, acct(ctx), orderId)),
    'executions.list': guard(({ symbol, from, to, limit, cursor }, ctx) =>
      venue.queryHistory('executions', { accountId: acct(ctx), symbol, from, to, limit, cursor }).then((page) => {
        const items = page.items.map(execution);
        return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
      }),
    ),
    'statement.get': guard(({ from, to, limit, cursor }, ctx) =>
      venue
        .queryHistory('statement', { accountId: acct(ctx), from, to, limit: Math.min(limit, STATEMENT_MAX_ENTRIES), cursor })
        .then((st) => {
          const out = { entries: st.items, openingCash: st.openingCash, closingCash: st.closingCash };
          return st.nextCursor === undefined ? out : { ...out, nextCursor: st.nextCursor };
        }),
    ),
    'stats.get': guard(({ from, to, period }, ctx) => venue.queryHistory('tradeStats', { accountId: acct(ctx), from, to, period })),

    // ---- trader
    'order.place': (p, ctx) => {
      const accountId = acct(ctx);
      return submitThen({ type: 'PlaceOrder', ...p, accountId }, (ack) => myOrder(venue, accountId, ack.orderIds[0]!));
    },
    'order.placeOco': guard(async ({ legs }, ctx) => {
      const accountId = acct(ctx);
      const ack = await submit({ type: 'PlaceOco', accountId, legs });
      return [myOrder(venue, accountId, ack.orderIds[0]!), myOrder(venue, accountId, ack.orderIds[1]!)] as [OrderRecord, OrderRecord];
    }),
    'order.cancel': ({ orderId }, ctx) => {
      const accountId = acct(ctx);
      return submitThen({ type: 'CancelOrder', accountId, orderId }, () => myOrder(venue, accountId, orderId));
    },
    'order.cancelAll': guard(async ({ symbol }, ctx) => ({ canceled: await venue.cancelOrders(acct(ctx), symbol) })),
    'order.replace': (p, ctx) => {
      const accountId = acct(ctx);
      return submitThen({ type: 'ReplaceOrder', accountId, ...p }, () => myOrder(venue, accountId, p.orderId));
    },

    // ---- alerts
    'alerts.list': guard((_p, ctx) => venue.alerts(acct(ctx))),
    'alerts.create': guard(({ symbol, direction, price, note }, ctx) => {
      const accountId = acct(ctx);
      knownSymbol(venue, symbol);
      if (venue.armedAlerts(accountId) >= MAX_ARMED_ALERTS)
        throw new ProtocolError('LIMIT_EXCEEDED', `At most ${MAX_ARMED_ALERTS} armed alerts per account`, { max: MAX_ARMED_ALERTS });
      return venue.createAlert(accountId, { symbol, direction, price, note });
    }),
    'alerts.delete': guard(({ id }, ctx) => ({ deleted: venue.deleteAlert(acct(ctx), id) })),

    // ---- admin
    'admin.instrument.create': guard(async (spec) => {
      await submit({ type: 'CreateInstrument', instrument: spec });
      return venue.view.instrument(spec.symbol)!;
    }),
    'admin.instrument.setStatus': guard(async ({ symbol, status }) => {
      await submit({ type: 'SetInstrumentStatus', symbol, status });
      return venue.view.instrument(symbol)!;
    }),
    'admin.account.get': ({ accountId }) => accountView(venue, accountId),
    'admin.account.fund': guard(async ({ accountId, amount }) => {
      await submit({ type: 'Deposit', accountId, amount });
      return accountView(venue, accountId);
    }),
    'admin.account.withdraw': guard(async ({ accountId, amount }) => {
      await submit({ type: 'Withdraw', accountId, amount });
      return accountView(venue, accountId);
    }),
  };

  const channels: VenueChannelHandlers = {
    quotes: ({ symbols }, _ctx, sink) => {
      const unique = [...new Set(symbols)];
      for (const s of unique) knownSymbol(venue, s);
      for (const s of unique) sink.push(venue.view.quote(s)!);
      const offs = unique.map((s) => venue.subscribeMarket(s, () => sink.push(venue.view.quote(s)!)));
      return () => offs.forEach((off) => off());
    },
    depth: ({ symbol, levels }, _ctx, sink) => {
      knownSymbol(venue, symbol);
      const first = venue.view.depth(symbol, levels)!;
      let last = JSON.stringify(first);
      sink.push(first);
      return venue.subscribeMarket(symbol, () => {
        const d = venue.view.depth(symbol, levels)!;
        const text = JSON.stringify(d);
        if (text === last) return; // a quote or trade change that left these levels as they were
        last = text;
        sink.push(d);
      });
    },
    trades: ({ symbol }, _ctx, sink) => {
      knownSymbol(venue, symbol);
      return venue.subscribeMarket(symbol, (c) => {
        for (const t of c.trades) sink.push(t);
      });
    },
    candles: ({ symbol, timeframe }, _ctx, sink) => {
      knownSymbol(venue, symbol);
      const feed = new CandleFeed(symbol, timeframe);
      const cur = venue.view.candles(symbol, timeframe, 1)[0];
      if (cur !== undefined) {
        sink.push(cur);
        feed.pushed(cur);
      }
      return venue.subscribeMarket(symbol, (c) => {
        if (c.trades.length === 0) return;
        // with background fsync the view may be past this commit: a bar that closed since goes out first
        for (const bar of feed.next(venue.view)) sink.push(bar);
      });
    },
    index: ({ name }, _ctx, sink) => {
      const x = venue.view.index(name);
      if (x === undefined) throw new ProtocolError('NOT_FOUND', `No index ${name}`);
      sink.push(x);
      let lastValue = x.value;
      let lastPrev = x.previousClose;
      const offs = x.constituents.map((c) =>
        venue.subscribeMarket(c.symbol, () => {
          const v = venue.view.index(name)!;
          if (v.value === lastValue && v.previousClose === lastPrev) return;
          lastValue = v.value;
          lastPrev = v.previousClose;
          sink.push(v);
        }),
      );
      return () => offs.forEach((off) => off());
    },
    instruments: (_p, _ctx, sink) => {
      for (const i of venue.view.instruments()) sink.push(i);
      return venue.subscribeInstruments((symbols) => {
        for (const s of symbols) {
          const i = venue.view.instrument(s);
          if (i !== undefined) sink.push(i);
        }
      });
    },
    orders: (_p, ctx, sink) => venue.subscribeOrders(acct(ctx), (r) => sink.push(r)),
    executions: (_p, ctx, sink) => venue.subscribeExecutions(acct(ctx), (x) => sink.push(execution(x))),
    alerts: (_p, ctx, sink) => venue.subscribeAlerts(acct(ctx), (a) => sink.push(a)),
    account: (_p, ctx, sink) => {
      const id = acct(ctx);
      sink.push(accountView(venue, id));
      return venue.subscribeAccount(id, () => {
        const v = venue.view.accountView(id);
        if (v !== undefined) sink.push(v);
      });
    },
  };

  return { handlers, channels };
}
