// The HTTP router (server/src/http/api.ts) beside the web build (server/src/http/static.ts): HEAD requests,
// the API's own paths never answered with the build's index.html, no dotfile of the build served.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, rawUpgrade, setupAdmin, startServer, type TestServer } from './helpers.js';

let web: TestServer;
let bare: TestServer;
let rendererDir: string;

beforeAll(async () => {
  rendererDir = mkdtempSync(join(tmpdir(), 'tdweb-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>TradeDesk</title>');
  mkdirSync(join(rendererDir, 'assets'));
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(rendererDir, 'assets', '.hidden.js'), 'hidden in the build');
  writeFileSync(join(rendererDir, '.env'), 'SECRET=in the build');
  mkdirSync(join(rendererDir, '.git'));
  writeFileSync(join(rendererDir, '.git', 'config'), '[core] in the build');
  web = await startServer({ sim: 'off', rendererDir });
  // the default: no web build
  bare = await startServer({ sim: 'off' });
});
afterAll(async () => {
  await web.stop();
  await bare.stop();
  rmSync(rendererDir, { recursive: true, force: true });
});

describe('HEAD', () => {
  it('is routed as GET and answered without a body, with or without a web build; a failed /health is a 503 to HEAD too', async () => {
    for (const s of [web, bare]) {
      for (const [path, type] of [
        ['/health', /^application\/json/],
        ['/config.json', /^application\/json/],
        ['/metrics', /^text\/plain/],
        ['/api/v1/rpc/time.get', /^application\/json/],
        ['/api/v1/methods', /^application\/json/],
      ] as const) {
        const r = await api(s.url, 'HEAD', path);
        expect(r.status, `${s === web ? 'web' : 'bare'} HEAD ${path}`).toBe(200);
        expect(r.headers.get('content-type'), path).toMatch(type);
        expect(Number(r.headers.get('content-length')), path).toBeGreaterThan(0);
        expect(r.body, path).toBeUndefined();
      }
    }
    // a HEAD-based health probe sees the failure
    Object.defineProperty(web.app.store, 'syncFailure', { get: () => new Error('EIO'), configurable: true });
    try {
      expect((await api(web.url, 'HEAD', '/health')).status).toBe(503);
      expect((await api(web.url, 'GET', '/health')).status).toBe(503);
    } finally {
      delete (web.app.store as { syncFailure?: unknown }).syncFailure;
    }
    expect((await api(web.url, 'HEAD', '/health')).status).toBe(200);
    // the web build answers HEAD as before
    const page = await api(web.url, 'HEAD', '/trade/ACME');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toBeUndefined();
  });
});

describe('HEAD answered as GET, refusals too', () => {
  it("a refusal's Content-Length is the GET's (a 405), and a refused WebSocket upgrade by HEAD gets the headers without the body", async () => {
    // sign-in takes POST only: GET and HEAD are refused alike (the message names GET for both)
    const got = await fetch(web.url + '/api/v1/auth/login');
    const text = await got.text();
    expect(got.status).toBe(405);
    const head = await fetch(web.url + '/api/v1/auth/login', { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(await head.text()).toBe('');
    // raw, so that a body after the headers would be seen (Node's client fails on one after a HEAD)
    for (const path of ['/ws', '/nope']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(Number(new URL(web.url).port), '127.0.0.1', () =>
          sock.write(`HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`),
        );
        let data = '';
        sock.on('data', (d) => (data += d.toString()));
        sock.on('close', () => resolve(data));
        sock.on('error', reject);
      });
      const [headers, body] = answer.split('\r\n\r\n');
      expect(headers, path).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(Number(/Content-Length: (\d+)/i.exec(headers!)?.[1]), path).toBeGreaterThan(0);
      expect(body, path).toBe('');
    }
  });
});

