// The venue served over the protocol: serveSession with venueHandlers on an in-memory port pair (with JSON
// serialisation, as a real transport), a ProtocolClient on the other end, results and pushes checked
// against the method table's schemas (validateOutgoing).
import { describe, expect, it } from 'vitest';
import { ProtocolClient, createPortPair, serveSession, type ChannelData, type ChannelName } from '../../protocol/index.js';
import { venueHandlers, type Venue } from '../../venue/index.js';
import { openVenue, tempDb, testClock } from './helpers.js';

async function setUp(): Promise<{ v: Venue; trader: (accountId: number, role?: string) => Promise<ProtocolClient> }> {
  const clock = testClock();
  const v = openVenue(tempDb(), { now: clock.now });
  await v.submitAll([
    { type: 'CreateInstrument', instrument: { symbol: 'AAA', name: 'Triple A', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 2000 } },
    { type: 'CreateInstrument', instrument: { symbol: 'BBB', name: 'Bee', tickSize: 1, lotSize: 1, referencePrice: 500, bandBps: 2000 } },
    { type: 'CreateIndex', name: 'IDX', baseValue: 100_000, constituents: [{ symbol: 'AAA', weightBps: 5000 }, { symbol: 'BBB', weightBps: 5000 }] },
    { type: 'OpenAccount', accountId: 1 },
    { type: 'OpenAccount', accountId: 2, allowShort: true },
    { type: 'Deposit', accountId: 1, amount: 1_000_000 },
    { type: 'Deposit', accountId: 2, amount: 1_000_000 },
  ]);
  const { handlers, channels } = venueHandlers(v);
  const internal: unknown[] = [];
  const trader = async (accountId: number, role = 'trader'): Promise<ProtocolClient> => {
    const [a, b] = createPortPair({ serialize: true });
    serveSession(b, {
      serverName: 'venue-test',
      authenticate: () => ({ accountId, role }),
      handlers,
      channels,
      validateOutgoing: true,
      onInternalError: (e) => internal.push(e),
    });
    const c = new ProtocolClient(a);
    await c.connect({ client: 'test' });
    return c;
  };
  return { v, trader };
}

