import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProtocolError } from '../../engine/protocol/index.js';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { canonicalJson } from '../src/http/api.js';
import { createLogger } from '../src/log.js';
import { api, PASSWORD, createUser, fund, listInstrument, rpc, setupAdmin, sleep, watch, wsClient, SPEC, type Session, type TestServer, startServer } from './helpers.js';
import type { Json } from './helpers.js';

// An fsync of one descriptor (the venue's journal) can be made to fail; every other fsync is the real one.
const ctl = vi.hoisted(() => ({ failFd: undefined as number | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const fsync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
    if (fd !== ctl.failFd) return real.fsync(fd, cb);
    setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
  };
  return { ...real, default: { ...real, fsync }, fsync };
});
afterEach(() => {
  ctl.failFd = undefined;
});

let s: TestServer;
let admin: Session;
let alice: Session;
let bob: Session;
let viewer: Session;

beforeAll(async () => {
  s = await startServer({ allowShort: true, ws: { quoteIntervalMs: 20 } as never });
  admin = await setupAdmin(s);
  alice = await createUser(s, admin, 'alice', 'trader');
  bob = await createUser(s, admin, 'bob', 'trader');
  viewer = await createUser(s, admin, 'vera', 'viewer');
  await listInstrument(s, admin);
  await listInstrument(s, admin, { ...SPEC, symbol: 'BOLT', name: 'Bolt Industries' });
  await fund(s, admin, alice.user.accountId!);
  await fund(s, admin, bob.user.accountId!);
  const seed = await rpc(s, 'admin.account.fund', { accountId: viewer.user.accountId!, amount: 1000 }, admin.accessToken);
  expect(seed.status).toBe(200);
});
afterAll(() => s.stop());

const limit = (side: 'buy' | 'sell', price: number, qty = 10, symbol = 'ACME') => ({ symbol, side, orderType: 'limit' as const, qty, price, tif: 'gtc' as const });

