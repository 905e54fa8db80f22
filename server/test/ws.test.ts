import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CHANNEL_NAMES, METHOD_NAMES, ProtocolClient } from '../../engine/protocol/index.js';
import { connectWs, wsPort } from '../src/ws/client-port.js';
import { closed, createUser, listInstrument, rawInbox, rawUpgrade, setupAdmin, sleep, wsClient, type Session, type TestServer, startServer } from './helpers.js';
import type { Json } from './helpers.js';

let s: TestServer;
let admin: Session;
let trader: Session;

beforeAll(async () => {
  s = await startServer({
    origins: ['https://desk.example.com'],
    ws: { rate: 20, burst: 100, abuseLimit: 60, maxPerUser: 3, maxPerIp: 12, pingIntervalMs: 150, maxPayload: 4096 } as never,
  });
  admin = await setupAdmin(s);
  trader = await createUser(s, admin, 'tina', 'trader');
  await listInstrument(s, admin);
});
afterAll(() => s.stop());

const refused = async (p: Promise<unknown>): Promise<{ status: number; body: Json }> => {
  try {
    await p;
  } catch (e) {
    const err = e as { status?: number; body?: string };
    return { status: err.status ?? 0, body: err.body ? JSON.parse(err.body) : undefined };
  }
  throw new Error('expected the upgrade to be refused');
};

describe('upgrade authentication and origin', () => {
  it('accepts the token in the Authorization header or the bearer subprotocol, never echoing it', async () => {
    const a = await connectWs(s.wsUrl, { token: trader.accessToken });
    expect(a.protocol).toBe('tradedesk.v1');
    a.close();
    const b = await connectWs(s.wsUrl, { token: trader.accessToken, tokenAs: 'subprotocol', origin: s.origin });
    expect(b.protocol).toBe('tradedesk.v1');
    b.close();
    const { client } = await wsClient(s, { token: trader.accessToken, tokenAs: 'subprotocol', origin: 'https://desk.example.com' });
    expect(client.welcome).toMatchObject({ v: 1, session: { role: 'trader', accountId: trader.user.accountId } });
    client.close();
  });

  it('refuses a token in the URL, a bad token, a foreign Origin, and no-Origin guests', async () => {
    const url = await refused(connectWs(`${s.wsUrl}?access_token=${trader.accessToken}`, { origin: s.origin }));
    expect(url.status).toBe(400);
    expect(url.body.message).toMatch(/Never put a token in the URL/);
    const bad = await refused(connectWs(s.wsUrl, { token: 'tda_nope' }));
    expect(bad).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    const evil = await refused(connectWs(s.wsUrl, { token: trader.accessToken, origin: 'https://evil.example' }));
    expect(evil).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const anon = await refused(connectWs(s.wsUrl, {}));
    expect(anon.status).toBe(401);
    const wrongPath = await refused(connectWs(s.wsUrl.replace('/ws', '/other'), { origin: s.origin }));
    expect(wrongPath.status).toBe(404);
    // a guest from an allowed origin gets public data only
    const g = await wsClient(s, { origin: 'https://desk.example.com' });
    expect(g.client.session).toEqual({});
    await expect(g.client.call('account.get')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    g.client.close();
  });

  it('a hello carrying another token is refused', async () => {
    const ws = await connectWs(s.wsUrl, { token: trader.accessToken });
    const inbox = rawInbox(ws);
    ws.send(JSON.stringify({ t: 'hello', v: 1, token: 'tda_other' }));
    expect((await inbox.next()).error.code).toBe('UNAUTHENTICATED');
    expect((await closed(ws)).code).toBe(1008);
  });
});

describe('bad input keeps the connection where it should', () => {
  it('non-JSON, malformed envelopes, unknown names and bad params get clear errors; the session survives', async () => {
    const ws = await connectWs(s.wsUrl, { token: trader.accessToken });
    const inbox = rawInbox(ws);
    ws.send(JSON.stringify({ t: 'hello', v: 1, client: 'raw' }));
    expect((await inbox.next()).t).toBe('welcome');
    ws.send('this is not json');
    expect(await inbox.next()).toMatchObject({ t: 'error', error: { code: 'BAD_REQUEST' } });
    ws.send(JSON.stringify({ t: 'req', id: 'x', method: 'time.get' }));
    expect(await inbox.next()).toMatchObject({ t: 'error', error: { code: 'BAD_REQUEST' } });
    ws.send(JSON.stringify({ t: 'req', id: 1, method: 'no.such' }));
    expect(await inbox.next()).toMatchObject({ t: 'res', id: 1, ok: false, error: { code: 'UNKNOWN_METHOD' } });
    let id = 10;
    // every method and channel with a stray parameter: BAD_REQUEST (or an access error), never a crash
    for (const m of METHOD_NAMES) {
      ws.send(JSON.stringify({ t: 'req', id: ++id, method: m, params: { bogus: 1 } }));
      const r = await inbox.next((x) => x.id === id);
      expect(r.ok, m).toBe(false);
      expect(['BAD_REQUEST', 'FORBIDDEN'], `${m}: ${r.error.code}`).toContain(r.error.code);
    }
    for (const c of CHANNEL_NAMES) {
      ws.send(JSON.stringify({ t: 'sub', id: ++id, channel: c, params: { bogus: 1 } }));
      const r = await inbox.next((x) => x.id === id);
      expect(r.ok, c).toBe(false);
      expect(['BAD_REQUEST', 'FORBIDDEN'], `${c}: ${r.error.code}`).toContain(r.error.code);
    }
    ws.send(JSON.stringify({ t: 'req', id: ++id, method: 'order.place', params: { symbol: 'acme!', side: 'up', qty: -1 } }));
    const bad = await inbox.next((x) => x.id === id);
    expect(bad.error.code).toBe('BAD_REQUEST');
    expect(bad.error.details.issues.length).toBeGreaterThan(2);
    ws.send(JSON.stringify({ t: 'req', id: ++id, method: 'time.get' }));
    expect((await inbox.next((x) => x.id === id)).ok).toBe(true);
    ws.close();
  });

  it('a first message that is not hello closes with a protocol error; an oversized frame closes with 1009', async () => {
    const a = await connectWs(s.wsUrl, { token: trader.accessToken });
    const ia = rawInbox(a);
    a.send(JSON.stringify({ t: 'req', id: 1, method: 'time.get' }));
    expect((await ia.next()).error.code).toBe('BAD_REQUEST');
    expect((await closed(a)).code).toBe(1002);
    const b = await connectWs(s.wsUrl, { token: trader.accessToken });
    const done = closed(b);
    b.send('x'.repeat(5000));
    expect((await done).code).toBe(1009);
  });

  it('a first message that is not JSON fails the handshake as any other non-hello: error BAD_REQUEST, close 1002, no welcome after it', async () => {
    const ws = await connectWs(s.wsUrl, { token: trader.accessToken });
    const inbox = rawInbox(ws);
    const done = closed(ws);
    ws.send('this is not json');
    ws.send(JSON.stringify({ t: 'hello', v: 1 }));
    expect(await inbox.next()).toMatchObject({ t: 'error', error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^The first message must be a valid hello/) } });
    expect(await done).toMatchObject({ code: 1002, reason: 'BAD_REQUEST' });
    expect(inbox.all.map((m) => m.t)).toEqual(['error']);
  });
});

