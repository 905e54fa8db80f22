/**
 * The hub against a REAL exchange server on 127.0.0.1 (server/src/app.ts buildServer, real SQLite, real
 * WebSocket): sign-in with the server's REST API, one shared WebSocket for every window, switching between
 * the local simulation and the firm, reconnect with backoff and re-subscribe across a server restart,
 * token renewal when the server refuses an expired access token, sign-out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupSchema, BackupStatusSchema, type HubStatus, type Quote } from '../../engine/protocol/index.js';
import { z } from 'zod';
import { buildServer, type App } from '../../server/src/app.js';
import { ServerKey } from '../../server/src/auth/crypto.js';
import type { ConfigInput } from '../../server/src/config.js';
import { FAST_ARGON2, PASSWORD, api, createUser, fund, listInstrument, login, setupAdmin, startServer, type Session, type TestServer } from '../../server/test/helpers.js';
import { base32Decode, totp } from '../../server/src/auth/totp.js';
import { MemoryStore, secretAccount } from '../src/credentials/store.js';
import { firmConnector } from '../src/hub/firm.js';
import { hubFixture, type HubFixture } from './fixtures.js';
import { Inbox, until } from './helpers.js';

/** A server we can stop and start again on the same port, files and key, with a clock we can move. */
class RestartableServer {
  app!: App;
  port = 0;
  clockOffsetMs = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'tdfirm-'));
  readonly key = ServerKey.forTests();
  readonly cfg: ConfigInput = {
    db: join(this.dir, 'venue.db'),
    logLevel: 'silent',
    rendererDir: join(this.dir, 'none'),
    sim: 'off',
    auth: { argon2: FAST_ARGON2 },
  };
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.app = buildServer(this.cfg, { serverKey: this.key, now: () => Date.now() + this.clockOffsetMs });
    this.port = (await this.app.listen(this.port, '127.0.0.1')).port;
  }
  async stop(): Promise<void> {
    await this.app.close();
  }
  /** The server helpers' view of it. */
  get ts(): TestServer {
    return { app: this.app, url: this.url, wsUrl: `ws://127.0.0.1:${this.port}/ws`, origin: this.url, dir: this.dir, stop: () => this.stop() };
  }
}

