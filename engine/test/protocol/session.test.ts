import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CLOSE_CODES,
  ProtocolClient,
  ProtocolError,
  createPortPair,
  serveSession,
  type ChannelData,
  type HandlerParamsOf,
  type OrderRecord,
  type PushSink,
  type Quote,
  type ResultOf,
} from '../../protocol/index.js';
import { Peer, TS, connected, orderRecord, quote, rawSession, settle } from './helpers.js';

/** Rejection of a promise as a ProtocolError (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<ProtocolError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a rejection');
}

describe.each([false, true])('protocol session (serialize=%s)', (serialize) => {
  describe('handshake', () => {
    it('welcomes with the server name and the session from authenticate', async () => {
      const { client } = await connected(serialize, { session: { userId: 'ann', accountId: 3, role: 'viewer' } });
      expect(client.state).toBe('open');
      expect(client.welcome).toMatchObject({ t: 'welcome', v: 1, server: 'test-venue' });
      expect(client.session).toEqual({ userId: 'ann', accountId: 3, role: 'viewer' });
    });

    it('answers a version mismatch with UNSUPPORTED_VERSION and closes', async () => {
      const [raw, serverPort] = createPortPair({ serialize });
      serveSession(serverPort, { serverName: 's', handlers: {} });
      const peer = new Peer(raw);
      peer.send({ t: 'hello', v: 2, client: 'future' });
      const err = await peer.waitFor((m) => m.t === 'error');
      expect(err).toMatchObject({ error: { code: 'UNSUPPORTED_VERSION', details: { supported: [1], requested: 2 } } });
      await settle();
      expect(raw.closed).toBe(true);
      expect(peer.closedWith?.code).toBe(CLOSE_CODES.PROTOCOL_ERROR);
    });

    it('rejects connect when the server speaks another version', async () => {
      const [clientPort, raw] = createPortPair({ serialize });
      const peer = new Peer(raw);
      const client = new ProtocolClient(clientPort);
      const connecting = client.connect({ client: 'c' });
      await peer.waitFor((m) => m.t === 'hello');
      peer.send({ t: 'welcome', v: 2, server: 'future' });
      expect((await rejection(connecting)).code).toBe('UNSUPPORTED_VERSION');
      await settle();
      expect(client.state).toBe('closed');
    });

    it('rejects connect with the error authenticate threw', async () => {
      const [clientPort, serverPort] = createPortPair({ serialize });
      serveSession(serverPort, {
        serverName: 's',
        handlers: {},
        authenticate: async () => {
          throw new ProtocolError('UNAUTHENTICATED', 'Bad token');
        },
      });
      const client = new ProtocolClient(clientPort);
      const e = await rejection(client.connect({ client: 'c', token: 'nope' }));
      expect(e.code).toBe('UNAUTHENTICATED');
      expect(e.message).toBe('Bad token');
      await settle();
      expect(clientPort.closed).toBe(true);
    });

    it('requires hello first: anything else gets an error and a close', async () => {
      const [raw, serverPort] = createPortPair({ serialize });
      serveSession(serverPort, { serverName: 's', handlers: { 'time.get': () => ({ ts: TS }) } });
      const peer = new Peer(raw);
      peer.send({ t: 'req', id: 1, method: 'time.get', params: {} });
      expect(await peer.waitFor((m) => m.t === 'error')).toMatchObject({ error: { code: 'BAD_REQUEST' } });
      await settle();
      expect(raw.closed).toBe(true);
    });

    it('answers calls sent while authenticate is still running, after the welcome', async () => {
      const [clientPort, serverPort] = createPortPair({ serialize });
      let release!: () => void;
      serveSession(serverPort, {
        serverName: 's',
        handlers: { 'time.get': () => ({ ts: TS }) },
        authenticate: () => new Promise((r) => (release = () => r({ userId: 'u', role: 'viewer' }))),
      });
      const client = new ProtocolClient(clientPort);
      const connecting = client.connect({ client: 'c' });
      const call = client.call('time.get');
      await settle();
      release();
      await connecting;
      expect(await call).toEqual({ ts: TS });
    });

    it('closes a session that never says hello when helloTimeoutMs is set', async () => {
      const [raw, serverPort] = createPortPair({ serialize });
      serveSession(serverPort, { serverName: 's', handlers: {}, helloTimeoutMs: 10 });
      const peer = new Peer(raw);
      expect(await peer.waitFor((m) => m.t === 'error')).toMatchObject({ error: { code: 'TIMEOUT' } });
      await settle();
      expect(raw.closed).toBe(true);
    });

    it('times out a handshake nobody answers', async () => {
      const [clientPort] = createPortPair({ serialize });
      const client = new ProtocolClient(clientPort, { connectTimeoutMs: 20 });
      expect((await rejection(client.connect({ client: 'c' }))).code).toBe('TIMEOUT');
    });

    it('refuses calls before connect', async () => {
      const [clientPort] = createPortPair({ serialize });
      const client = new ProtocolClient(clientPort);
      expect((await rejection(client.call('time.get', {}))).code).toBe('UNAVAILABLE');
    });
  });

  describe('calls', () => {
    it('round-trips a typed result', async () => {
      const { client } = await connected(serialize, {
        handlers: { 'quote.get': ({ symbol }) => quote(symbol), 'time.get': () => ({ ts: TS }) },
      });
      const q = await client.call('quote.get', { symbol: 'ACME' });
      expectTypeOf(q).toEqualTypeOf<ResultOf<'quote.get'>>();
      expectTypeOf(q.bid).toEqualTypeOf<number | null>();
      expect(q).toEqual(quote('ACME'));
      const t = await client.call('time.get');
      expect(t.ts).toBe(TS);
    });

    it('types params from the table', async () => {
      const { client } = await connected(serialize, { handlers: { 'quote.get': ({ symbol }) => quote(symbol) } });
      // @ts-expect-error quote.get needs a symbol
      expect((await rejection(client.call('quote.get'))).code).toBe('BAD_REQUEST');
      // @ts-expect-error qty must be a number
      const bad = client.call('order.replace', { orderId: 1, qty: '5' });
      expect((await rejection(bad)).code).toBe('BAD_REQUEST');
      expect((await rejection(client.call('order.replace', { orderId: 1 }))).details?.issues).toBeDefined();
    });

    it('applies defaults before the handler sees the params', async () => {
      let seen: HandlerParamsOf<'depth.get'> | undefined;
      const { client } = await connected(serialize, {
        handlers: {
          'depth.get': (p) => {
            seen = p;
            return { symbol: p.symbol, bids: [{ price: 99, qty: 5, orders: 1 }], asks: [] };
          },
        },
      });
      const d = await client.call('depth.get', { symbol: 'ACME' });
      expect(seen).toEqual({ symbol: 'ACME', levels: 10 });
      expect(d.bids[0]).toEqual({ price: 99, qty: 5, orders: 1 });
    });

    it('rejects bad params locally with BAD_REQUEST and the session stays usable', async () => {
      let calls = 0;
      const { client } = await connected(serialize, {
        handlers: {
          'quote.get': ({ symbol }) => {
            calls++;
            return quote(symbol);
          },
        },
      });
      const e = await rejection(client.call('quote.get', { symbol: 'lower case!' }));
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.details?.issues).toEqual([expect.objectContaining({ path: ['symbol'] })]);
      // the account always comes from the session: an accountId param is refused
      // @ts-expect-error accountId is not a parameter
      expect((await rejection(client.call('account.get', { accountId: 9 }))).code).toBe('BAD_REQUEST');
      expect(calls).toBe(0);
      expect(await client.call('quote.get', { symbol: 'ACME' })).toEqual(quote('ACME'));
    });

    it('answers bad params from a raw peer with BAD_REQUEST details and keeps the session', async () => {
      const { peer } = await rawSession(serialize, { handlers: { 'quote.get': ({ symbol }) => quote(symbol) } });
      peer.send({ t: 'req', id: 1, method: 'quote.get', params: { symbol: 42 } });
      peer.send({ t: 'req', id: 2, method: 'order.replace', params: { orderId: 1 } });
      peer.send({ t: 'req', id: 3, method: 'quote.get', params: { symbol: 'ACME' } });
      const r1 = await peer.waitFor((m) => m.t === 'res' && m.id === 1);
      expect(r1).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', details: { method: 'quote.get' } } });
      expect((r1.error as { details: { issues: unknown[] } }).details.issues[0]).toMatchObject({ path: ['symbol'] });
      expect(await peer.waitFor((m) => m.t === 'res' && m.id === 2)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(await peer.waitFor((m) => m.t === 'res' && m.id === 3)).toMatchObject({ ok: true, result: { symbol: 'ACME' } });
    });

    it('answers unknown methods with UNKNOWN_METHOD', async () => {
      const { peer } = await rawSession(serialize, { handlers: {} });
      peer.send({ t: 'req', id: 1, method: 'no.such', params: {} });
      peer.send({ t: 'req', id: 2, method: '__proto__', params: {} });
      peer.send({ t: 'req', id: 3, method: 'time.get', params: {} }); // in the table, not implemented here
      for (const id of [1, 2, 3]) {
        expect(await peer.waitFor((m) => m.t === 'res' && m.id === id)).toMatchObject({
          ok: false,
          error: { code: 'UNKNOWN_METHOD' },
        });
      }
      const { client } = await connected(serialize);
      const e = await rejection((client.call as (m: string, p: unknown) => Promise<unknown>)('no.such', {}));
      expect(e.code).toBe('UNKNOWN_METHOD');
    });

    it('enforces access levels', async () => {
      const handlers = {
        'order.place': () => orderRecord(1),
        'quote.get': ({ symbol }: { symbol: string }) => quote(symbol),
        'account.get': () => {
          throw new ProtocolError('UNKNOWN_ACCOUNT');
        },
      };
      const viewer = await connected(serialize, { handlers, session: { userId: 'v', accountId: 1, role: 'viewer' } });
      const spec = { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 100, price: 10_000, tif: 'day' } as const;
      const denied = await rejection(viewer.client.call('order.place', spec));
      expect(denied.code).toBe('FORBIDDEN');
      expect(denied.details).toEqual({ required: 'trader' });
      expect(await viewer.client.call('quote.get', { symbol: 'ACME' })).toEqual(quote('ACME'));

      const anon = await connected(serialize, { handlers, session: {} });
      expect((await rejection(anon.client.call('account.get'))).code).toBe('UNAUTHENTICATED');
      expect(await anon.client.call('quote.get', { symbol: 'ACME' })).toEqual(quote('ACME'));

      const trader = await connected(serialize, { handlers, session: { userId: 't', accountId: 1, role: 'trader' } });
      expect(await trader.client.call('order.place', spec)).toEqual(orderRecord(1));
      expect((await rejection(trader.client.call('admin.account.fund', { accountId: 1, amount: 5 }))).code).toBe('FORBIDDEN');

      const custom = await connected(serialize, { handlers, checkAccess: (access) => access !== 'public' });
      expect((await rejection(custom.client.call('quote.get', { symbol: 'ACME' }))).code).toBe('FORBIDDEN');
    });

    it('maps a thrown ProtocolError to its reply and anything else to INTERNAL', async () => {
      const secret = new Error('db password is hunter2');
      const { client, internalErrors } = await connected(serialize, {
        handlers: {
          'order.cancel': async ({ orderId }) => {
            throw new ProtocolError('UNKNOWN_ORDER', `No order ${orderId}`, { orderId });
          },
          'order.get': () => {
            throw secret;
          },
          'time.get': () => ({ ts: TS }),
        },
      });
      const e1 = await rejection(client.call('order.cancel', { orderId: 5 }));
      expect(e1.toShape()).toEqual({ code: 'UNKNOWN_ORDER', message: 'No order 5', details: { orderId: 5 } });
      const e2 = await rejection(client.call('order.get', { orderId: 5 }));
      expect(e2.code).toBe('INTERNAL');
      expect(e2.message).not.toContain('hunter2');
      expect(JSON.stringify(e2.toShape())).not.toContain('hunter2');
      expect(internalErrors).toEqual([secret]);
      expect(await client.call('time.get')).toEqual({ ts: TS });
    });

    it('never hands out a result that does not match its schema', async () => {
      const { client } = await connected(serialize, {
        handlers: {
          'quote.get': () => ({ ...quote('ACME'), bid: 1.5 }),
          'time.get': () => ({ ts: 'now' }) as unknown as { ts: number },
        },
      });
      const e = await rejection(client.call('quote.get', { symbol: 'ACME' }));
      expect(e.code).toBe('INTERNAL');
      expect(e.details?.method).toBe('quote.get');
      expect((await rejection(client.call('time.get'))).code).toBe('INTERNAL');
    });

    it('with validateOutgoing, the server catches its own bad result', async () => {
      const { client, internalErrors } = await connected(serialize, {
        validateOutgoing: true,
        handlers: { 'time.get': () => ({ ts: -1 }) },
      });
      expect((await rejection(client.call('time.get'))).code).toBe('INTERNAL');
      expect(internalErrors).toHaveLength(1);
    });

    it('times out a call that gets no reply, and ignores the late reply', async () => {
      let release!: (v: { ts: number }) => void;
      const { client } = await connected(serialize, {
        handlers: { 'time.get': () => new Promise((r) => (release = r)) },
        clientOptions: { timeoutMs: 30 },
      });
      const started = Date.now();
      const e = await rejection(client.call('time.get'));
      expect(e.code).toBe('TIMEOUT');
      expect(Date.now() - started).toBeLessThan(1000);
      release({ ts: TS });
      await settle();
      const e2 = await rejection(client.call('time.get', {}, { timeoutMs: 10 }));
      expect(e2.code).toBe('TIMEOUT');
    });

    it('rejects pending calls with UNAVAILABLE when the port closes', async () => {
      const { client, server } = await connected(serialize, {
        handlers: { 'time.get': () => new Promise(() => {}) },
      });
      const closes: unknown[] = [];
      client.onClose((i) => closes.push(i));
      const pending = [client.call('time.get'), client.call('time.get')];
      await settle();
      server.close(4001, 'maintenance');
      for (const p of pending) {
        const e = await rejection(p);
        expect(e.code).toBe('UNAVAILABLE');
        expect(e.details).toMatchObject({ closeCode: 4001, closeReason: 'maintenance' });
      }
      expect(closes).toEqual([{ code: 4001, reason: 'maintenance' }]);
      expect(client.state).toBe('closed');
      expect((await rejection(client.call('time.get'))).code).toBe('UNAVAILABLE');
    });
  });

  describe('subscriptions', () => {
    /** A quotes channel the test drives by hand. */
    function quotesChannel() {
      const sinks: PushSink<'quotes'>[] = [];
      let stops = 0;
      const channels = {
        quotes: (p: { symbols: string[] }, _ctx: unknown, sink: PushSink<'quotes'>) => {
          sinks.push(sink);
          for (const s of p.symbols) sink.push(quote(s)); // snapshot, pushed before the res is sent
          return () => {
            stops++;
          };
        },
      };
      return { channels, sinks, stops: () => stops };
    }

    it('numbers pushes 1, 2, 3 after the confirming res, and unsubscribe stops them', async () => {
      const q = quotesChannel();
      const { peer } = await rawSession(serialize, { channels: q.channels });
      peer.send({ t: 'sub', id: 1, channel: 'quotes', params: { symbols: ['AAA', 'BBB'] } });
      const res = await peer.waitFor((m) => m.t === 'res' && m.id === 1);
      expect(res).toMatchObject({ ok: true, result: { sub: expect.any(Number) } });
      const sub = (res.result as { sub: number }).sub;
      q.sinks[0]!.push(quote('AAA', 10_050));
      await settle();
      const resIndex = peer.received.indexOf(res);
      const pushes = peer.all('push');
      expect(pushes.map((p) => p.seq)).toEqual([1, 2, 3]);
      expect(pushes.every((p) => p.sub === sub && peer.received.indexOf(p) > resIndex)).toBe(true);
      expect(pushes.map((p) => (p.data as Quote).symbol)).toEqual(['AAA', 'BBB', 'AAA']);

      peer.send({ t: 'unsub', id: 2, sub });
      expect(await peer.waitFor((m) => m.t === 'res' && m.id === 2)).toMatchObject({ ok: true });
      expect(q.stops()).toBe(1);
      expect(q.sinks[0]!.active).toBe(false);
      q.sinks[0]!.push(quote('AAA'));
      await settle();
      expect(peer.all('push')).toHaveLength(3);
      // unsubscribing again is harmless
      peer.send({ t: 'unsub', id: 3, sub });
      expect(await peer.waitFor((m) => m.t === 'res' && m.id === 3)).toMatchObject({ ok: true });
      expect(q.stops()).toBe(1);
    });

    it('delivers typed, validated pushes to the client and stops on unsubscribe', async () => {
      const q = quotesChannel();
      const { client } = await connected(serialize, { channels: q.channels });
      const got: ChannelData<'quotes'>[] = [];
      const sub = await client.subscribe('quotes', { symbols: ['AAA'] }, { data: (d) => got.push(d) });
      q.sinks[0]!.push(quote('AAA', 10_010));
      await settle();
      expect(got.map((d) => d.last)).toEqual([10_000, 10_010]);
      expect(sub.active).toBe(true);
      await sub.unsubscribe();
      expect(sub.active).toBe(false);
      expect(q.stops()).toBe(1);
      q.sinks[0]!.push(quote('AAA', 10_020));
      await settle();
      expect(got).toHaveLength(2);
      await sub.unsubscribe(); // twice is fine
    });

    it('refuses bad subscriptions like calls', async () => {
      const q = quotesChannel();
      const { client } = await connected(serialize, {
        channels: {
          ...q.channels,
          depth: () => {
            throw new ProtocolError('UNKNOWN_SYMBOL');
          },
        },
        session: { userId: 'x' },
      });
      const data = () => {};
      expect((await rejection(client.subscribe('quotes', { symbols: [] }, { data }))).code).toBe('BAD_REQUEST');
      expect((await rejection(client.subscribe('depth', { symbol: 'ZZZ' }, { data }))).code).toBe('UNKNOWN_SYMBOL');
      expect((await rejection(client.subscribe('orders', {}, { data }))).code).toBe('FORBIDDEN');
      expect((await rejection(client.subscribe('trades', { symbol: 'AAA' }, { data }))).code).toBe('UNKNOWN_METHOD');
    });

    it('detects a sequence gap, reports RESYNC_REQUIRED and re-subscribes once', async () => {
      const [clientPort, raw] = createPortPair({ serialize });
      const server = new Peer(raw);
      const client = new ProtocolClient(clientPort);
      const connecting = client.connect({ client: 'c' });
      await server.waitFor((m) => m.t === 'hello');
      server.send({ t: 'welcome', v: 1, server: 'raw' });
      await connecting;

      const got: string[] = [];
      const errors: ProtocolError[] = [];
      let resubscribed = 0;
      const subscribing = client.subscribe(
        'quotes',
        { symbols: ['AAA'] },
        { data: (q) => got.push(`${q.symbol}@${q.last}`), error: (e) => errors.push(e), resubscribed: () => resubscribed++ },
      );
      const sub1 = await server.waitFor((m) => m.t === 'sub');
      server.send({ t: 'res', id: sub1.id, ok: true, result: { sub: 41 } });
      server.send({ t: 'push', sub: 41, seq: 1, data: quote('AAA', 100) });
      server.send({ t: 'push', sub: 41, seq: 3, data: quote('AAA', 300) }); // #2 went missing
      server.send({ t: 'push', sub: 41, seq: 4, data: quote('AAA', 400) }); // the old stream is dropped
      const subscription = await subscribing;

      const unsub = await server.waitFor((m) => m.t === 'unsub');
      expect(unsub.sub).toBe(41);
      const sub2 = await server.waitFor((m) => m.t === 'sub' && m.id !== sub1.id);
      expect(sub2).toMatchObject({ channel: 'quotes', params: { symbols: ['AAA'] } });
      expect(errors.map((e) => e.code)).toEqual(['RESYNC_REQUIRED']);
      expect(errors[0]!.details).toMatchObject({ expected: 2, got: 3 });

      server.send({ t: 'res', id: sub2.id, ok: true, result: { sub: 42 } });
      server.send({ t: 'push', sub: 42, seq: 1, data: quote('AAA', 500) });
      server.send({ t: 'push', sub: 41, seq: 5, data: quote('AAA', 999) }); // stale stream: ignored
      server.send({ t: 'push', sub: 42, seq: 2, data: quote('AAA', 600) });
      await settle();
      expect(got).toEqual(['AAA@100', 'AAA@500', 'AAA@600']);
      expect(resubscribed).toBe(1);
      expect(subscription.active).toBe(true);

      // the server ends the new stream for being too slow: also a resync
      server.send({ t: 'end', sub: 42, error: { code: 'RESYNC_REQUIRED', message: 'behind' } });
      const sub3 = await server.waitFor((m) => m.t === 'sub' && m.id !== sub1.id && m.id !== sub2.id);
      // ... and this time the re-subscribe fails: the subscription is over
      server.send({ t: 'res', id: sub3.id, ok: false, error: { code: 'UNAVAILABLE', message: 'down' } });
      await settle();
      expect(errors.map((e) => e.code)).toEqual(['RESYNC_REQUIRED', 'RESYNC_REQUIRED', 'UNAVAILABLE']);
      expect(subscription.active).toBe(false);
      expect(server.all('sub')).toHaveLength(3);
    });

    it('ends a subscription when the server sends end, and on close', async () => {
      const sinks: PushSink<'orders'>[] = [];
      let stops = 0;
      const { client, server } = await connected(serialize, {
        channels: {
          orders: (_p, _ctx, sink) => {
            sinks.push(sink);
            return () => stops++;
          },
        },
      });
      const errors: string[] = [];
      const got: OrderRecord[] = [];
      const a = await client.subscribe('orders', {}, { data: (o) => got.push(o), error: (e) => errors.push(e.code) });
      const b = await client.subscribe('orders', {}, { data: (o) => got.push(o), error: (e) => errors.push(`b:${e.code}`) });
      sinks[0]!.push(orderRecord(1, { status: 'filled', filledQty: 100, leaves: 0, avgFillPrice: 10_000 }));
      sinks[0]!.end(new ProtocolError('SESSION_REVOKED'));
      sinks[0]!.push(orderRecord(2));
      await settle();
      expect(got.map((o) => o.orderId)).toEqual([1]);
      expect(errors).toEqual(['SESSION_REVOKED']);
      expect(a.active).toBe(false);
      expect(stops).toBe(1);
      server.close();
      await settle();
      expect(errors).toEqual(['SESSION_REVOKED', 'b:UNAVAILABLE']);
      expect(b.active).toBe(false);
      expect(stops).toBe(2);
    });

    it('conflates market data for a slow consumer (latest value per key wins, no seq gaps)', async () => {
      let congested = false;
      const drains = new Set<() => void>();
      const q = quotesChannel();
      const { client, server } = await connected(serialize, {
        channels: q.channels,
        flow: { congested: () => congested, onDrain: (cb) => (drains.add(cb), () => drains.delete(cb)) },
      });
      const got: string[] = [];
      const errors: unknown[] = [];
      await client.subscribe('quotes', { symbols: ['AAA', 'BBB'] }, { data: (d) => got.push(`${d.symbol}@${d.last}`), error: (e) => errors.push(e) });
      await settle();
      congested = true;
      const sink = q.sinks[0]!;
      sink.push(quote('AAA', 101));
      sink.push(quote('BBB', 201));
      sink.push(quote('AAA', 102));
      sink.push(quote('AAA', 103));
      await settle();
      expect(got).toEqual(['AAA@10000', 'BBB@10000']);
      congested = false;
      for (const cb of drains) cb();
      await settle();
      expect(got).toEqual(['AAA@10000', 'BBB@10000', 'AAA@103', 'BBB@201']);
      expect(errors).toEqual([]);
      expect(server.closed).toBe(false);
    });

    it('never drops private pushes silently: a consumer too far behind gets RESYNC_REQUIRED and a fresh stream', async () => {
      let congested = false;
      const sinks: PushSink<'executions'>[] = [];
      const { client, server } = await connected(serialize, {
        channels: {
          executions: (_p, _ctx, sink) => {
            sinks.push(sink);
            return () => {};
          },
        },
        maxPendingPushes: 3,
        flow: { congested: () => congested, onDrain: () => () => {} },
      });
      const exec = (tradeId: number) => ({
        tradeId,
        orderId: 1,
        symbol: 'ACME',
        side: 'buy' as const,
        price: 100,
        qty: 1,
        liquidity: 'taker' as const,
        ts: TS,
      });
      const got: number[] = [];
      const errors: string[] = [];
      let resubscribed = 0;
      await client.subscribe('executions', {}, {
        data: (e) => got.push(e.tradeId),
        error: (e) => errors.push(e.code),
        resubscribed: () => resubscribed++,
      });
      congested = true;
      for (let i = 1; i <= 3; i++) sinks[0]!.push(exec(i));
      congested = false;
      server.flush();
      await settle();
      expect(got).toEqual([1, 2, 3]); // queued in order, nothing lost
      congested = true;
      for (let i = 4; i <= 7; i++) sinks[0]!.push(exec(i)); // the 4th queued push is one too many
      congested = false;
      await settle();
      expect(errors).toEqual(['RESYNC_REQUIRED']);
      expect(sinks).toHaveLength(2);
      expect(sinks[0]!.active).toBe(false);
      expect(resubscribed).toBe(1);
      sinks[1]!.push(exec(8));
      await settle();
      expect(got).toEqual([1, 2, 3, 8]);
    });

    it('a snapshot larger than maxPendingPushes starts whole; the bound then counts pushes beyond it', async () => {
      let congested = false;
      const sinks: PushSink<'executions'>[] = [];
      const exec = (tradeId: number) => ({ tradeId, orderId: 1, symbol: 'ACME', side: 'buy' as const, price: 100, qty: 1, liquidity: 'taker' as const, ts: TS });
      const { client, server } = await connected(serialize, {
        channels: {
          executions: (_p, _ctx, sink) => {
            sinks.push(sink);
            // a snapshot of 10 with a bound of 3 (every user of a firm to an admin, every instrument)
            for (let i = 1; i <= 10; i++) sink.push(exec(i));
            return () => {};
          },
        },
        maxPendingPushes: 3,
        flow: { congested: () => congested, onDrain: () => () => {} },
      });
      const got: number[] = [];
      const errors: string[] = [];
      // the consumer is behind while it subscribes: the snapshot waits whole, then three more may
      congested = true;
      const sub = client.subscribe('executions', {}, { data: (e) => got.push(e.tradeId), error: (e) => errors.push(e.code) });
      await settle();
      for (let i = 11; i <= 13; i++) sinks[0]!.push(exec(i));
      congested = false;
      server.flush();
      await sub;
      await settle();
      expect(errors).toEqual([]);
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
      expect(sinks).toHaveLength(1);
      // once the snapshot is sent, the bound is 3 again: a 4th queued push ends the stream
      congested = true;
      for (let i = 14; i <= 16; i++) sinks[0]!.push(exec(i));
      await settle();
      expect(errors).toEqual([]);
      sinks[0]!.push(exec(17));
      congested = false;
      await settle();
      expect(errors).toEqual(['RESYNC_REQUIRED']);
    });

    it('supports async channel handlers and end() during start (res first, then end)', async () => {
      let stops = 0;
      const { client } = await connected(serialize, {
        channels: {
          index: async (p, _ctx, sink) => {
            await settle(1);
            sink.push({ name: p.name, value: 100_00, baseValue: 100_00, previousClose: 99_00, constituents: [] });
            return () => stops++;
          },
          trades: (_p, _ctx, sink) => {
            sink.end(new ProtocolError('MARKET_HALTED'));
            return () => stops++;
          },
        },
      });
      const values: number[] = [];
      await client.subscribe('index', { name: 'TDX' }, { data: (d) => values.push(d.value) });
      await settle();
      expect(values).toEqual([100_00]);
      const errors: string[] = [];
      const t = await client.subscribe('trades', { symbol: 'ACME' }, { data: () => {}, error: (e) => errors.push(e.code) });
      await settle();
      expect(errors).toEqual(['MARKET_HALTED']);
      expect(t.active).toBe(false);
      expect(stops).toBe(1);
    });

    it('unsubscribes from a subscription whose confirmation came after the caller gave up', async () => {
      const [clientPort, raw] = createPortPair({ serialize });
      const server = new Peer(raw);
      const client = new ProtocolClient(clientPort);
      const connecting = client.connect({ client: 'c' });
      await server.waitFor((m) => m.t === 'hello');
      server.send({ t: 'welcome', v: 1, server: 'raw' });
      await connecting;
      const e = await rejection(client.subscribe('quotes', { symbols: ['AAA'] }, { data: () => {} }, { timeoutMs: 10 }));
      expect(e.code).toBe('TIMEOUT');
      const sub = await server.waitFor((m) => m.t === 'sub');
      server.send({ t: 'res', id: sub.id, ok: true, result: { sub: 9 } });
      expect(await server.waitFor((m) => m.t === 'unsub')).toMatchObject({ sub: 9 });
    });

    it('stops every subscription when the session closes', async () => {
      const q = quotesChannel();
      const { client, clientPort } = await connected(serialize, { channels: q.channels });
      await client.subscribe('quotes', { symbols: ['AAA'] }, { data: () => {} });
      await client.subscribe('quotes', { symbols: ['BBB'] }, { data: () => {} });
      clientPort.close();
      await settle();
      expect(q.stops()).toBe(2);
      expect(q.sinks.every((s) => !s.active)).toBe(true);
    });
  });
});
