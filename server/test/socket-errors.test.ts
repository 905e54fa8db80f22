// Broken peers over real loopback (raw TCP against buildServer on port 0): malformed WebSocket frames,
// peers that vanish mid-frame or mid-request, malformed HTTP and oversize messages. Each must cost only
// that one socket: the right close code or status, an error logged at debug (never thrown), and the server
// keeps serving WebSockets and /health. An unhandled 'error' event would crash this process and fail the run.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { api, sleep, startServer, wsClient, type TestServer } from './helpers.js';

const MAX_PAYLOAD = 1024;
let s: TestServer;
let port: number;
const logs: { level: string; msg: string; err?: unknown }[] = [];

beforeAll(async () => {
  const logger = createLogger('debug', (line) => void logs.push(JSON.parse(line)));
  s = await startServer({ ws: { maxPayload: MAX_PAYLOAD } as never, sim: 'off' }, { logger });
  port = Number(new URL(s.url).port);
});
afterAll(() => s.stop());

interface Raw {
  sock: Socket;
  /** Everything received so far (after the handshake for upgraded sockets). */
  data(): Buffer;
  closed: Promise<void>;
}

function open(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    // the server may reset the connection after closing it: that is the peer's business here
    sock.on('error', () => undefined);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once('connect', () => resolve({ sock, data: () => Buffer.concat(chunks), closed }));
    sock.once('error', reject);
  });
}