describe('orders over REST', () => {
  it('place, get, replace, cancel, list with filters and paging', async () => {
    const p = await rpc(s, 'order.place', limit('buy', 9_900), alice.accessToken);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ symbol: 'ACME', side: 'buy', status: 'working', qty: 10, leaves: 10, accountId: alice.user.accountId });
    const id = p.body.orderId;
    expect((await rpc(s, 'order.get', { orderId: id }, alice.accessToken)).body.orderId).toBe(id);
    const get = await api(s.url, 'GET', `/api/v1/rpc/order.get?orderId=${id}`, { token: alice.accessToken });
    expect(get.status).toBe(200);
    const rep = await rpc(s, 'order.replace', { orderId: id, price: 9_950, qty: 20 }, alice.accessToken);
    expect(rep.status).toBe(200);
    expect(rep.body).toMatchObject({ price: 9_950, qty: 20 });
    for (let i = 0; i < 4; i++) await rpc(s, 'order.place', limit('buy', 9_800 - i, 1, 'BOLT'), alice.accessToken);
    const page1 = await rpc(s, 'orders.list', { status: 'open', limit: 3 }, alice.accessToken);
    expect(page1.body.items).toHaveLength(3);
    expect(page1.body.nextCursor).toBeTruthy();
    const page2 = await rpc(s, 'orders.list', { status: 'open', limit: 3, cursor: page1.body.nextCursor }, alice.accessToken);
    expect(page2.body.items).toHaveLength(2);
    const bolt = await api(s.url, 'GET', '/api/v1/rpc/orders.list?symbol=BOLT&status=open', { token: alice.accessToken });
    expect(bolt.body.items).toHaveLength(4);
    const c = await rpc(s, 'order.cancel', { orderId: id }, alice.accessToken);
    expect(c.body.status).toBe('canceled');
    expect((await rpc(s, 'orders.list', { status: 'canceled' }, alice.accessToken)).body.items.map((o: { orderId: number }) => o.orderId)).toContain(id);
    const all = await rpc(s, 'order.cancelAll', { symbol: 'BOLT' }, alice.accessToken);
    expect(all.body).toEqual({ canceled: 4 });
  });

  it('engine rejections are 422 with the engine code; cancel of an unknown order is 404', async () => {
    const r = await rpc(s, 'order.place', { ...limit('buy', 9_900), qty: 10_000_000 }, alice.accessToken);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('INSUFFICIENT_FUNDS');
    expect(r.body.message).toEqual(expect.any(String));
    const band = await rpc(s, 'order.place', limit('buy', 50_000), alice.accessToken);
    expect(band.status).toBe(422);
    expect(band.body.code).toBe('PRICE_OUT_OF_BAND');
    const unk = await rpc(s, 'order.place', limit('buy', 9_900, 1, 'NOPE'), alice.accessToken);
    expect(unk.body.code).toBe('UNKNOWN_SYMBOL');
    const missing = await rpc(s, 'order.cancel', { orderId: 999_999 }, alice.accessToken);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it('trades: executions, positions, account, statistics, statement', async () => {
    await rpc(s, 'order.place', limit('sell', 10_000, 30), bob.accessToken);
    const buy = await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'market', qty: 30, tif: 'ioc' }, alice.accessToken);
    expect(buy.status).toBe(200);
    expect(buy.body.status).toBe('filled');
    expect(buy.body.avgFillPrice).toBe(10_000);
    const ex = await rpc(s, 'executions.list', {}, alice.accessToken);
    expect(ex.body.items[0]).toMatchObject({ symbol: 'ACME', side: 'buy', qty: 30, price: 10_000, liquidity: 'taker' });
    const pos = await rpc(s, 'positions.list', {}, alice.accessToken);
    expect(pos.body).toEqual([expect.objectContaining({ symbol: 'ACME', qty: 30 })]);
    const acct = await rpc(s, 'account.get', {}, alice.accessToken);
    expect(acct.body.positions[0].qty).toBe(30);
    const stats = await rpc(s, 'stats.get', { period: 'day' }, alice.accessToken);
    expect(stats.body[0]).toMatchObject({ trades: 1, buys: 1, volume: 30 });
    const st = await rpc(s, 'statement.get', {}, alice.accessToken);
    expect(st.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['deposit', 'trade']);
    // a body of null is no parameters over REST, as `params: null` is over WebSocket
    const none = await rpc(s, 'statement.get', null, alice.accessToken);
    expect(none.status).toBe(200);
    expect(none.body).toEqual(st.body);
  });

  it('market data: symbols and search, quotes, depth, trades, candles, time — public to guests', async () => {
    expect((await rpc(s, 'instruments.list', {})).body.map((i: { symbol: string }) => i.symbol).sort()).toEqual(['ACME', 'BOLT']);
    const search = await api(s.url, 'GET', '/api/v1/rpc/instruments.search?query=bolt');
    expect(search.body.map((i: { symbol: string }) => i.symbol)).toEqual(['BOLT']);
    expect((await rpc(s, 'instruments.search', { query: 'ac' })).body[0].symbol).toBe('ACME');
    const q = await api(s.url, 'GET', '/api/v1/rpc/quote.get?symbol=ACME');
    expect(q.body).toMatchObject({ symbol: 'ACME', last: 10_000 });
    const qs = await api(s.url, 'GET', '/api/v1/rpc/quotes.get?symbols=ACME&symbols=BOLT');
    expect(qs.body.map((x: { symbol: string }) => x.symbol)).toEqual(['ACME', 'BOLT']);
    const d = await rpc(s, 'depth.get', { symbol: 'ACME', levels: 5 });
    expect(d.body.symbol).toBe('ACME');
    const tr = await rpc(s, 'trades.recent', { symbol: 'ACME' });
    expect(tr.body[0]).toMatchObject({ price: 10_000, qty: 30, aggressor: 'buy' });
    expect(Object.keys(tr.body[0]).sort()).toEqual(['aggressor', 'price', 'qty', 'symbol', 'tradeId', 'ts']);
    const cd = await rpc(s, 'candles.get', { symbol: 'ACME', timeframe: '1m' });
    expect(cd.body.at(-1)).toMatchObject({ c: 10_000, v: 30 });
    expect((await rpc(s, 'time.get', {})).body.ts).toBeGreaterThan(0);
    expect((await rpc(s, 'index.get', { name: 'NOPE' })).status).toBe(404);
  });
});

