// The WebSocket port's batched frames (hub ticks): every frame assembled into one write must arrive as the
// exact message, for payloads with 7-bit, 16-bit and 64-bit frame lengths, mixed with ordinary messages.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { preEncode } from '../src/market/encoded.js';
import { Conn } from '../src/ws/conn.js';

const server = createServer();
const wss = new WebSocketServer({ server });
afterAll(() => new Promise<void>((r) => {
  wss.close();
  server.close(() => r());
}));

describe('Conn batches', () => {
  it('writes a batch of frames in one buffer that the peer reads message by message', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const got: unknown[] = [];
    const all = new Promise<void>((r) => client.on('message', (d) => got.push(JSON.parse(d.toString())) === 6 && r()));
    await new Promise((r) => client.once('open', r));
    const conn = new Conn(await accepted, '127.0.0.1', { rate: 100, burst: 100, abuseLimit: 100, highWaterBytes: 1 << 20, maxBufferedBytes: 1 << 22 });
    const small = preEncode({ s: 'a' });
    const mid = preEncode({ s: 'é'.repeat(200) }); // multi-byte UTF-8, 16-bit length
    const big = preEncode({ s: 'x'.repeat(70_000) }); // 64-bit length
    conn.cork();
    expect(conn.flow.congested()).toBe(false);
    conn.send({ t: 'push', sub: 1, seq: 1, data: small });
    conn.send({ t: 'push', sub: 2, seq: 7, data: mid });
    conn.send({ t: 'res', id: 3, ok: true, result: { n: 1 } });
    conn.send({ t: 'push', sub: 1, seq: 2, data: big });
    conn.send({ t: 'push', sub: 123456, seq: 99999, data: small });
    conn.send({ t: 'push', sub: 0, seq: 1_000_000_000_000, data: small });
    expect(got).toEqual([]); // nothing leaves before uncork
    conn.uncork();
    await all;
    expect(got).toEqual([
      { t: 'push', sub: 1, seq: 1, data: { s: 'a' } },
      { t: 'push', sub: 2, seq: 7, data: { s: 'é'.repeat(200) } },
      { t: 'res', id: 3, ok: true, result: { n: 1 } },
      { t: 'push', sub: 1, seq: 2, data: { s: 'x'.repeat(70_000) } },
      { t: 'push', sub: 123456, seq: 99999, data: { s: 'a' } },
      { t: 'push', sub: 0, seq: 1_000_000_000_000, data: { s: 'a' } },
    ]);
    client.close();
  });

  it('frames sent in the same turn as a close reach the peer before the close frame', async () => {
    const port = (server.address() as AddressInfo).port;
    const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const got: unknown[] = [];
    client.on('message', (d) => got.push(JSON.parse(d.toString())));
    const closed = new Promise<number>((r) => client.on('close', (code) => r(code)));
    await new Promise((r) => client.once('open', r));
    const conn = new Conn(await accepted, '127.0.0.1', { rate: 100, burst: 100, abuseLimit: 100, highWaterBytes: 1 << 20, maxBufferedBytes: 1 << 22 });
    conn.send({ t: 'res', id: 1, ok: true, result: {} });
    conn.closeWithError(4000, { code: 'RESYNC_REQUIRED', message: 'behind' }, 'RESYNC_REQUIRED');
    expect(await closed).toBe(4000);
    expect(got).toEqual([
      { t: 'res', id: 1, ok: true, result: {} },
      { t: 'error', error: { code: 'RESYNC_REQUIRED', message: 'behind' } },
    ]);
  });
});
