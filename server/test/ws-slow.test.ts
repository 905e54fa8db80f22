import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { connectWs } from '../src/ws/client-port.js';
import { api, closed, createUser, fund, listInstrument, setupAdmin, sleep, wsClient, type Session, type TestServer, startServer } from './helpers.js';
import type { Json } from './helpers.js';

let s: TestServer;
let trader: Session;

beforeAll(async () => {
  s = await startServer({ ws: { maxPendingPushes: 5, highWaterBytes: 1024, rate: 10_000, burst: 10_000 } as never });
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