describe('hub ↔ firm server', () => {
  const server = new RestartableServer();
  let admin: Session;
  let trader: Session;
  let fx: HubFixture;
  const credentials = new MemoryStore();

  beforeAll(async () => {
    await server.start();
    admin = await setupAdmin(server.ts);
    await listInstrument(server.ts, admin, { symbol: 'ACME', name: 'Acme (firm)', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 2000 });
    trader = await createUser(server.ts, admin, 'alice', 'trader');
    await fund(server.ts, admin, trader.user.accountId!);
    fx = await hubFixture({
      credentials,
      firm: firmConnector({ credentials, clientName: 'tradedesk-test/1', backoff: { initialMs: 20, maxMs: 200, jitter: 0 } }),
    });
  });
  afterAll(async () => {
    await fx?.close();
    await server.stop().catch(() => undefined);
    rmSync(server.dir, { recursive: true, force: true });
  });

  it('switches local → firm → local; windows re-subscribe onto the new upstream and status reaches every window', async () => {
    const a = await fx.window({ windowId: 'main' });
    const b = await fx.window({ windowId: 'chart-1', panel: 'chart' });
    const statusA = new Inbox<HubStatus>();
    const statusB = new Inbox<HubStatus>();
    await a.subscribe('hub.status', {}, { data: statusA.push });
    await b.subscribe('hub.status', {}, { data: statusB.push });
    const quotes = new Inbox<Quote>();
    await b.subscribe('quotes', { symbols: ['ACME'] }, { data: quotes.push, error: quotes.error, resubscribed: quotes.onResubscribed });
    expect((await quotes.next()).previousClose).toBe(20_000); // the local ACME

    const profile = await a.call('hub.profiles.save', { name: 'Firm', url: server.url });
    // no stored session yet: the firm needs a sign-in (and there is no upstream until then)
    expect(await a.call('hub.connect', { profileId: profile.id })).toMatchObject({ state: 'login_required', mode: 'firm' });
    await statusB.next((s) => s.state === 'login_required');
    await expect(a.call('instruments.list')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });

    await expect(a.call('hub.login', { profileId: profile.id, username: 'alice', password: 'wrong password here' })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    const st = await a.call('hub.login', { profileId: profile.id, username: 'alice', password: PASSWORD });
    expect(st).toMatchObject({ state: 'connected', mode: 'firm', profileId: profile.id, username: 'alice', role: 'trader', accountId: trader.user.accountId });
    await statusB.next((s) => s.state === 'connected' && s.mode === 'firm');

    // the chart's quotes stream was ended with RESYNC_REQUIRED; its client re-subscribed onto the firm
    await until(() => quotes.resubscribed >= 1, 10_000, 'resubscribe');
    expect(quotes.errors.map((e) => e.code)).toContain('RESYNC_REQUIRED');
    expect((await quotes.next((q) => q.previousClose === 10_000)).symbol).toBe('ACME');
    expect((await a.call('instruments.list')).map((i) => i.name)).toEqual(['Acme (firm)']);
    expect((await b.call('account.get')).accountId).toBe(trader.user.accountId);

    // the refresh token is in the keychain, not in any profile
    expect(await a.call('hub.credentials.has', { profileId: profile.id, kind: 'refreshToken' })).toEqual({ present: true });
    expect((await a.call('hub.profiles.list')).profiles.find((p) => p.id === profile.id)).toMatchObject({ signedIn: true, username: 'alice' });

    // two windows, one WebSocket to the server
    expect(server.app.gateway.size).toBe(1);

    // and back to the local simulation
    expect(await a.call('hub.connect', { profileId: 'local' })).toMatchObject({ state: 'connected', mode: 'local' });
    await quotes.next((q) => q.previousClose === 20_000);
    await until(() => server.app.gateway.size === 0, 5000, 'firm socket closed');

    // connecting again resumes the stored session without a password
    expect(await a.call('hub.connect', { profileId: profile.id })).toMatchObject({ state: 'connected', mode: 'firm', username: 'alice' });
    await quotes.next((q) => q.previousClose === 10_000);
  });

  it('reconnects with backoff across a server restart, renews a refused token and re-subscribes', async () => {
    const a = await fx.window();
    const status = new Inbox<HubStatus>();
    await a.subscribe('hub.status', {}, { data: status.push });
    expect(await status.next()).toMatchObject({ state: 'connected', mode: 'firm' });
    const quotes = new Inbox<Quote>();
    const orders = new Inbox<{ orderId: number; status: string }>();
    await a.subscribe('quotes', { symbols: ['ACME'] }, { data: quotes.push, error: quotes.error, resubscribed: quotes.onResubscribed });
    await a.subscribe('orders', {}, { data: orders.push, error: orders.error, resubscribed: orders.onResubscribed });
    await quotes.next();
    const profileId = fx.profiles.activeId;
    const refreshBefore = await credentials.get(`${profileId}/refreshToken`);

    await server.stop();
    await status.next((s) => s.state === 'reconnecting');
    // while the server is down the hub keeps trying (attempts grow)
    await status.next((s) => s.state === 'reconnecting' && (s.attempt ?? 0) >= 2);

    // the server comes back 20 minutes later: the access token the hub holds has expired there
    server.clockOffsetMs = 20 * 60_000;
    await server.start();
    await status.next((s) => s.state === 'connected', 15_000);
    // it renewed its tokens with the refresh token (rotated, and the new one replaced the old in the keychain)
    const refreshAfter = await credentials.get(`${profileId}/refreshToken`);
    expect(refreshAfter).toBeDefined();
    expect(refreshAfter).not.toBe(refreshBefore);

    // the streams are live again without the window doing anything: a fresh quote; the orders stream
    // (events may have been missed) was told to resynchronise and re-subscribed
    quotes.skip();
    await until(() => orders.resubscribed >= 1, 10_000, 'orders resubscribed');
    expect(orders.errors.map((e) => e.code)).toEqual(['RESYNC_REQUIRED']);
    const placed = await a.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 5, price: 9_900, tif: 'day' });
    await orders.next((o) => o.orderId === placed.orderId);
    await quotes.next((q) => q.bid === 9_900);
    expect(server.app.gateway.size).toBe(1);
  });

  it('signs out: the session is revoked, the refresh token deleted, and the hub asks for a sign-in', async () => {
    const a = await fx.window();
    const profileId = fx.profiles.activeId;
    expect(fx.hub.status).toMatchObject({ state: 'connected', mode: 'firm' });
    const refresh = await credentials.get(`${profileId}/refreshToken`);
    const st = await a.call('hub.logout');
    expect(st).toMatchObject({ state: 'login_required', mode: 'firm', profileId });
    expect(await a.call('hub.credentials.has', { profileId, kind: 'refreshToken' })).toEqual({ present: false });
    // the old refresh token no longer works on the server
    const r = await fetch(`${server.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refreshToken: refresh }),
    });
    expect(r.status).toBe(401);
    await expect(a.call('hub.connect', { profileId })).resolves.toMatchObject({ state: 'login_required' });
  });

  it("an admin's window administers the firm's users through the hub (hub.admin), with the session the hub holds; nothing else is reachable", async () => {
    const a = await fx.window();
    const profileId = fx.profiles.activeId;
    expect(await a.call('hub.login', { profileId, username: 'admin', password: PASSWORD, remember: false })).toMatchObject({ state: 'connected', role: 'admin' });
    const users = (await a.call('hub.admin', { method: 'GET', path: '/admin/users' })) as { id: number; username: string; role: string }[];
    const alice = users.find((u) => u.username === 'alice')!;
    expect(alice).toMatchObject({ role: 'trader', disabled: false });
    expect(users.every((u) => !('passwordHash' in u))).toBe(true);
    // 20 minutes on, the server refuses the access token the hub holds: the hub renews it and asks again
    const offset = server.clockOffsetMs;
    server.clockOffsetMs += 20 * 60_000;
    const refreshes = async () => (await server.app.store.auditList({ action: 'auth.refresh', limit: 1000 })).filter((e) => e.username === 'admin').length;
    const before = await refreshes();
    expect(((await a.call('hub.admin', { method: 'GET', path: '/admin/users' })) as unknown[]).length).toBe(users.length);
    expect(await refreshes()).toBe(before + 1);
    server.clockOffsetMs = offset;
    expect(await a.call('hub.admin', { method: 'POST', path: `/admin/users/${alice.id}/role`, body: { role: 'viewer' } })).toMatchObject({ id: alice.id, role: 'viewer' });
    expect(await a.call('hub.admin', { method: 'POST', path: `/admin/users/${alice.id}/role`, body: { role: 'trader' } })).toMatchObject({ role: 'trader' });
    const log = (await a.call('hub.admin', { method: 'GET', path: '/admin/audit?action=admin.user.role&limit=2' })) as { action: string; username: string }[];
    expect(log.map((e) => [e.action, e.username])).toEqual([
      ['admin.user.role', 'admin'],
      ['admin.user.role', 'admin'],
    ]);
    // the panel's reads of the log at a moment (until) and its pages (before) go through the hub too
    const at = (until: number, before?: number) => a.call('hub.admin', { method: 'GET', path: `/admin/audit?limit=1000&action=admin.user.role&until=${until}${before !== undefined ? `&before=${before}` : ''}` }) as Promise<{ id: number; ts: number }[]>;
    const both = await at(8_640_000_000_000_000);
    expect(both.length).toBe(2);
    expect(await at(both[1]!.ts, both[1]!.id)).toEqual([]);
    expect(await at(0)).toEqual([]);
    // a typed filter with a space (URLSearchParams writes it as "+") is the server's to answer: no such action
    expect(await a.call('hub.admin', { method: 'GET', path: `/admin/audit?${new URLSearchParams({ limit: '5', action: 'admin user' })}` })).toEqual([]);
    // ...and an address, an IPv6 one's colons percent-encoded
    expect(((await a.call('hub.admin', { method: 'GET', path: `/admin/audit?${new URLSearchParams({ limit: '50', ip: '127.0.0.1', action: 'admin.user.role' })}` })) as unknown[]).length).toBe(2);
    expect(await a.call('hub.admin', { method: 'GET', path: `/admin/audit?${new URLSearchParams({ limit: '5', ip: '::ffff:127.0.0.2' })}` })).toEqual([]);
    // a backup of the server, and the list of them
    const made = BackupSchema.parse(await a.call('hub.admin', { method: 'POST', path: '/admin/backups' }));
    expect(made).toMatchObject({ trigger: 'admin', by: 'admin' });
    expect(z.array(BackupSchema).parse(await a.call('hub.admin', { method: 'GET', path: '/admin/backups', timeoutMs: 60_000 })).map((b) => b.name)).toEqual([made.name]);
    // the hub waits for the server as long as the window asks (a backup answers once it is made), and says
    // TIMEOUT past it; no longer than an hour
    await expect(a.call('hub.admin', { method: 'POST', path: '/admin/backups', timeoutMs: 1 })).rejects.toMatchObject({ code: 'TIMEOUT', details: { timeoutMs: 1 } });
    await expect(a.call('hub.admin', { method: 'GET', path: '/admin/backups', timeoutMs: 3_600_001 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // that backup goes on on the server, as its status says, and is listed once made
    const status = async () => BackupStatusSchema.parse(await a.call('hub.admin', { method: 'GET', path: '/admin/backups/status' }));
    for (let i = 0; i < 500 && (await status()).running !== null; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await status()).toEqual({ running: null, lastFailure: null });
    expect(z.array(BackupSchema).parse(await a.call('hub.admin', { method: 'GET', path: '/admin/backups' }))).toHaveLength(2);
    // as the Admin panel asks: answered as it begins, with its status
    expect(BackupStatusSchema.parse(await a.call('hub.admin', { method: 'POST', path: '/admin/backups?wait=false' })).running).toMatchObject({ trigger: 'admin', by: 'admin' });
    for (let i = 0; i < 500 && (await status()).running !== null; i++) await new Promise((r) => setTimeout(r, 20));
    expect(z.array(BackupSchema).parse(await a.call('hub.admin', { method: 'GET', path: '/admin/backups' }))).toHaveLength(3);
    // the server's refusals come back typed
    await expect(a.call('hub.admin', { method: 'POST', path: `/admin/users/${alice.id}/role`, body: { role: 'king' } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // only the administration routes: not the session's other powers
    for (const path of ['/auth/me', '/auth/logout', '/admin/../auth/me', '/admin/users/1/delete', '/admin/users/0/disable', 'admin/users', '/admin/users/1/disable?x=1', '/admin/audit#x', '//evil.example/admin/users', '/admin/backups/x', '/admin/backups/status/x', '/admin/backups?dir=/tmp', '/admin/backups?wait=false&dir=/tmp', '/admin/backups/status?wait=false'])
      await expect(a.call('hub.admin', { method: 'GET', path }), path).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // a trader's session gets the server's FORBIDDEN
    expect(await a.call('hub.login', { profileId, username: 'alice', password: PASSWORD, remember: false })).toMatchObject({ state: 'connected', role: 'trader' });
    await expect(a.call('hub.admin', { method: 'GET', path: '/admin/users' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // the local simulation has no server to administer
    await a.call('hub.connect', { profileId: 'local' });
    await expect(a.call('hub.admin', { method: 'GET', path: '/admin/users' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('two-factor sign-in passes through; without "remember" nothing is stored; an admin disabling the user ends the session', async () => {
    const a = await fx.window();
    // carol turns on TOTP on the server (the admin signs in again: the server's clock moved on)
    const admin2 = (await login(server.ts, 'admin')).body as Session;
    await createUser(server.ts, admin2, 'carol', 'trader');
    const first = (await login(server.ts, 'carol')).body as Session;
    const enrol = await api(server.url, 'POST', '/api/v1/auth/2fa/enroll', { token: first.accessToken, body: { password: PASSWORD } });
    const secret = base32Decode(enrol.body.secret as string);
    const verified = await api(server.url, 'POST', '/api/v1/auth/2fa/verify', { token: first.accessToken, body: { code: totp(secret, Date.now() + server.clockOffsetMs) } });
    expect(verified.status).toBe(200);
    const backup = (verified.body.backupCodes as string[])[0]!;

    const p = await a.call('hub.profiles.save', { name: 'Carol at the firm', url: server.url });
    await expect(a.call('hub.login', { profileId: p.id, username: 'carol', password: PASSWORD, remember: false })).rejects.toMatchObject({
      code: 'TWO_FACTOR_REQUIRED',
    });
    const st = await a.call('hub.login', { profileId: p.id, username: 'carol', password: PASSWORD, totp: backup, remember: false });
    expect(st).toMatchObject({ state: 'connected', mode: 'firm', username: 'carol' });
    expect(await a.call('hub.credentials.has', { profileId: p.id, kind: 'refreshToken' })).toEqual({ present: false });

    const status = new Inbox<HubStatus>();
    await a.subscribe('hub.status', {}, { data: status.push });
    const users = await api(server.url, 'GET', '/api/v1/admin/users', { token: admin2.accessToken });
    const carolId = (users.body as { id: number; username: string }[]).find((u) => u.username === 'carol')!.id;
    expect((await api(server.url, 'POST', `/api/v1/admin/users/${carolId}/disable`, { token: admin2.accessToken })).status).toBeLessThan(300);
    const over = await status.next((s) => s.state === 'login_required');
    // the reason reaches the windows, which say it in words (renderer/src/auth/ended.ts)
    expect(over.error).toMatchObject({ code: 'SESSION_REVOKED', details: { reason: 'user disabled' } });
    await expect(a.call('account.get')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a profile moved to another server while a sign-in to it runs keeps nothing of the old server', async () => {
    const store = new MemoryStore();
    const real = firmConnector({ credentials: store, clientName: 'tradedesk-test/1', backoff: { initialMs: 20, maxMs: 200, jitter: 0 } });
    let move!: () => void;
    const moved = new Promise<void>((r) => (move = r));
    let signingIn!: () => void;
    const started = new Promise<void>((r) => (signingIn = r));
    // the sign-in reaches the old server (and keeps its token) only after the move was saved
    const gated = { resume: real.resume, login: async (p: Parameters<typeof real.login>[0], c: Parameters<typeof real.login>[1]) => (signingIn(), await moved, real.login(p, c)) };
    const hx = await hubFixture({ credentials: store, firm: gated });
    try {
      const a = await hx.window();
      const profile = await a.call('hub.profiles.save', { name: 'Mover', url: server.url });
      const signIn = a.call('hub.login', { profileId: profile.id, username: 'alice', password: PASSWORD, remember: true });
      await started;
      await a.call('hub.profiles.save', { id: profile.id, name: 'Mover', url: 'https://elsewhere.example' });
      move();
      await expect(signIn).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store.get(secretAccount(profile.id, 'refreshToken'))).toBeUndefined();
      expect(hx.hub.status).not.toMatchObject({ profileId: profile.id, state: 'connected' });
    } finally {
      await hx.close();
    }
  });

  it('a renewal that times out is a passing trouble: the stored refresh token stays, and the error says TIMEOUT', async () => {
    // a server that takes the request and never answers
    const sockets = new Set<Socket>();
    const silent = createServer(() => undefined);
    silent.on('connection', (c) => sockets.add(c));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const store = new MemoryStore();
      await store.set(secretAccount('slow', 'refreshToken'), 'tdr_kept');
      const errors: unknown[] = [];
      const connector = firmConnector({ credentials: store, clientName: 'test', httpTimeoutMs: 100, backoff: { initialMs: 50, maxMs: 100 }, onError: (e) => errors.push(e) });
      const link = await connector.resume({ id: 'slow', name: 'Slow', kind: 'firm', url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, username: 'admin' });
      expect(link).toBeDefined();
      await expect(link!.rest('GET', '/admin/users')).rejects.toMatchObject({ code: 'TIMEOUT' });
      // a few renewals have timed out meanwhile (the link retries): the token is still there
      await new Promise((r) => setTimeout(r, 400));
      expect(await store.get(secretAccount('slow', 'refreshToken'))).toBe('tdr_kept');
      link!.close();
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});


describe('hub ↔ firm server: one stored session, never replayed nor sent elsewhere', () => {
  let firmServer: TestServer;
  let otherServer: TestServer;
  const account = (profileId: string) => secretAccount(profileId, 'refreshToken');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    firmServer = await startServer({ sim: 'off', auth: { argon2: FAST_ARGON2 } });
    otherServer = await startServer({ sim: 'off', auth: { argon2: FAST_ARGON2 } });
    const admin = await setupAdmin(firmServer);
    await createUser(firmServer, admin, 'alice', 'trader');
    await createUser(firmServer, admin, 'bob', 'trader');
  });
  afterAll(async () => {
    await firmServer?.stop();
    await otherServer?.stop();
  });

  /** How many times the firm's server saw a spent refresh token again (and revoked the session for it). */
  const replays = async () => (await firmServer.app.store.auditList({ action: 'auth.refresh_reuse', limit: 1000 })).length;

  /** A hub of its own, signed in to the firm (the token remembered), then switched back to the local simulation. */
  async function signedIn(store: MemoryStore = new MemoryStore()) {
    const hx = await hubFixture({ credentials: store, firm: firmConnector({ credentials: store, clientName: 'tradedesk-test/1', backoff: { initialMs: 20, maxMs: 200, jitter: 0 } }) });
    const a = await hx.window({ windowId: 'main' });
    const p = await a.call('hub.profiles.save', { name: 'Firm', url: firmServer.url });
    expect(await a.call('hub.login', { profileId: p.id, username: 'alice', password: PASSWORD, remember: true })).toMatchObject({ state: 'connected' });
    await a.call('hub.connect', { profileId: 'local' });
    return { hx, a, p, store };
  }

  /** The refresh requests this process sends (origin, token), their answers held back `delayMs` (a slow network). */
  function watchRefresh(delayMs = 0) {
    const sent: { origin: string; token: string }[] = [];
    const real = globalThis.fetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      const res = await real(input, init);
      if (url.endsWith('/api/v1/auth/refresh')) {
        sent.push({ origin: new URL(url).origin, token: (JSON.parse(String(init?.body)) as { refreshToken: string }).refreshToken });
        await sleep(delayMs);
      }
      return res;
    }) as typeof fetch;
    return { sent, restore: () => void (globalThis.fetch = real) };
  }

  it('two windows connecting to a signed-in profile at once share one resume: both are connected and the session is not revoked', async () => {
    const { hx, a, p, store } = await signedIn();
    try {
      const b = await hx.window({ windowId: 'chart-1', panel: 'chart' });
      const before = await replays();
      const [ra, rb] = await Promise.all([a.call('hub.connect', { profileId: p.id }), b.call('hub.connect', { profileId: p.id })]);
      expect(ra).toMatchObject({ state: 'connected', profileId: p.id });
      expect(rb).toMatchObject({ state: 'connected', profileId: p.id });
      await sleep(300);
      expect(hx.hub.status).toMatchObject({ state: 'connected', profileId: p.id });
      expect(await store.has(account(p.id))).toBe(true);
      expect(await replays()).toBe(before);
    } finally {
      await hx.close();
    }
  });

  it('leaving a profile while its session is being renewed keeps the renewed token: connecting again (at once, or later) resumes it', async () => {
    const { a, hx, p, store } = await signedIn();
    const net = watchRefresh(200);
    try {
      const before = await replays();
      const stored = await store.get(account(p.id));
      const firm = a.call('hub.connect', { profileId: p.id });
      await until(() => net.sent.length === 1, 5000, 'the renewal sent');
      expect(await a.call('hub.connect', { profileId: 'local' })).toMatchObject({ mode: 'local', state: 'connected' });
      await firm;
      // back at once: the renewal that was on its way is awaited, its token used (the stored one is spent)
      expect(await a.call('hub.connect', { profileId: p.id })).toMatchObject({ state: 'connected', profileId: p.id });
      expect(await store.get(account(p.id))).not.toBe(stored);
      await a.call('hub.connect', { profileId: 'local' });
      await until(() => firmServer.app.gateway.size === 0, 5000, 'firm socket closed');
      // and later: the keychain holds a token the server has not seen yet
      expect(await a.call('hub.connect', { profileId: p.id })).toMatchObject({ state: 'connected', profileId: p.id });
      expect(new Set(net.sent.map((s) => s.token)).size).toBe(net.sent.length);
      expect(await replays()).toBe(before);
      // signing out while a renewal is on its way: what it brings is not stored, and the session is over
      await a.call('hub.connect', { profileId: 'local' });
      const sent = net.sent.length;
      void a.call('hub.connect', { profileId: p.id });
      await until(() => net.sent.length === sent + 1 && hx.hub.status.profileId === p.id, 5000, 'the renewal sent');
      expect(await a.call('hub.logout')).toMatchObject({ state: 'login_required', profileId: p.id });
      await sleep(400);
      expect(await store.has(account(p.id))).toBe(false);
    } finally {
      net.restore();
      await hx.close();
    }
  });

  it("a session left while being renewed never overwrites a newer sign-in to its profile: the keychain keeps the new session, or nothing when it was not to be remembered", async () => {
    for (const remember of [true, false]) {
      const { a, hx, p, store } = await signedIn();
      const net = watchRefresh(400);
      try {
        const firm = a.call('hub.connect', { profileId: p.id });
        await until(() => net.sent.length === 1, 5000, 'the renewal sent');
        await a.call('hub.connect', { profileId: 'local' });
        // another user signs in to the profile while alice's renewal is on its way
        expect(await a.call('hub.login', { profileId: p.id, username: 'bob', password: PASSWORD, remember })).toMatchObject({ state: 'connected' });
        await firm;
        await sleep(600); // alice's renewal has come back
        const held = await store.get(account(p.id));
        if (!remember) expect(held).toBeUndefined();
        else {
          const who = await api(firmServer.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: held } });
          expect(who.status).toBe(200);
          expect((who.body as { user: { username: string } }).user.username).toBe('bob');
        }
      } finally {
        net.restore();
        await hx.close();
      }
    }
  });

  it('an edit moving a profile to another server while a window connects to it waits for that connect and is refused: no token reaches the other server', async () => {
    /** The OS keychain answers over D-Bus: a few ms per call. */
    class SlowKeychain extends MemoryStore {
      override async get(a: string) {
        await sleep(10);
        return super.get(a);
      }
      override async set(a: string, s: string) {
        await sleep(10);
        return super.set(a, s);
      }
      override async delete(a: string) {
        await sleep(10);
        return super.delete(a);
      }
    }
    const { a, hx, p, store } = await signedIn(new SlowKeychain());
    const net = watchRefresh();
    try {
      const b = await hx.window({ windowId: 'chart-1', panel: 'chart' });
      const connecting = b.call('hub.connect', { profileId: p.id });
      await sleep(1);
      await expect(a.call('hub.profiles.save', { id: p.id, name: 'Firm', url: otherServer.url })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await connecting).toMatchObject({ state: 'connected', profileId: p.id });
      expect(hx.profiles.get(p.id)?.url).toBe(firmServer.url);
      // moved once it is not in use: it keeps nothing, and the other server is sent nothing of the firm's
      await a.call('hub.connect', { profileId: 'local' });
      expect(await a.call('hub.profiles.save', { id: p.id, name: 'Firm', url: otherServer.url })).toMatchObject({ url: otherServer.url, signedIn: false });
      expect(await a.call('hub.connect', { profileId: p.id })).toMatchObject({ state: 'login_required' });
      expect(await store.has(account(p.id))).toBe(false);
      expect(net.sent.filter((s) => s.origin !== firmServer.url)).toEqual([]);
    } finally {
      net.restore();
      await hx.close();
    }
  });

  it('a session left while being renewed does not store its token under its profile once that was moved to another server', async () => {
    const { a, hx, p, store } = await signedIn();
    const net = watchRefresh(300);
    try {
      const firm = a.call('hub.connect', { profileId: p.id });
      await until(() => net.sent.length === 1, 5000, 'the renewal sent');
      await a.call('hub.connect', { profileId: 'local' });
      await firm;
      expect(await a.call('hub.profiles.save', { id: p.id, name: 'Firm', url: otherServer.url })).toMatchObject({ url: otherServer.url, signedIn: false });
      await sleep(500); // the renewal's answer (the firm's new token) has arrived
      expect(await store.has(account(p.id))).toBe(false);
      expect(await a.call('hub.connect', { profileId: p.id })).toMatchObject({ state: 'login_required' });
      expect(net.sent.filter((s) => s.origin !== firmServer.url)).toEqual([]);
    } finally {
      net.restore();
      await hx.close();
    }
  });

  it('a token renewal answered by something other than the server refusing the token (a wrong path: 404) keeps the stored session', async () => {
    const store = new MemoryStore();
    await store.set(account('misrouted'), 'tdr_kept');
    const errors: unknown[] = [];
    const connector = firmConnector({ credentials: store, clientName: 'test', backoff: { initialMs: 50, maxMs: 100 }, onError: (e) => errors.push(e) });
    // the firm's server, with a path before /api/v1 that it does not serve
    const link = await connector.resume({ id: 'misrouted', name: 'Misrouted', kind: 'firm', url: `${firmServer.url}/desk`, username: 'alice' });
    expect(link).toBeDefined();
    try {
      await until(() => link!.upstream.status.error !== undefined, 5000, 'a failed attempt');
      expect(link!.upstream.status).toMatchObject({ state: 'reconnecting', error: { code: 'UNAVAILABLE', message: expect.stringContaining('No route') } });
      await sleep(300); // a few more attempts
      expect(await store.get(account('misrouted'))).toBe('tdr_kept');
    } finally {
      link!.close();
    }
  });
});
