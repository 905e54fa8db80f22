/**
 * The headless host end to end: a real HTTP server on 127.0.0.1, real SQLite in a temp folder, the live
 * simulated market, and windows as WebSocket clients of `/hub`.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventEmitter } from 'node:events';
import { MemoryStore } from '../src/credentials/store.js';
import { startHeadlessHost, type HeadlessHost } from '../src/host/headless.js';
import { wsFlow } from '../src/ws-port.js';
import { Inbox, hubClient, tempDir } from './helpers.js';

describe('headless host', () => {
  const tmp = tempDir();
  let host: HeadlessHost;
  const renderer = join(tmp.dir, 'renderer');
  const logs: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  // a profiles file cut short (a crash of another tool, a disk error)
  const damagedProfiles = '{"activeId":"acme-aaaaaa","profiles":[{"id":"acme-aaaaaa","name":"Acme","url":"https://acme.example"';

  beforeAll(async () => {
    mkdirSync(renderer);
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(renderer, 'app.js'), 'console.log(1)');
    mkdirSync(join(tmp.dir, 'data'));
    writeFileSync(join(tmp.dir, 'data', 'profiles.json'), damagedProfiles);
    host = await startHeadlessHost({
      userDataDir: join(tmp.dir, 'data'),
      rendererDir: renderer,
      credentials: new MemoryStore(),
      seed: 7,
      speed: 50,
      log: (level, message, data) => logs.push({ level, message, ...(data ? { data } : {}) }),
    });
  });
  afterAll(async () => {
    await host?.close();
    tmp.remove();
  });

  it('a damaged profiles file is renamed aside and logged as a warning; the host starts on the local simulation', async () => {
    const kept = readdirSync(join(tmp.dir, 'data')).filter((f) => f.startsWith('profiles.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(tmp.dir, 'data', kept[0]!), 'utf8')).toBe(damagedProfiles);
    expect(logs.filter((l) => l.level === 'warn' && l.message.includes('profiles'))).toEqual([
      { level: 'warn', message: expect.stringContaining(`renamed to ${join(tmp.dir, 'data', kept[0]!)}`), data: expect.objectContaining({ keptAs: join(tmp.dir, 'data', kept[0]!) }) },
    ]);
    expect(host.core.profiles.list().map((p) => p.id)).toEqual(['local']);
    expect(host.core.hub.status).toMatchObject({ mode: 'local' });
  });

  it('serves /config.json saying it is a hub', async () => {
    const r = await fetch(new URL('config.json', host.url));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ kind: 'hub', wsPath: '/hub', version: host.core.version });
  });

  it('serves the renderer with the strict CSP, and nothing outside it', async () => {
    const r = await fetch(host.url);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain(`ws://127.0.0.1:${host.port}`);
    expect(csp).not.toContain('unsafe');
    expect((await fetch(new URL('app.js', host.url))).status).toBe(200);
    expect((await fetch(new URL('missing.js', host.url))).status).toBe(404);
    // a raw `..` path (fetch would normalise it away) never leaves the renderer folder
    const raw = await new Promise<number>((resolve, reject) => {
      get({ host: '127.0.0.1', port: host.port, path: '/..%2f..%2f..%2fetc%2fpasswd' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(raw).toBe(404);
    // an extension-less route is the app (client-side routing)
    expect((await fetch(new URL('/workspace/chart', host.url))).headers.get('content-type')).toContain('text/html');
  });

  it('refuses a WebSocket from a foreign origin and a foreign Host', async () => {
    const status = (url: string, opts: WebSocket.ClientOptions): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, opts);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => undefined);
      });
    const wsUrl = `ws://127.0.0.1:${host.port}/hub`;
    expect(await status(wsUrl, { origin: 'https://evil.example' })).toBe(403);
    expect(await status(wsUrl, { headers: { Host: 'evil.example' } })).toBe(421);
    expect(await status(wsUrl, { origin: `http://127.0.0.1:${host.port}` })).toBe(101);
  });

  it('a window talks to the local venue through the hub: info, status, instruments, quotes, an order', async () => {
    const w = await hubClient(host.url, '?panel=chart&window=w-1');
    expect(w.welcome?.session?.accountId).toBe(1);
    expect(await w.call('hub.info')).toMatchObject({ windowId: 'w-1', panel: 'chart', host: 'headless' });
    const status = new Inbox<{ state: string; mode: string }>();
    await w.subscribe('hub.status', {}, { data: status.push });
    expect(await status.next()).toMatchObject({ state: 'connected', mode: 'local', profileId: 'local' });
    const instruments = await w.call('instruments.list');
    expect(instruments.length).toBeGreaterThan(0);
    const symbol = instruments[0]!.symbol;
    const quotes = new Inbox<{ symbol: string }>();
    await w.subscribe('quotes', { symbols: [symbol] }, { data: quotes.push });
    expect((await quotes.next()).symbol).toBe(symbol);
    const account = await w.call('account.get');
    expect(account.cash).toBe(10_000_000);
    const i = instruments[0]!;
    const price = Math.ceil(i.bandLow / i.tickSize) * i.tickSize;
    const order = await w.call('order.place', { symbol, side: 'buy', orderType: 'limit', qty: i.lotSize, price, tif: 'day' });
    expect(order.orderId).toBeGreaterThan(0);
    // hub.window.open is the desktop's: the browser opens its own windows
    await expect(w.call('hub.window.open', { panel: 'chart' })).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
    // ...and so is hub.file.save: the browser downloads an export itself
    await expect(w.call('hub.file.save', { name: 'audit.csv', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
    w.close();
  });

  it('backpressure: a window whose socket buffer is full is congested until the socket drains', () => {
    const socket = new EventEmitter();
    const ws = { bufferedAmount: 0, _socket: socket };
    const flow = wsFlow(ws as never, 1000);
    expect(flow.congested()).toBe(false);
    ws.bufferedAmount = 5000;
    expect(flow.congested()).toBe(true);
    let drained = 0;
    const off = flow.onDrain(() => drained++);
    socket.emit('drain');
    off();
    socket.emit('drain');
    expect(drained).toBe(1);
  });
});

describe('headless host: a start that fails leaves nothing behind', () => {
  const tmp = tempDir();
  let blocker: Server;
  let busyPort = 0;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    busyPort = (blocker.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => blocker.close(r));
    tmp.remove();
  });

  it('a host that cannot listen (its port is taken) closes its venue again: the next start on the same folder works', async () => {
    const o = { userDataDir: join(tmp.dir, 'data'), rendererDir: join(tmp.dir, 'none'), credentials: new MemoryStore(), seed: 7, speed: 50 };
    await expect(startHeadlessHost({ ...o, port: busyPort })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(startHeadlessHost({ ...o, port: 1.5 })).rejects.toThrow('The port must be a whole number from 0 to 65535 (got 1.5)');
    const host = await startHeadlessHost({ ...o, port: 0 });
    expect((await fetch(new URL('health', host.url))).status).toBe(200);
    await host.close();
  });

  it('the host command checks its flags before starting anything, and removes its temporary folder when it cannot start', () => {
    const tmpRoot = join(tmp.dir, 'tmp');
    mkdirSync(tmpRoot);
    const run = (...args: string[]) => {
      const started = Date.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/src/host/cli.ts', '--quiet', ...args], {
        env: { ...process.env, TMPDIR: tmpRoot },
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { status: r.status, stderr: r.stderr.trim(), ms: Date.now() - started, left: readdirSync(tmpRoot).filter((f) => f.startsWith('tradedesk-host-')) };
    };
    for (const [args, message] of [
      [['--port', '1.5'], '--port must be a whole number from 0 to 65535 (got 1.5)'],
      [['--port', '99999'], '--port must be a whole number from 0 to 65535 (got 99999)'],
      [['--port', ''], '--port must be a whole number from 0 to 65535 (got )'],
      [['--speed', '0'], '--speed must be a number above 0 (got 0)'],
      [['--seed', '1e12'], '--seed must be a whole number from 0 to 4294967295 (got 1e12)'],
    ] as const) {
      const r = run(...args);
      expect(r, args.join(' ')).toMatchObject({ status: 1, stderr: message, left: [] });
    }
    // past the checks: the port is taken only at listen, after the start-up
    const r = run('--port', String(busyPort));
    expect(r).toMatchObject({ status: 1, stderr: expect.stringContaining('EADDRINUSE'), left: [] });
  });
});
