import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ProtocolClient, serveSession, socketPort, type CloseInfo, type Port } from '../../protocol/index.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** A ws server on 127.0.0.1 whose connections are handed to `onPort` as Ports; a connected client socket. */
async function pair(onPort: (p: Port, raw: WebSocket) => void): Promise<WebSocket> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  wss.on('connection', (ws) => onPort(socketPort(ws), ws));
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  return ws;
}

describe('socketPort over a real ws socket', () => {
  it('carries the protocol both ways (client and session server over loopback)', async () => {
    const ws = await pair((p) => serveSession(p, { serverName: 'loop', handlers: { 'time.get': () => ({ ts: 7 }) } }));
    const client = new ProtocolClient(socketPort(ws));
    await client.connect({ client: 't' });
    await expect(client.call('time.get')).resolves.toEqual({ ts: 7 });
    expect(client.welcome?.server).toBe('loop');
    client.close();
  });

  it('drops binary and non-JSON frames, keeps messages that arrive before the first listener, in order', async () => {
    let server!: Port;
    const ws = await pair((p) => (server = p));
    const port = socketPort(ws);
    await new Promise((r) => setTimeout(r, 10));
    server.send({ n: 1 });
    server.send({ n: 2 });
    await new Promise((r) => setTimeout(r, 30)); // both arrive with no listener yet
    const got: unknown[] = [];
    port.onMessage((m) => got.push(m));
    const serverGot: unknown[] = [];
    server.onMessage((m) => serverGot.push(m));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    ws.send('not json');
    port.send({ n: 3 });
    const until = Date.now() + 2_000;
    while ((got.length < 2 || serverGot.length < 1) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(serverGot).toEqual([{ n: 3 }]);
    port.close();
  });

  it('closes once: listeners see the peer close code; a late listener still hears it; send after close is ignored', async () => {
    let server!: Port;
    const ws = await pair((p) => (server = p));
    const port = socketPort(ws);
    const seen: CloseInfo[] = [];
    port.onClose((i) => seen.push(i));
    await new Promise((r) => setTimeout(r, 10));
    server.close(4001, 'bye');
    const until = Date.now() + 2_000;
    while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([{ code: 4001, reason: 'bye' }]);
    expect(port.closed).toBe(true);
    expect(() => port.send({ late: true })).not.toThrow();
    const late = await new Promise<CloseInfo>((r) => port.onClose(r));
    expect(late).toEqual({ code: 4001, reason: 'bye' });
  });

  it('a close code the socket refuses still closes the socket', async () => {
    let serverClosed: CloseInfo | undefined;
    const ws = await pair((p) => p.onClose((i) => (serverClosed = i)));
    const port = socketPort(ws);
    port.close(1005); // reserved: ws refuses to send it
    const until = Date.now() + 2_000;
    while (serverClosed === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(serverClosed).toBeDefined();
    expect(port.closed).toBe(true);
  });
});