describe('authorization', () => {
  it("a trader can neither see nor cancel nor replace another's orders", async () => {
    const mine = (await rpc(s, 'order.place', limit('buy', 9_000), alice.accessToken)).body.orderId;
    for (const [m, p] of [
      ['order.get', { orderId: mine }],
      ['order.cancel', { orderId: mine }],
      ['order.replace', { orderId: mine, qty: 5 }],
    ] as const) {
      const r = await rpc(s, m, p, bob.accessToken);
      expect(r.status, m).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
    }
    const list = await rpc(s, 'orders.list', { status: 'all', limit: 500 }, bob.accessToken);
    expect(list.body.items.every((o: { accountId: number }) => o.accountId === bob.user.accountId)).toBe(true);
    // accountId is never a parameter: a stray one is a schema error, not a way in
    const sneaky = await rpc(s, 'orders.list', { accountId: alice.user.accountId }, bob.accessToken);
    expect(sneaky.status).toBe(400);
    expect((await rpc(s, 'order.get', { orderId: mine }, alice.accessToken)).status).toBe(200);
  });

  it('a viewer reads its own account but cannot trade', async () => {
    expect((await rpc(s, 'account.get', {}, viewer.accessToken)).status).toBe(200);
    const r = await rpc(s, 'order.place', limit('buy', 9_900, 1), viewer.accessToken);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ code: 'FORBIDDEN', details: { required: 'trader' } });
    expect((await rpc(s, 'order.cancelAll', {}, viewer.accessToken)).status).toBe(403);
  });

  it('a guest sees only public market data', async () => {
    expect((await rpc(s, 'quote.get', { symbol: 'ACME' })).status).toBe(200);
    for (const m of ['account.get', 'orders.list', 'positions.list', 'executions.list']) {
      const r = await rpc(s, m, {});
      expect(r.status, m).toBe(401);
      expect(r.body.code).toBe('UNAUTHENTICATED');
    }
    expect((await rpc(s, 'order.place', limit('buy', 9_900, 1))).status).toBe(401);
    expect((await api(s.url, 'GET', '/api/v1/auth/me')).status).toBe(401);
  });

  it('non-admins cannot use admin methods or routes', async () => {
    expect((await rpc(s, 'admin.account.fund', { accountId: bob.user.accountId, amount: 1 }, alice.accessToken)).status).toBe(403);
    expect((await api(s.url, 'GET', '/api/v1/admin/users', { token: alice.accessToken })).status).toBe(403);
    expect((await api(s.url, 'GET', '/api/v1/admin/audit', { token: viewer.accessToken })).status).toBe(403);
  });
});

