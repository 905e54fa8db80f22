/**
 * Test harness: each test file starts its own server (real HTTP + WebSocket on 127.0.0.1 port 0, real
 * SQLite files in a temp folder, removed afterwards). Argon2 runs with low-cost parameters here only;
 * config.test.ts proves the production defaults meet OWASP's minimum.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolClient, type ChannelName, type ChannelParams, type InstrumentSpec } from '../../engine/protocol/index.js';
import { buildServer, type App, type BuildOptions } from '../src/app.js';
import { ServerKey } from '../src/auth/crypto.js';
import type { ConfigInput } from '../src/config.js';
import { connectWs, wsPort, type ConnectWsOptions } from '../src/ws/client-port.js';
import type WebSocket from 'ws';
import { tempDirs } from '../../engine/test/support/temp.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests are checked by expect(), not by types
export type Json = any;

/** Paths of fresh users databases (`users.db` in a temp folder each), the folders removed after each test. */
export function tempDbs(prefix: string): () => string {
  const dir = tempDirs(prefix);
  return () => join(dir(), 'users.db');
}

export const FAST_ARGON2 = { memoryCost: 256, timeCost: 1, parallelism: 1 };
export const PASSWORD = 'correct horse battery staple';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  origin: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startServer(over: ConfigInput = {}, opts: BuildOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tdsrv-'));
  const cfg: ConfigInput = {
    db: join(dir, 'venue.db'),
    logLevel: 'silent',
    rendererDir: join(dir, 'no-renderer'),
    ...over,
    auth: { argon2: FAST_ARGON2, ...(over.auth ?? {}) },
  };
  const app = buildServer(cfg, { serverKey: ServerKey.forTests(), ...opts });
  const { port } = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    app,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    origin: url,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Res<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = Json>(
  base: string,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const r = await fetch(base + path, { method, headers, body });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON (metrics, html)
  }
  return { status: r.status, body: parsed as T, headers: r.headers };
}

export const rpc = <T = Json>(s: TestServer, method: string, params: unknown, token?: string, headers?: Record<string, string>) =>
  api<T>(s.url, 'POST', `/api/v1/rpc/${method}`, { body: params, ...(token !== undefined ? { token } : {}), ...(headers ? { headers } : {}) });

export interface Session {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  user: { id: number; username: string; role: string; accountId: number | null };
}

/** Creates the first admin with the setup token. */
export async function setupAdmin(s: TestServer, username = 'admin'): Promise<Session> {
  const r = await api(s.url, 'POST', '/api/v1/auth/setup', { body: { setupToken: s.app.setupToken, username, password: PASSWORD } });
  if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as Session;
}

export async function login(s: TestServer, username: string, password = PASSWORD, code?: string): Promise<Res> {
  return api(s.url, 'POST', '/api/v1/auth/login', { body: code === undefined ? { username, password } : { username, password, code } });
}

/** Admin creates a user (temporary password), the user signs in and sets their own password. */
export async function createUser(s: TestServer, admin: Session, username: string, role: 'admin' | 'trader' | 'viewer'): Promise<Session> {
  const temp = `temporary ${username} password`;
  const c = await api(s.url, 'POST', '/api/v1/admin/users', { token: admin.accessToken, body: { username, password: temp, role } });
  if (c.status !== 201) throw new Error(`create user failed: ${c.status} ${JSON.stringify(c.body)}`);
  const l = await login(s, username, temp);
  if (l.status !== 200) throw new Error(`login failed: ${l.status} ${JSON.stringify(l.body)}`);
  const p = await api(s.url, 'POST', '/api/v1/auth/password', { token: l.body.accessToken, body: { currentPassword: temp, newPassword: PASSWORD } });
  if (p.status !== 204) throw new Error(`password change failed: ${p.status} ${JSON.stringify(p.body)}`);
  return l.body as Session;
}

export const SPEC: InstrumentSpec = { symbol: 'ACME', name: 'Acme Corp', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 2000 };

export async function listInstrument(s: TestServer, admin: Session, spec: InstrumentSpec = SPEC): Promise<void> {
  const r = await rpc(s, 'admin.instrument.create', spec, admin.accessToken);
  if (r.status !== 200) throw new Error(`instrument: ${r.status} ${JSON.stringify(r.body)}`);
}

export async function fund(s: TestServer, admin: Session, accountId: number, amount = 100_000_000): Promise<void> {
  const r = await rpc(s, 'admin.account.fund', { accountId, amount }, admin.accessToken);
  if (r.status !== 200) throw new Error(`fund: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A connected ProtocolClient over a real WebSocket. */
export async function wsClient(s: TestServer, o: ConnectWsOptions = {}): Promise<{ ws: WebSocket; client: ProtocolClient }> {
  const ws = await connectWs(s.wsUrl, o.token === undefined && o.origin === undefined ? { ...o, origin: s.origin } : o);
  const client = new ProtocolClient(wsPort(ws), { timeoutMs: 5000 });
  await client.connect({ client: 'test' });
  return { ws, client };
}

/** Raw JSON messages over a socket (for malformed-input tests). */
export function rawInbox(ws: WebSocket): { next(pred?: (m: Json) => boolean, ms?: number): Promise<Json>; all: Json[] } {
  const all: Json[] = [];
  const waiters: { pred: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  let seen = 0;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    all.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    all,
    next(pred = () => true, ms = 3000) {
      for (let i = seen; i < all.length; i++) {
        if (pred(all[i])) {
          seen = i + 1;
          return Promise.resolve(all[i]);
        }
      }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out waiting for a message')), ms);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            seen = all.length;
            resolve(m);
          },
        });
      });
    },
  };
}

export function closed(ws: WebSocket, ms = 3000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    const t = setTimeout(() => reject(new Error('socket did not close')), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A WebSocket upgrade request as raw HTTP (any headers, even ones a WebSocket client would refuse to send):
 * the status, and the body when the server refused. A fresh Sec-WebSocket-Key unless `headers` give one.
 */
export function rawUpgrade(s: Pick<TestServer, 'url'>, headers: Record<string, string>, path = '/ws', method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: Number(new URL(s.url).port),
      path,
      method,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A subscription's pushes as they arrive, and a wait for one that matches (failing with what came instead). */
export async function watch<C extends ChannelName>(client: ProtocolClient, channel: C, params: ChannelParams<C>): Promise<{ seen: Json[]; pushed(pred: (d: Json) => boolean, ms?: number): Promise<Json> }> {
  const seen: Json[] = [];
  await client.subscribe(channel, params, { data: (d) => void seen.push(d) });
  return {
    seen,
    async pushed(pred, ms = 3000) {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) {
        const d = seen.find(pred);
        if (d !== undefined) return d;
      }
      throw new Error(`no such push on ${channel}: ${JSON.stringify(seen)}`);
    },
  };
}