describe('the web build beside the API', () => {
  it("the API's paths get a typed 404, never the build's index.html; client-side routes still do", async () => {
    for (const path of ['/api', '/api/', '/api/v1/nope', '/api/v1/ws', '/health/', '/metrics/', '/config.json/', '/ws', '/ws/']) {
      for (const method of ['GET', 'HEAD']) {
        const r = await api(web.url, method, path);
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.headers.get('content-type'), `${method} ${path}`).toMatch(/^application\/json/);
        if (method === 'GET') expect(r.body, path).toMatchObject({ code: 'NOT_FOUND' });
      }
    }
    expect((await api(web.url, 'GET', '/ws')).body.message).toMatch(/WebSocket upgrade/);
    const route = await api(web.url, 'GET', '/trade/ACME');
    expect(route.status).toBe(200);
    expect(route.body).toContain('TradeDesk');
    expect((await api(web.url, 'GET', '/apiary')).body).toContain('TradeDesk');
  });

  it('serves no dotfile or dot-folder of the build', async () => {
    for (const path of ['/.env', '/.git/config', '/assets/.hidden.js', '/%2eenv', '/assets/%2Ehidden.js', '/.env/']) {
      const r = await api(web.url, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).toMatchObject({ code: 'NOT_FOUND' });
      expect(JSON.stringify(r.body), path).not.toContain('in the build');
    }
    expect((await api(web.url, 'GET', '/assets/app.js')).status).toBe(200);
  });
});

describe('refusals in the one error shape', () => {
  it('a method the path does not take: 405 METHOD_NOT_ALLOWED with an Allow header of the methods it takes', async () => {
    for (const s of [web, bare]) {
      for (const [method, path, allow] of [
        ['DELETE', '/health', 'GET, HEAD'],
        ['POST', '/metrics', 'GET, HEAD'],
        ['PUT', '/api/v1/rpc/time.get', 'GET, HEAD, POST'],
        ['PUT', '/api/v1/auth/login', 'POST'],
        ['GET', '/api/v1/auth/login', 'POST'],
        ['HEAD', '/api/v1/auth/logout', 'POST'],
        ['POST', '/api/v1/auth/sessions/abc', 'DELETE'],
        ['DELETE', '/api/v1/admin/users', 'GET, HEAD, POST'],
      ] as const) {
        const r = await api(s.url, method, path, method === 'HEAD' || method === 'GET' ? {} : { body: {} });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.headers.get('allow'), `${method} ${path}`).toBe(allow);
        if (method !== 'HEAD') {
          expect(Object.keys(r.body).sort(), `${method} ${path}`).toEqual(['code', 'details', 'message']);
          expect(r.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { allow: allow.split(', ') } });
        }
      }
    }
    // a WebSocket upgrade by another method than GET
    const up = await rawUpgrade(bare, { Origin: bare.origin }, '/ws', 'POST');
    expect(up.status).toBe(405);
    expect(up.headers.allow).toBe('GET');
    expect(JSON.parse(up.body)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('a CORS preflight from no Origin or a foreign one: 403 FORBIDDEN with the error body; an allowed one: 204', async () => {
    const none = await api(web.url, 'OPTIONS', '/api/v1/rpc/time.get');
    expect(none.status).toBe(403);
    expect(none.headers.get('content-type')).toMatch(/^application\/json/);
    expect(none.body).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/Origin/) });
    const evil = await api(web.url, 'OPTIONS', '/api/v1/rpc/time.get', { headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatchObject({ code: 'FORBIDDEN', message: 'Origin not allowed' });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const ok = await api(web.url, 'OPTIONS', '/api/v1/rpc/time.get', { headers: { Origin: web.origin, 'Access-Control-Request-Method': 'POST' } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(web.origin);
  });
});

describe('query strings', () => {
  it('a number in a query string is read in any JSON form (1e2, 2.5e1), as it is over WebSocket', async () => {
    const admin = await setupAdmin(bare);
    const list = (q: string) => api(bare.url, 'GET', `/api/v1/rpc/orders.list?${q}`, { token: admin.accessToken });
    for (const q of ['limit=1e2', 'limit=2.5e1', 'limit=1E2', 'limit=5e%2B1', 'limit=100']) expect((await list(q)).status, q).toBe(200);
    // out of range whatever the form: the schema's error, not a type error
    const big = await list('limit=1e3');
    expect(big.status).toBe(400);
    expect(JSON.stringify(big.body.details)).not.toMatch(/expected number, received string/);
    // still strings where a string is meant
    expect((await api(bare.url, 'GET', '/api/v1/rpc/instruments.search?query=1e3')).status).toBe(200);
  });
});