/** A raw WebSocket upgrade as a guest from the server's own origin; resolves once the 101 has arrived. */
async function upgraded(): Promise<Raw> {
  const r = await open();
  r.sock.write(
    ['GET /ws HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', `Origin: ${s.origin}`, '', ''].join('\r\n'),
  );
  for (let i = 0; i < 200 && r.data().indexOf('\r\n\r\n') < 0; i++) await sleep(5);
  const all = r.data();
  const end = all.indexOf('\r\n\r\n');
  expect(all.subarray(0, end).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return { sock: r.sock, data: () => r.data().subarray(end + 4), closed: r.closed };
}

/** A client frame header (masked unless told otherwise) with a 7-, 16- or 64-bit length. */
function header(o: { fin?: boolean; rsv1?: boolean; opcode?: number; length: number; masked?: boolean }): Buffer {
  const b0 = (o.fin === false ? 0 : 0x80) | (o.rsv1 === true ? 0x40 : 0) | (o.opcode ?? 1);
  const mask = o.masked === false ? 0 : 0x80;
  let h: Buffer;
  if (o.length < 126) h = Buffer.from([b0, mask | o.length]);
  else if (o.length < 65_536) {
    h = Buffer.from([b0, mask | 126, 0, 0]);
    h.writeUInt16BE(o.length, 2);
  } else {
    h = Buffer.from([b0, mask | 127, 0, 0, 0, 0, 0, 0, 0, 0]);
    h.writeBigUInt64BE(BigInt(o.length), 2);
  }
  return o.masked === false ? h : Buffer.concat([h, Buffer.from([1, 2, 3, 4])]);
}
/** A whole masked frame (mask 1,2,3,4 as in `header`). */
function frame(payload: Buffer, o: { fin?: boolean; rsv1?: boolean; opcode?: number; masked?: boolean } = {}): Buffer {
  const body = o.masked === false ? payload : Buffer.from(payload.map((x, i) => x ^ ((i % 4) + 1)));
  return Buffer.concat([header({ ...o, length: payload.length }), body]);
}

/** The status code of the first close frame the server sent (its frames are unmasked, short here). */
function closeCode(data: Buffer): number | undefined {
  for (let i = 0; i + 1 < data.length; ) {
    const op = data[i]! & 0x0f;
    let len = data[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = data.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    if (op === 0x8) return len >= 2 ? data.readUInt16BE(at) : 1005;
    i = at + len;
  }
  return undefined;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what}: not within ${ms} ms`)))]);

/** The server still serves: a fresh protocol session over WebSocket answers, /health is 200. */
async function stillServing(): Promise<void> {
  const { client } = await wsClient(s);
  expect(typeof (await client.call('time.get'))).toBe('object');
  client.close();
  const h = await api(s.url, 'GET', '/health');
  expect(h.status).toBe(200);
  expect(h.body.status).toBe('ok');
  await connectionsBackTo(0);
}

async function connectionsBackTo(n: number): Promise<void> {
  for (let i = 0; i < 200 && s.app.gateway.size !== n; i++) await sleep(10);
  expect(s.app.gateway.size).toBe(n);
}

const wsErrorsLogged = (): string[] => logs.filter((l) => l.msg === 'ws error').map((l) => String(l.err));

describe('malformed WebSocket frames', () => {
  it('a frame with a reserved bit set closes that socket with 1002; the server keeps serving', async () => {
    const r = await upgraded();
    await connectionsBackTo(1);
    const errors = wsErrorsLogged().length;
    r.sock.write(frame(Buffer.from('{"t":"hello","v":1}'), { rsv1: true }));
    await within(r.closed, 3000, 'close after RSV1');
    expect(closeCode(r.data())).toBe(1002);
    expect(wsErrorsLogged().slice(errors).join()).toMatch(/RSV1 must be clear/);
    await connectionsBackTo(0);
    await stillServing();
  });

  it('an unmasked client frame closes with 1002', async () => {
    const r = await upgraded();
    const errors = wsErrorsLogged().length;
    r.sock.write(frame(Buffer.from('{"t":"hello","v":1}'), { masked: false }));
    await within(r.closed, 3000, 'close after an unmasked frame');
    expect(closeCode(r.data())).toBe(1002);
    expect(wsErrorsLogged().slice(errors).join()).toMatch(/MASK must be set/);
    await stillServing();
  });

  it('an unknown opcode and a text frame of invalid UTF-8 close with 1002 and 1007', async () => {
    const a = await upgraded();
    a.sock.write(frame(Buffer.from('x'), { opcode: 0x3 }));
    await within(a.closed, 3000, 'close after opcode 3');
    expect(closeCode(a.data())).toBe(1002);
    const b = await upgraded();
    b.sock.write(frame(Buffer.from([0xc3, 0x28])));
    await within(b.closed, 3000, 'close after invalid UTF-8');
    expect(closeCode(b.data())).toBe(1007);
    await stillServing();
  });
});

describe('peers that vanish', () => {
  it('a client that disconnects mid-frame (header says 1000 bytes, 10 arrive) costs only its socket', async () => {
    const r = await upgraded();
    await connectionsBackTo(1);
    r.sock.write(Buffer.concat([header({ length: 1000 }), Buffer.alloc(10, 0x41)]));
    await sleep(20);
    r.sock.destroy();
    await connectionsBackTo(0);
    await stillServing();
  });

  it('a client that resets mid-request-body or mid-headers costs only its socket', async () => {
    const a = await open();
    a.sock.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"username":`);
    await sleep(20);
    a.sock.resetAndDestroy();
    const b = await open();
    b.sock.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: `);
    await sleep(20);
    b.sock.destroy();
    await Promise.all([a.closed, b.closed]);
    for (let i = 0; i < 100 && !logs.some((l) => l.msg === 'request aborted by the client'); i++) await sleep(10);
    expect(logs.find((l) => l.msg === 'request aborted by the client')).toMatchObject({ level: 'debug', route: 'POST /api/v1/auth/login' });
    await stillServing();
  });
});

describe('malformed HTTP', () => {
  const raw = async (text: string): Promise<string> => {
    const r = await open();
    r.sock.write(text);
    await within(r.closed, 3000, 'connection closed after a malformed request');
    return r.data().toString('latin1');
  };

  it('a garbage request line gets 400 and the connection is closed', async () => {
    const text = await raw('THIS IS NOT HTTP\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    // in the API's error shape
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'BAD_REQUEST', message: 'The request is not valid HTTP' });
    expect(await raw('\x00\x01\x02\xff\xfe garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    await stillServing();
  });

  it('a header with invalid characters gets 400', async () => {
    expect(await raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad\x01Name: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Value: a\x00b\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    await stillServing();
  });

  it('headers over the limit get 431 in the error shape', async () => {
    const text = await raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'BAD_REQUEST', message: 'The request headers are too large' });
    await stillServing();
  });

  it('an upgrade without a Sec-WebSocket-Key gets 400', async () => {
    const text = await raw(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nOrigin: ${s.origin}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    await stillServing();
  });
});

describe('oversize messages', () => {
  it('a frame header announcing 10 MB closes with 1009 at once, before any payload', async () => {
    const r = await upgraded();
    r.sock.write(header({ length: 10 * 1024 * 1024 }));
    await within(r.closed, 3000, 'close after an oversize header');
    expect(closeCode(r.data())).toBe(1009);
    await stillServing();
  });

  it('fragments each under the limit but over it together close with 1009', async () => {
    const r = await upgraded();
    const part = Buffer.alloc(MAX_PAYLOAD / 2 + 1, 0x20);
    r.sock.write(frame(part, { fin: false, opcode: 1 }));
    r.sock.write(frame(part, { fin: true, opcode: 0 }));
    await within(r.closed, 3000, 'close after oversize fragments');
    expect(closeCode(r.data())).toBe(1009);
    await stillServing();
  });
});

describe('the listening server', () => {
  it('an error on the server itself after listening (a failed accept) is logged, not thrown', async () => {
    const e = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
    expect(() => s.app.server.emit('error', e)).not.toThrow();
    expect(logs.some((l) => l.level === 'error' && l.msg === 'http server error')).toBe(true);
    await stillServing();
  });

  it('nothing above was logged as an error except that one', () => {
    expect(logs.filter((l) => l.level === 'error' && l.msg !== 'http server error')).toEqual([]);
  });
});