describe('rate limits and caps', () => {
  it('over the per-connection rate: RATE_LIMITED replies; persistent abuse: close 1008', async () => {
    const ws = await connectWs(s.wsUrl, { token: trader.accessToken });
    const inbox = rawInbox(ws);
    ws.send(JSON.stringify({ t: 'hello', v: 1 }));
    await inbox.next();
    for (let i = 1; i <= 150; i++) ws.send(JSON.stringify({ t: 'req', id: i, method: 'time.get' }));
    const limited = await inbox.next((m) => m.t === 'res' && m.ok === false);
    expect(limited.error.code).toBe('RATE_LIMITED');
    await sleep(1100);
    ws.send(JSON.stringify({ t: 'req', id: 999, method: 'time.get' }));
    expect((await inbox.next((m) => m.id === 999)).ok).toBe(true);
    const gone = closed(ws);
    for (let i = 0; i < 200 && ws.readyState === WebSocket.OPEN; i++) ws.send(JSON.stringify({ t: 'req', id: 2000 + i, method: 'time.get' }));
    expect(await gone).toMatchObject({ code: 1008, reason: 'RATE_LIMITED' });
  });

  it('a rate-limited request is refused under its own id (the envelope\'s, never a params key named id), or with a plain error', async () => {
    const t = await startServer({ ws: { rate: 1, burst: 3, abuseLimit: 1000 } as never });
    try {
      const a = await setupAdmin(t);
      const ws = await connectWs(t.wsUrl, { token: a.accessToken });
      const inbox = rawInbox(ws);
      // the burst of 3: hello and two requests; every frame after them is over the limit
      ws.send(JSON.stringify({ t: 'hello', v: 1 }));
      expect((await inbox.next()).t).toBe('welcome');
      ws.send(JSON.stringify({ t: 'req', id: 1, method: 'time.get' }));
      ws.send(JSON.stringify({ t: 'req', id: 2, method: 'time.get' }));
      ws.send('{"t":"req","method":"alerts.delete","params":{"id":9003},"id":3}'); // the id after the params
      ws.send('{"t":"req","id":1234567890123456,"method":"time.get"}'); // 16 digits, a safe integer
      ws.send('{"t":"req","method":"alerts.delete","params":{"id":9005}}'); // no id of its own
      ws.send('{"t":"req","method":"alerts.delete","params":{"id":9006},"id":6.5}'); // not a usable id
      ws.send('{"t":"req","params":{"id":9007},"id":'); // not JSON
      const got: Json[] = [];
      for (let i = 0; i < 7; i++) got.push(await inbox.next());
      expect(got.map((m) => ({ t: m.t, id: m.id, code: m.error?.code }))).toEqual([
        { t: 'res', id: 1, code: undefined },
        { t: 'res', id: 2, code: undefined },
        { t: 'res', id: 3, code: 'RATE_LIMITED' },
        { t: 'res', id: 1234567890123456, code: 'RATE_LIMITED' },
        { t: 'error', id: undefined, code: 'RATE_LIMITED' },
        { t: 'error', id: undefined, code: 'RATE_LIMITED' },
        { t: 'error', id: undefined, code: 'RATE_LIMITED' },
      ]);
      ws.close();
      // the product's client puts the id last ({...msg, id}): a call whose params hold an id is answered, not left to time out
      const ws2 = await connectWs(t.wsUrl, { token: a.accessToken });
      const client = new ProtocolClient(wsPort(ws2), { timeoutMs: 2000 });
      await client.connect({ client: 'test' });
      const calls = [client.call('time.get'), client.call('time.get'), client.call('alerts.delete', { id: 1 })];
      const out = await Promise.allSettled(calls);
      expect(out.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))).toEqual(['ok', 'ok', 'RATE_LIMITED']);
      client.close();
    } finally {
      await t.stop();
    }
  });

  it('caps connections per user (and per IP)', async () => {
    for (let i = 0; i < 100 && s.app.gateway.size > 0; i++) await sleep(20);
    const open: WebSocket[] = [];
    for (let i = 0; i < 3; i++) open.push(await connectWs(s.wsUrl, { token: trader.accessToken }));
    const over = await refused(connectWs(s.wsUrl, { token: trader.accessToken }));
    expect(over).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    for (const w of open) w.close();
    await Promise.all(open.map((w) => closed(w)));
    await sleep(50);
    const guests: WebSocket[] = [];
    for (let i = 0; i < 12; i++) guests.push(await connectWs(s.wsUrl, { origin: s.origin }));
    expect((await refused(connectWs(s.wsUrl, { origin: s.origin }))).status).toBe(429);
    for (const w of guests) w.close();
    await Promise.all(guests.map((w) => closed(w)));
  });

  it('upgrades the WebSocket library refuses (a malformed subprotocol or key) give their address slot back', async () => {
    for (let i = 0; i < 100 && s.app.gateway.size > 0; i++) await sleep(20);
    const upgrade = async (headers: Record<string, string>): Promise<number> => (await rawUpgrade(s, { Authorization: `Bearer ${trader.accessToken}`, ...headers })).status;
    // three times the cap of 12 per address
    for (let i = 0; i < 36; i++) {
      const bad: Record<string, string> = i % 2 === 0 ? { 'Sec-WebSocket-Protocol': '' } : { 'Sec-WebSocket-Key': 'short' };
      expect(await upgrade(bad)).toBe(400);
    }
    await sleep(50);
    const ok = await connectWs(s.wsUrl, { token: trader.accessToken });
    expect(ok.readyState).toBe(ok.OPEN);
    ok.close();
    await closed(ok);
  });
});

describe('heartbeat', () => {
  it('terminates a peer that does not answer pings', async () => {
    await sleep(100);
    const port = Number(new URL(s.url).port);
    const sock = tcpConnect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    let data = '';
    sock.on('data', (d) => (data += d.toString('latin1')));
    await new Promise((r) => sock.once('connect', r));
    sock.write(
      [
        'GET /ws HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        `Origin: ${s.origin}`,
        '',
        '',
      ].join('\r\n'),
    );
    const ended = new Promise((r) => sock.once('close', r));
    // never answer the pings: terminated after at most two intervals
    await Promise.race([ended, sleep(2000).then(() => Promise.reject(new Error('not terminated')))]);
    expect(data).toContain('101 Switching Protocols');
    expect(data).toContain('\x89'); // a ping frame arrived first
  });
});