describe('idempotency', () => {
  it('same key + same body gives the original response; different body gives 409', async () => {
    const key = { 'Idempotency-Key': 'order-abc-1' };
    const body = limit('buy', 9_500, 3);
    const a = await rpc(s, 'order.place', body, alice.accessToken, key);
    expect(a.status).toBe(200);
    const b = await rpc(s, 'order.place', { tif: 'gtc', price: 9_500, qty: 3, orderType: 'limit', side: 'buy', symbol: 'ACME' }, alice.accessToken, key);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const open = await rpc(s, 'orders.list', { status: 'open', symbol: 'ACME', limit: 500 }, alice.accessToken);
    expect(open.body.items.filter((o: { price: number }) => o.price === 9_500)).toHaveLength(1);
    const c = await rpc(s, 'order.place', { ...body, qty: 4 }, alice.accessToken, key);
    expect(c.status).toBe(409);
    expect(c.body.code).toBe('IDEMPOTENCY_CONFLICT');
    // keys are per user: bob may use the same key
    expect((await rpc(s, 'order.place', body, bob.accessToken, key)).status).toBe(200);
    // rejections are outcomes too: replayed, not re-run
    const k2 = { 'Idempotency-Key': 'order-abc-2' };
    const r1 = await rpc(s, 'order.place', { ...body, qty: 10_000_000 }, alice.accessToken, k2);
    const r2 = await rpc(s, 'order.place', { ...body, qty: 10_000_000 }, alice.accessToken, k2);
    expect([r1.status, r2.status]).toEqual([422, 422]);
    expect(r2.body).toEqual(r1.body);
    expect((await rpc(s, 'order.place', body, alice.accessToken, { 'Idempotency-Key': 'x'.repeat(300) })).status).toBe(400);
  });

  it('a request cut short by a restart of the server: a retry with its key is refused as of unknown outcome, not as still running', async () => {
    const t = await startServer();
    try {
      const admin = await setupAdmin(t);
      await listInstrument(t, admin);
      const tom = await createUser(t, admin, 'tom', 'trader');
      await fund(t, admin, tom.user.accountId!);
      const body = limit('buy', 9_000, 1);
      // what the server holds while a keyed request runs: a claim without an answer (as at a crash)
      t.app.store.idemClaim(tom.user.id, 'cut-short', createHash('sha256').update('order.place\n' + canonicalJson(body)).digest('hex'), Date.now());
      const running = await rpc(t, 'order.place', body, tom.accessToken, { 'Idempotency-Key': 'cut-short' });
      expect([running.status, running.body.code, running.headers.get('retry-after')]).toEqual([409, 'CONFLICT', '1']);
      await t.app.close();
      const again = await startServer({ db: t.app.config.db });
      try {
        const tok = (await api(again.url, 'POST', '/api/v1/auth/login', { body: { username: 'tom', password: PASSWORD } })).body.accessToken as string;
        const r = await rpc(again, 'order.place', body, tok, { 'Idempotency-Key': 'cut-short' });
        expect([r.status, r.body.code, r.headers.get('retry-after')]).toEqual([409, 'IDEMPOTENCY_UNKNOWN', null]);
        expect(r.body.message).toMatch(/cut short by a restart/);
        // nothing was placed; a new key places it
        expect((await rpc(again, 'orders.list', { limit: 10 }, tok)).body.items).toEqual([]);
        expect((await rpc(again, 'order.place', body, tok, { 'Idempotency-Key': 'cut-short-2' })).status).toBe(200);
      } finally {
        await again.stop();
      }
    } finally {
      await t.stop();
    }
  });
});

describe('a command journaled whose fsync failed', () => {
  it('is answered OUTCOME_UNKNOWN, not as failed: its Idempotency-Key is kept, so a retry with it never places the order again', async () => {
    const t = await startServer();
    try {
      const admin = await setupAdmin(t);
      await listInstrument(t, admin);
      const tom = await createUser(t, admin, 'tom', 'trader');
      await fund(t, admin, tom.user.accountId!);
      const body = limit('buy', 9_000, 3);
      const key = { 'Idempotency-Key': 'order-fsync-failed' };
      // the journal's fsync fails: the order is committed to the journal, but maybe not on the disk
      ctl.failFd = (t.app.venue as unknown as { walFd: number }).walFd;
      const first = await rpc(t, 'order.place', body, tom.accessToken, key);
      expect([first.status, first.body.code]).toEqual([500, 'OUTCOME_UNKNOWN']);
      const retry = await rpc(t, 'order.place', body, tom.accessToken, key);
      expect([retry.status, retry.body.code]).toEqual([409, 'IDEMPOTENCY_UNKNOWN']);
      ctl.failFd = undefined;
      await t.app.close();
      const again = await startServer({ db: t.app.config.db });
      try {
        const tok = (await api(again.url, 'POST', '/api/v1/auth/login', { body: { username: 'tom', password: PASSWORD } })).body.accessToken as string;
        const r = await rpc(again, 'order.place', body, tok, key);
        expect([r.status, r.body.code]).toEqual([409, 'IDEMPOTENCY_UNKNOWN']);
        // the process lived on, so the page cache kept the journal's frame: the order is there, once
        const open = (await rpc(again, 'orders.list', { status: 'open', limit: 10 }, tok)).body.items as Json[];
        expect(open.map((o) => o.qty)).toEqual([3]);
      } finally {
        await again.stop();
      }
    } finally {
      await t.stop();
    }
  });
});

