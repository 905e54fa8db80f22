import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { connectWs } from '../src/ws/client-port.js';
import { api, closed, createUser, fund, listInstrument, setupAdmin, sleep, wsClient, type Session, type TestServer, startServer } from './helpers.js';
import type { Json } from './helpers.js';

let s: TestServer;
let trader: Session;

beforeAll(async () => {
  // (a large outgoing bound: this part is about pushes queued in the session, not replies left unread)
  s = await startServer({ ws: { maxPendingPushes: 5, highWaterBytes: 1024, maxBufferedBytes: 256 * 1024 * 1024, rate: 10_000, burst: 10_000 } as never });
  const admin = await setupAdmin(s);
  trader = await createUser(s, admin, 'slowpoke', 'trader');
  await listInstrument(s, admin);
  await fund(s, admin, trader.user.accountId!, 10_000_000_000);
});
afterAll(() => s.stop());

describe('slow consumer of a private stream', () => {
  it('is disconnected with a resync reason, never silently dropped', async () => {
    // Enough orders that one orders.list reply is large.
    const { client: fast } = await wsClient(s, { token: trader.accessToken });
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => fast.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + (i % 100), tif: 'gtc' })),
    );
    const slow = await connectWs(s.wsUrl, { token: trader.accessToken });
    const frames: Json[] = [];
    slow.on('message', (d) => frames.push(JSON.parse(d.toString())));
    slow.send(JSON.stringify({ t: 'hello', v: 1 }));
    slow.send(JSON.stringify({ t: 'sub', id: 1, channel: 'orders', params: {} }));
    await sleep(100);
    expect(frames.map((f) => f.t)).toEqual(['welcome', 'res']);
    // Stop reading, and ask for far more than the kernel buffers hold: the server's buffer backs up.
    const sock = (slow as unknown as { _socket: Socket })._socket;
    sock.pause();
    for (let i = 0; i < 120; i++) slow.send(JSON.stringify({ t: 'req', id: 100 + i, method: 'orders.list', params: { limit: 500 } }));
    await sleep(300);
    // Now private pushes queue in the session; more than maxPendingPushes ends the stream -> disconnect.
    const gone = closed(slow, 15_000);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => fast.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 8_000 + i, tif: 'gtc' })),
    );
    await sleep(100);
    sock.resume();
    const info = await gone;
    const end = frames.find((f) => f.t === 'end');
    expect(end).toMatchObject({ sub: expect.any(Number), error: { code: 'RESYNC_REQUIRED', details: { channel: 'orders' } } });
    expect(frames.find((f) => f.t === 'error')?.error.code).toBe('RESYNC_REQUIRED');
    expect(info.code === 4000 || info.code === 1006).toBe(true);
    const m = await api(s.url, 'GET', '/metrics');
    expect(m.body).toMatch(/tradedesk_ws_slow_consumer_disconnects_total 1/);
    fast.close();
  }, 30_000);
});

describe('a peer that reads nothing', () => {
  it('sending requests and reading none of the replies, is closed once the server holds maxBufferedBytes for it', async () => {
    const LIMIT = 512 * 1024;
    const t = await startServer({ ws: { maxBufferedBytes: LIMIT, rate: 10_000, burst: 10_000 } as never });
    try {
      const admin = await setupAdmin(t);
      const u = await createUser(t, admin, 'reader', 'trader');
      await listInstrument(t, admin);
      await fund(t, admin, u.user.accountId!, 10_000_000_000);
      const { client } = await wsClient(t, { token: u.accessToken });
      await Promise.all(Array.from({ length: 300 }, (_, i) => client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + (i % 100), tif: 'gtc' })));
      client.close();
      // the server's side of the connection, to watch what it holds
      const held: Socket[] = [];
      t.app.server.prependListener('upgrade', (_req, sock: Socket) => held.push(sock));
      const ws = await connectWs(t.wsUrl, { token: u.accessToken });
      const frames: Json[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
      ws.send(JSON.stringify({ t: 'hello', v: 1 }));
      await sleep(100);
      const sock = (ws as unknown as { _socket: Socket })._socket;
      sock.pause();
      const gone = closed(ws, 20_000);
      let most = 0;
      // pages of 300 orders (about 100 KB each) asked for and never read, a few at a time
      for (let i = 0; i < 400 && ws.readyState === ws.OPEN; i++) {
        ws.send(JSON.stringify({ t: 'req', id: 10 + i, method: 'orders.list', params: { limit: 300 } }));
        if (i % 8 === 7) {
          await sleep(20);
          most = Math.max(most, held[0]!.writableLength);
        }
      }
      await sleep(200);
      most = Math.max(most, held[0]?.destroyed === false ? held[0].writableLength : 0);
      sock.resume();
      const info = await gone;
      // held to the bound plus the batch of one turn (up to 8 pages of about 100 KB here; unbounded, the 400
      // pages asked for would be 40 MB), then closed with why
      expect(most).toBeLessThan(LIMIT + 1024 * 1024);
      expect(info.code === 4000 || info.code === 1006).toBe(true);
      const error = frames.find((f) => f.t === 'error');
      if (info.code === 4000) expect(error?.error).toMatchObject({ code: 'RESYNC_REQUIRED', details: { limit: LIMIT } });
      expect((await api(t.url, 'GET', '/metrics')).body).toMatch(/tradedesk_ws_slow_consumer_disconnects_total 1/);
    } finally {
      await t.stop();
    }
  }, 30_000);

  it('is cut off by the heartbeat even when it sends pongs of its own; a peer that reads stays', async () => {
    // (an interval long enough that a reader on a busy machine answers in time; the deaf one goes within two)
    const t = await startServer({ ws: { pingIntervalMs: 1_000 } as never });
    try {
      const { ws: reader } = await wsClient(t);
      const deaf = await connectWs(t.wsUrl, { origin: t.url });
      deaf.send(JSON.stringify({ t: 'hello', v: 1 }));
      await sleep(50);
      // reads nothing, and answers pings it never saw with pongs it makes up
      (deaf as unknown as { _socket: Socket })._socket.pause();
      const pongs = setInterval(() => deaf.pong(), 30);
      const gone = closed(deaf, 8_000);
      try {
        const info = await gone;
        expect(info.code).toBe(1006);
      } finally {
        clearInterval(pongs);
      }
      expect(reader.readyState).toBe(reader.OPEN);
      reader.close();
    } finally {
      await t.stop();
    }
  });
});