function collect<C extends ChannelName>(client: ProtocolClient, channel: C, params: Parameters<ProtocolClient['subscribe']>[1]): Promise<ChannelData<C>[]> {
  const got: ChannelData<C>[] = [];
  return client.subscribe(channel, params as never, { data: (d) => got.push(d as ChannelData<C>) }).then(() => got);
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('venue over the protocol', () => {
  it('places, lists, replaces and cancels orders on the session account; rejections carry the engine code', async () => {
    const { trader } = await setUp();
    const c = await trader(1);
    const o = await c.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 990, tif: 'gtc', clientOrderId: 'x1' });
    expect(o).toMatchObject({ accountId: 1, status: 'working', qty: 10, leaves: 10, clientOrderId: 'x1' });
    await expect(c.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 991, tif: 'gtc', clientOrderId: 'x1' })).rejects.toMatchObject({
      code: 'DUPLICATE_CLIENT_ORDER_ID',
      details: { originalOrderId: o.orderId },
    });
    await expect(c.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 5000, tif: 'gtc' })).rejects.toMatchObject({ code: 'PRICE_OUT_OF_BAND' });
    const r = await c.call('order.replace', { orderId: o.orderId, price: 995 });
    expect(r).toMatchObject({ orderId: o.orderId, price: 995 });
    const list = await c.call('orders.list', { status: 'all', limit: 2 });
    expect(list.items).toHaveLength(2);
    expect(list.nextCursor).toBeDefined();
    const rest = await c.call('orders.list', { status: 'all', limit: 2, cursor: list.nextCursor });
    expect([...list.items, ...rest.items].map((x) => x.status).sort()).toEqual(['rejected', 'rejected', 'working']);
    await expect(c.call('orders.list', { cursor: 'bogus' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const other = await trader(2);
    await expect(other.call('order.get', { orderId: o.orderId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(other.call('order.cancel', { orderId: o.orderId })).rejects.toMatchObject({ code: 'NOT_ORDER_OWNER' });
    expect(await c.call('order.cancel', { orderId: o.orderId })).toMatchObject({ status: 'canceled', cancelReason: 'user' });
    await c.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 900, tif: 'gtc', bracket: { takeProfit: { price: 950 } } });
    await c.call('order.place', { symbol: 'BBB', side: 'buy', orderType: 'limit', qty: 10, price: 450, tif: 'gtc' });
    expect(await c.call('order.cancelAll', { symbol: 'AAA' })).toEqual({ canceled: 2 }); // the entry and its child
    expect((await c.call('orders.list', { status: 'open' })).items.map((x) => x.symbol)).toEqual(['BBB']);
    const oco = await c.call('order.placeOco', {
      legs: [
        { symbol: 'BBB', side: 'buy', orderType: 'limit', qty: 5, price: 440, tif: 'gtc' },
        { symbol: 'BBB', side: 'buy', orderType: 'stop', qty: 5, stopPrice: 560, tif: 'gtc' },
      ],
    });
    expect(oco[0].linkedId).toBe(oco[1].orderId);
  });

  it('instruments: the list first, then each instrument again when it is listed, halted, resumed or re-based; trades push nothing', async () => {
    const { v, trader } = await setUp();
    const watcher = await trader(1, 'viewer');
    const admin = await trader(2, 'admin');
    const seen = await collect(watcher, 'instruments', {});
    await tick();
    expect(seen.map((i) => [i.symbol, i.status])).toEqual([
      ['AAA', 'open'],
      ['BBB', 'open'],
    ]);
    seen.length = 0;
    await admin.call('order.place', { symbol: 'AAA', side: 'sell', orderType: 'limit', qty: 10, price: 1010, tif: 'gtc' });
    const buyer = await trader(1);
    expect(await buyer.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 1010, tif: 'gtc' })).toMatchObject({ status: 'filled' });
    await tick();
    expect(seen).toEqual([]);
    await admin.call('admin.instrument.setStatus', { symbol: 'AAA', status: 'halted' });
    await admin.call('admin.instrument.create', { symbol: 'CCC', name: 'Sea', tickSize: 5, lotSize: 10, referencePrice: 2000, bandBps: 1000 });
    await admin.call('admin.instrument.setStatus', { symbol: 'AAA', status: 'open' });
    await tick();
    expect(seen.map((i) => [i.symbol, i.status])).toEqual([
      ['AAA', 'halted'],
      ['CCC', 'open'],
      ['AAA', 'open'],
    ]);
    expect(seen[1]).toEqual(v.view.instrument('CCC'));
    seen.length = 0;
    // the session's end re-bases every instrument on its last price: AAA traded at 1010
    await v.submit({ type: 'EndSession' });
    await tick();
    expect(seen.map((i) => i.symbol).sort()).toEqual(['AAA', 'BBB', 'CCC']);
    expect(seen.find((i) => i.symbol === 'AAA')).toMatchObject({ previousClose: 1010, referencePrice: 1010, bandLow: 808, bandHigh: 1212 });
    for (const i of seen) expect(i).toEqual(v.view.instrument(i.symbol));
  });

  it('trades show up in executions, account, statement, stats, candles and market data, live and on request', async () => {
    const { v, trader } = await setUp();
    const buyer = await trader(1);
    const seller = await trader(2);
    const quotes = await collect(buyer, 'quotes', { symbols: ['AAA'] });
    const depth = await collect(buyer, 'depth', { symbol: 'AAA', levels: 5 });
    const trades = await collect(buyer, 'trades', { symbol: 'AAA' });
    const candles = await collect(buyer, 'candles', { symbol: 'AAA', timeframe: '1m' });
    const index = await collect(buyer, 'index', { name: 'IDX' });
    const orders = await collect(buyer, 'orders', {});
    const execs = await collect(buyer, 'executions', {});
    const account = await collect(buyer, 'account', {});
    await tick();
    expect(quotes).toHaveLength(1);
    expect(account).toHaveLength(1);
    await seller.call('order.place', { symbol: 'AAA', side: 'sell', orderType: 'limit', qty: 10, price: 1010, tif: 'gtc' });
    const o = await buyer.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 4, price: 1010, tif: 'gtc' });
    await tick();
    expect(o).toMatchObject({ status: 'filled', filledQty: 4, avgFillPrice: 1010 });
    expect(orders.map((r) => r.status)).toEqual(['working', 'filled']);
    expect(execs).toEqual([{ tradeId: 1, orderId: o.orderId, symbol: 'AAA', side: 'buy', price: 1010, qty: 4, liquidity: 'taker', ts: o.ts }]);
    expect(trades).toEqual([{ tradeId: 1, symbol: 'AAA', price: 1010, qty: 4, aggressor: 'buy', ts: o.ts }]);
    expect(quotes.at(-1)).toMatchObject({ last: 1010, ask: 1010, askSize: 6 });
    expect(depth.at(-1)!.asks).toEqual([{ price: 1010, qty: 6, orders: 1 }]);
    expect(candles.at(-1)).toMatchObject({ o: 1010, c: 1010, v: 4 });
    expect(index.length).toBeGreaterThanOrEqual(2);
    expect(account.at(-1)!.cash).toBe(1_000_000 - 4040);
    expect(await buyer.call('positions.list')).toMatchObject([{ symbol: 'AAA', qty: 4 }]);
    expect((await buyer.call('executions.list', {})).items).toEqual(execs);
    const st = await buyer.call('statement.get', {});
    expect(st.entries.map((e) => e.amount)).toEqual([1_000_000, -4040]);
    expect(st.closingCash).toBe(1_000_000 - 4040);
    expect(st.nextCursor).toBeUndefined();
    // a page at a time: the entries of all pages add up from the opening cash to the closing cash
    const first = await buyer.call('statement.get', { limit: 1 });
    expect(first.entries.map((e) => e.amount)).toEqual([1_000_000]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await buyer.call('statement.get', { limit: 1, cursor: first.nextCursor });
    expect(second.entries.map((e) => e.amount)).toEqual([-4040]);
    expect(second.nextCursor).toBeUndefined();
    expect(second.openingCash + [...first.entries, ...second.entries].reduce((a, e) => a + e.amount, 0)).toBe(second.closingCash);
    expect(await buyer.call('stats.get', { period: 'day' })).toMatchObject([{ trades: 1, buys: 1, volume: 4, notional: 4040 }]);
    expect(await buyer.call('candles.get', { symbol: 'AAA', timeframe: '1m' })).toEqual(v.view.candles('AAA', '1m'));
    expect(await buyer.call('trades.recent', { symbol: 'AAA' })).toEqual(trades);
    expect((await buyer.call('quote.get', { symbol: 'AAA' })).last).toBe(1010);
    await expect(buyer.call('quote.get', { symbol: 'ZZZ' })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    expect((await buyer.call('instruments.search', { query: 'bee' })).map((i) => i.symbol)).toEqual(['BBB']);
    expect((await buyer.call('time.get')).ts).toBe(v.now());
  });

  it('admin methods act on the account they name; traders may not call them', async () => {
    const { trader } = await setUp();
    const admin = await trader(99, 'admin');
    const t = await trader(1);
    await expect(t.call('admin.account.fund', { accountId: 1, amount: 5 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await admin.call('admin.account.fund', { accountId: 1, amount: 5 })).cash).toBe(1_000_005);
    await expect(admin.call('admin.account.withdraw', { accountId: 1, amount: 10_000_000 })).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await admin.call('admin.instrument.create', { symbol: 'CCC', name: 'Sea', tickSize: 1, lotSize: 1, referencePrice: 100, bandBps: 1000 })).toMatchObject({ symbol: 'CCC', status: 'open' });
    expect(await admin.call('admin.instrument.setStatus', { symbol: 'CCC', status: 'halted' })).toMatchObject({ status: 'halted' });
    await expect(t.call('order.place', { symbol: 'CCC', side: 'buy', orderType: 'limit', qty: 1, price: 100, tif: 'day' })).rejects.toMatchObject({ code: 'MARKET_HALTED' });
  });

  it('a closed venue answers UNAVAILABLE', async () => {
    const { v, trader } = await setUp();
    const t = await trader(1);
    v.close();
    await expect(t.call('order.place', { symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 1, price: 1000, tif: 'day' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('the candles channel', () => {
  it("pushes a bar's final state before the next bar when, with background fsync, the commit is published after the next bar began", async () => {
    const clock = testClock(Date.UTC(2024, 0, 2, 14, 30, 59, 900));
    let next: number | undefined; // the clock after the next group commit
    const v = openVenue(tempDb(), {
      now: clock.now,
      fsync: 'background',
      maxBatch: 2, // one trade (two orders) per group commit
      onGroupCommit: () => {
        if (next !== undefined) [clock.t, next] = [next, undefined];
      },
    });
    for (const a of await v.submitAll([
      { type: 'CreateInstrument', instrument: { symbol: 'AAA', name: 'Triple A', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 2000 } },
      { type: 'OpenAccount', accountId: 1 },
      { type: 'OpenAccount', accountId: 2, allowShort: true },
      { type: 'Deposit', accountId: 1, amount: 1_000_000 },
      { type: 'Deposit', accountId: 2, amount: 1_000_000 },
    ]))
      expect(a.rejected).toBeUndefined();
    const { handlers, channels } = venueHandlers(v);
    const [a, b] = createPortPair({ serialize: true });
    serveSession(b, { serverName: 'venue-test', authenticate: () => ({ accountId: 1, role: 'trader' }), handlers, channels, validateOutgoing: true });
    const client = new ProtocolClient(a);
    await client.connect({ client: 'test' });
    const candles = await collect(client, 'candles', { symbol: 'AAA', timeframe: '1m' });
    const trade = (price: number, qty: number) =>
      v.submitAll([
        { type: 'PlaceOrder', accountId: 2, symbol: 'AAA', side: 'sell', orderType: 'limit', qty, price, tif: 'gtc' },
        { type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty, price, tif: 'ioc' },
      ]);
    await trade(1000, 1); // the 14:30 bar begins
    await tick();
    // The 14:30 bar's last trade and the 14:31 bar's first, each its own group commit, both committed before
    // the first one's fsync returns: close() commits the queue, then syncs and publishes both in order (the
    // first one's publish sees the engine after the second).
    next = clock.t + 100;
    const done = Promise.all([trade(1010, 5), trade(1005, 2)]);
    v.close({ snapshot: false });
    for (const [ack] of await done) expect(ack!.rejected).toBeUndefined();
    await tick();
    const bar = (t: number, o: number, h: number, l: number, c: number, vol: number) => ({ t, o, h, l, c, v: vol });
    expect(candles).toEqual([
      bar(Date.UTC(2024, 0, 2, 14, 30), 1000, 1000, 1000, 1000, 1),
      bar(Date.UTC(2024, 0, 2, 14, 30), 1000, 1010, 1000, 1010, 6),
      bar(Date.UTC(2024, 0, 2, 14, 31), 1005, 1005, 1005, 1005, 2),
    ]);
  });
});