describe('a damaged journal at start', () => {
  it('refuses to start; with --on-damaged-journal truncate it starts and logs what it set aside as an error', async () => {
    const t = await startServer();
    const db = t.app.config.db;
    try {
      const admin = await setupAdmin(t);
      await listInstrument(t, admin);
      await t.app.close();
      // the last frame damaged (and no snapshot covering it, so that recovery reads it)
      for (const [file, sql] of [
        [db, 'UPDATE journal SET crc = crc + 1 WHERE seq = (SELECT max(seq) FROM journal)'],
        [db, 'DELETE FROM snapshots'],
        [`${db}-history`, 'DELETE FROM snapshots'],
      ] as const) {
        const d = new Database(file);
        d.exec(sql);
        d.close();
      }
      await expect(startServer({ db })).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT' });
      const logs: { level: string; msg: string; discarded?: unknown[] }[] = [];
      const again = await startServer({ db, onDamagedJournal: 'truncate' }, { logger: createLogger('debug', (line) => void logs.push(JSON.parse(line) as (typeof logs)[number])) });
      await again.stop();
      const said = logs.filter((l) => l.msg.startsWith('venue journal: damaged frames were set aside'));
      expect(said.map((l) => [l.level, l.discarded?.length])).toEqual([['error', 1]]);
      expect(logs.some((l) => l.level === 'warn' && l.msg === 'venue history was re-derived from the journal')).toBe(true);
    } finally {
      await t.stop();
    }
  });
});

describe('price alerts', () => {
  it('stored by the venue, listed, triggered once by a trade and pushed over WebSocket on create, trigger and delete', async () => {
    const c = await rpc(s, 'alerts.create', { symbol: 'ACME', direction: 'above', price: 10_100 }, alice.accessToken);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ symbol: 'ACME', direction: 'above', price: 10_100, status: 'armed' });
    expect(c.body.triggeredAt).toBeUndefined();
    const below = await rpc(s, 'alerts.create', { symbol: 'ACME', direction: 'below', price: 5_000, note: 'crash' }, alice.accessToken);
    expect(below.body).toMatchObject({ note: 'crash', status: 'armed' });
    expect((await rpc(s, 'alerts.create', { symbol: 'NOPE', direction: 'below', price: 1 }, alice.accessToken)).body.code).toBe('UNKNOWN_SYMBOL');
    expect((await rpc(s, 'alerts.create', { symbol: 'ACME', direction: 'sideways', price: 1 }, alice.accessToken)).status).toBe(400);
    expect((await rpc(s, 'alerts.list', {})).status).toBe(401);
    expect((await rpc(s, 'alerts.list', {}, bob.accessToken)).body).toEqual([]); // alice's alerts are hers

    const { ws, client } = await wsClient(s, { token: alice.accessToken });
    const pushes: Json[] = [];
    let waiting: { n: number; resolve: () => void } | undefined;
    await client.subscribe('alerts', {}, {
      data: (a) => {
        pushes.push(a);
        if (waiting !== undefined && pushes.length >= waiting.n) waiting.resolve();
      },
    });
    const until = (n: number) => (pushes.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve })));
    await rpc(s, 'order.place', limit('sell', 10_100, 5), bob.accessToken);
    await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', price: 10_100, qty: 5, tif: 'ioc' }, alice.accessToken);
    await until(1);
    expect(pushes[0]).toMatchObject({ id: c.body.id, status: 'triggered', triggerPrice: 10_100 });
    const list = await rpc(s, 'alerts.list', {}, alice.accessToken);
    expect(list.body.map((a: Json) => a.id)).toEqual([below.body.id, c.body.id]); // newest first
    expect(list.body.find((a: { id: number }) => a.id === c.body.id)).toMatchObject({ status: 'triggered' });
    expect(list.body.find((a: { id: number }) => a.id === c.body.id).triggeredAt).toBeGreaterThan(0);
    expect(list.body.find((a: { id: number }) => a.id === below.body.id).triggeredAt).toBeUndefined();
    // another print at the level does not trigger it again
    await rpc(s, 'order.place', limit('sell', 10_100, 5), bob.accessToken);
    await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', price: 10_100, qty: 5, tif: 'ioc' }, alice.accessToken);
    expect((await rpc(s, 'alerts.delete', { id: below.body.id }, bob.accessToken)).body).toEqual({ deleted: false });
    expect((await rpc(s, 'alerts.delete', { id: below.body.id }, alice.accessToken)).body).toEqual({ deleted: true });
    const again = await rpc(s, 'alerts.create', { symbol: 'BOLT', direction: 'below', price: 9_000 }, alice.accessToken);
    await until(3);
    expect(pushes.slice(1)).toEqual([
      expect.objectContaining({ id: below.body.id, status: 'deleted' }),
      expect.objectContaining({ id: again.body.id, status: 'armed', symbol: 'BOLT' }),
    ]);
    expect(s.app.venue.alerts(alice.user.accountId!).map((a) => a.id)).toEqual([again.body.id, c.body.id]);
    ws.close();
  });
});

describe('trading over WebSocket', () => {
  it('acks after the journal, private streams and coalesced quotes', async () => {
    const { client } = await wsClient(s, { token: alice.accessToken });
    expect(client.session).toMatchObject({ userId: String(alice.user.id), accountId: alice.user.accountId, role: 'trader' });
    const orders: Json[] = [];
    const quotes: Json[] = [];
    await client.subscribe('orders', {}, { data: (o) => orders.push(o) });
    await client.subscribe('quotes', { symbols: ['BOLT'] }, { data: (q) => quotes.push(q) });
    const o = await client.call('order.place', limit('buy', 9_700, 2, 'BOLT'));
    expect(o.status).toBe('working');
    expect(s.app.venue.order(o.orderId)).toBeDefined(); // journaled before the ack
    for (let i = 0; i < 50 && (orders.length === 0 || quotes.length < 2); i++) await sleep(20);
    expect(orders[0]).toMatchObject({ orderId: o.orderId });
    expect(quotes[0].symbol).toBe('BOLT');
    expect(quotes.at(-1).bid).toBe(9_700);
    await expect(client.call('order.cancel', { orderId: 123_456 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.call('order.place', { ...limit('buy', 9_700, 2, 'BOLT'), qty: 10_000_000 })).rejects.toBeInstanceOf(ProtocolError);
    // the connection survived the errors
    expect((await client.call('time.get')).ts).toBeGreaterThan(0);
    client.close();
  });

  it('a viewer over WebSocket cannot trade; a guest cannot open private streams', async () => {
    const v = await wsClient(s, { token: viewer.accessToken });
    await expect(v.client.call('order.place', limit('buy', 9_700, 1))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await v.client.call('account.get')).accountId).toBe(viewer.user.accountId);
    v.client.close();
    const g = await wsClient(s, {});
    await expect(g.client.call('account.get')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(g.client.subscribe('orders', {}, { data: () => undefined })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await g.client.call('quote.get', { symbol: 'ACME' })).symbol).toBe('ACME');
    g.client.close();
  });

  it('instruments are live to everyone, guests included: a listing, a halt and a resume arrive as they happen', async () => {
    const g = await wsClient(s, {});
    const { seen, pushed: arrived } = await watch(g.client, 'instruments', {});
    // the current list first
    await arrived((i) => i.symbol === 'ACME');
    seen.length = 0;
    await listInstrument(s, admin, { ...SPEC, symbol: 'LIVE', name: 'Live Co' });
    expect(await arrived((i) => i.symbol === 'LIVE')).toMatchObject({ name: 'Live Co', status: 'open' });
    expect((await rpc(s, 'admin.instrument.setStatus', { symbol: 'LIVE', status: 'halted' }, admin.accessToken)).status).toBe(200);
    await arrived((i) => i.symbol === 'LIVE' && i.status === 'halted');
    expect((await rpc(s, 'order.place', limit('buy', 9_900, 1, 'LIVE'), alice.accessToken)).body.code).toBe('MARKET_HALTED');
    expect((await rpc(s, 'admin.instrument.setStatus', { symbol: 'LIVE', status: 'open' }, admin.accessToken)).status).toBe(200);
    await arrived((i) => i.symbol === 'LIVE' && i.status === 'open' && seen.indexOf(i) > 1);
    expect(seen.map((i) => `${i.symbol} ${i.status}`)).toEqual(['LIVE open', 'LIVE halted', 'LIVE open']);
    g.client.close();
  });
});

describe('market-data channels over WebSocket', () => {
  it('quotes, depth, candles and index are coalesced (latest wins); trades arrive one by one, in order', async () => {
    await s.app.venue.submit({ type: 'CreateIndex', name: 'TD2', baseValue: 100_000, constituents: [{ symbol: 'ACME', weightBps: 5000 }, { symbol: 'BOLT', weightBps: 5000 }] });
    const { client } = await wsClient(s, {});
    const got = { quotes: [] as Json[], depth: [] as Json[], trades: [] as Json[], candles: [] as Json[], index: [] as Json[] };
    await client.subscribe('quotes', { symbols: ['ACME'] }, { data: (q) => got.quotes.push(q) });
    await client.subscribe('depth', { symbol: 'ACME', levels: 3 }, { data: (d) => got.depth.push(d) });
    await client.subscribe('trades', { symbol: 'ACME' }, { data: (t) => got.trades.push(t) });
    await client.subscribe('candles', { symbol: 'ACME', timeframe: '1m' }, { data: (c) => got.candles.push(c) });
    await client.subscribe('index', { name: 'TD2' }, { data: (x) => got.index.push(x) });
    await expect(client.subscribe('quotes', { symbols: ['NOPE'] }, { data: () => undefined })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    const initial = { quotes: got.quotes.length, depth: got.depth.length, index: got.index.length };
    const lastTradeBefore = (await rpc(s, 'trades.recent', { symbol: 'ACME', limit: 1 })).body[0]?.tradeId ?? 0;
    expect(initial.quotes).toBe(1); // the current quote first
    // 20 trades as fast as possible: far more changes than 20 ms intervals
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await rpc(s, 'order.place', limit('sell', 10_000 + i, 1), bob.accessToken);
        await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', price: 10_000 + i, qty: 1, tif: 'ioc' }, alice.accessToken);
      }),
    );
    await sleep(150);
    const q = await rpc(s, 'quote.get', { symbol: 'ACME' });
    expect(got.quotes.at(-1)).toEqual(q.body); // latest wins
    // trades are never conflated: every print since the subscription, in order
    const prints = (await rpc(s, 'trades.recent', { symbol: 'ACME', limit: 100 })).body.filter((t: Json) => t.tradeId > lastTradeBefore).reverse();
    expect(prints.length).toBeGreaterThan(5);
    expect(got.trades).toEqual(prints);
    expect(got.quotes.length - initial.quotes).toBeLessThan(40);
    expect(got.depth.at(-1)).toEqual((await rpc(s, 'depth.get', { symbol: 'ACME', levels: 3 })).body);
    expect(got.candles.at(-1)).toEqual((await rpc(s, 'candles.get', { symbol: 'ACME', timeframe: '1m' })).body.at(-1));
    expect(got.index.at(-1)).toEqual((await rpc(s, 'index.get', { name: 'TD2' })).body);
    client.close();
  });
});
