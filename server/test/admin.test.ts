import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditEntrySchema, ChangedUserSchema, PublicUserSchema, TokenPairSchema } from '../../engine/protocol/index.js';
import { PASSWORD, api, closed, createUser, fund, listInstrument, login, rpc, setupAdmin, wsClient, type Session, type TestServer, startServer } from './helpers.js';

let s: TestServer;
let admin: Session;
let trader: Session;

beforeAll(async () => {
  s = await startServer();
  admin = await setupAdmin(s);
  trader = await createUser(s, admin, 'terry', 'trader');
});
afterAll(() => s.stop());

describe('instruments', () => {
  it('create, list, halt and resume', async () => {
    await listInstrument(s, admin);
    const dup = await rpc(s, 'admin.instrument.create', { symbol: 'ACME', name: 'Again', tickSize: 1, lotSize: 1, referencePrice: 100, bandBps: 100 }, admin.accessToken);
    expect(dup.status).toBe(422);
    expect(dup.body.code).toBe('DUPLICATE_SYMBOL');
    const bad = await rpc(s, 'admin.instrument.create', { symbol: 'bad sym', name: '', tickSize: 0 }, admin.accessToken);
    expect(bad.status).toBe(400);
    expect((await rpc(s, 'instruments.list', {})).body).toHaveLength(1);
    await fund(s, admin, trader.user.accountId!);
    const halt = await rpc(s, 'admin.instrument.setStatus', { symbol: 'ACME', status: 'halted' }, admin.accessToken);
    expect(halt.body.status).toBe('halted');
    const o = await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 10_000, tif: 'gtc' }, trader.accessToken);
    expect(o.status).toBe(422);
    expect(o.body.code).toBe('MARKET_HALTED');
    expect((await rpc(s, 'admin.instrument.setStatus', { symbol: 'ACME', status: 'open' }, admin.accessToken)).body.status).toBe('open');
    expect((await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 10_000, tif: 'gtc' }, trader.accessToken)).status).toBe(200);
    expect((await rpc(s, 'admin.instrument.setStatus', { symbol: 'NOPE', status: 'open' }, admin.accessToken)).body.code).toBe('UNKNOWN_SYMBOL');
  });
});

describe('cash', () => {
  it('fund and withdraw', async () => {
    const before = (await rpc(s, 'account.get', {}, trader.accessToken)).body.cash;
    const f = await rpc(s, 'admin.account.fund', { accountId: trader.user.accountId, amount: 5_000 }, admin.accessToken);
    expect(f.body.cash).toBe(before + 5_000);
    const w = await rpc(s, 'admin.account.withdraw', { accountId: trader.user.accountId, amount: 2_000 }, admin.accessToken);
    expect(w.body.cash).toBe(before + 3_000);
    const over = await rpc(s, 'admin.account.withdraw', { accountId: trader.user.accountId, amount: 10_000_000_000 }, admin.accessToken);
    expect(over.status).toBe(422);
    expect(over.body.code).toBe('INSUFFICIENT_FUNDS');
    expect((await rpc(s, 'admin.account.fund', { accountId: 99_999, amount: 1 }, admin.accessToken)).body.code).toBe('UNKNOWN_ACCOUNT');
    // an admin reads any account as its owner sees it; nobody else may
    const own = (await rpc(s, 'account.get', {}, trader.accessToken)).body;
    const seen = await rpc(s, 'admin.account.get', { accountId: trader.user.accountId }, admin.accessToken);
    expect(seen.body).toEqual(own);
    expect((await api(s.url, 'GET', `/api/v1/rpc/admin.account.get?accountId=${trader.user.accountId}`, { token: admin.accessToken })).body).toEqual(own);
    expect((await rpc(s, 'admin.account.get', { accountId: trader.user.accountId }, trader.accessToken)).status).toBe(403);
    expect((await rpc(s, 'admin.account.get', { accountId: 99_999 }, admin.accessToken)).body.code).toBe('UNKNOWN_ACCOUNT');
    expect((await rpc(s, 'admin.account.fund', { accountId: 1, amount: -5 }, admin.accessToken)).status).toBe(400);
  });
});

describe('users', () => {
  it('lists users, changes roles and disables users, closing their sockets at once', async () => {
    const list = await api(s.url, 'GET', '/api/v1/admin/users', { token: admin.accessToken });
    // the answers are what the protocol's REST schemas say (clients check them)
    // (strict: a field the schemas do not declare, a hash say, fails)
    expect(z.array(PublicUserSchema.strict()).safeParse(list.body).success).toBe(true);
    expect(TokenPairSchema.extend({ user: PublicUserSchema.strict() }).strict().safeParse((await login(s, 'terry')).body).success).toBe(true);
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(['admin', 'terry']);
    expect(JSON.stringify(list.body)).not.toMatch(/argon2|hash/);
    const { ws } = await wsClient(s, { token: trader.accessToken });
    const gone = closed(ws);
    const d = await api(s.url, 'POST', `/api/v1/admin/users/${trader.user.id}/disable`, { token: admin.accessToken });
    expect(d.status).toBe(200);
    expect(ChangedUserSchema.strict().safeParse(d.body).success).toBe(true);
    expect(d.body.disabled).toBe(true);
    expect(await gone).toMatchObject({ code: 1008, reason: 'SESSION_REVOKED' });
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: trader.accessToken })).status).toBe(401);
    const l = await login(s, 'terry');
    expect(l.status).toBe(403);
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${admin.user.id}/disable`, { token: admin.accessToken })).status).toBe(409);
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${trader.user.id}/enable`, { token: admin.accessToken })).body.disabled).toBe(false);
    const t2 = (await login(s, 'terry')).body as Session;
    const r = await api(s.url, 'POST', `/api/v1/admin/users/${trader.user.id}/role`, { token: admin.accessToken, body: { role: 'viewer' } });
    expect(r.body.role).toBe('viewer');
    expect((await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 10_000, tif: 'gtc' }, t2.accessToken)).status).toBe(403);
    expect((await api(s.url, 'POST', '/api/v1/admin/users/abc/disable', { token: admin.accessToken })).status).toBe(400);
    expect((await api(s.url, 'POST', '/api/v1/admin/users/999/disable', { token: admin.accessToken })).status).toBe(404);
  });
});

describe('audit log', () => {
  it('records logins and failures, orders, cancels and admin actions: who, what, when, from where', async () => {
    await login(s, 'admin', 'definitely wrong');
    await api(s.url, 'POST', `/api/v1/admin/users/${trader.user.id}/role`, { token: admin.accessToken, body: { role: 'trader' } });
    const t = (await login(s, 'terry', PASSWORD)).body as Session;
    const o = await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_999, tif: 'gtc' }, t.accessToken);
    await rpc(s, 'order.cancel', { orderId: o.body.orderId }, t.accessToken);
    const { client } = await wsClient(s, { token: t.accessToken });
    const o2 = await client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_998, tif: 'gtc' });
    await client.call('order.cancel', { orderId: o2.orderId });
    client.close();
    const all = (await api(s.url, 'GET', '/api/v1/admin/audit?limit=1000', { token: admin.accessToken })).body as { action: string; username: string; ip: string; ts: number; details: Record<string, unknown> }[];
    expect(z.array(AuditEntrySchema.strict()).safeParse(all).success).toBe(true);
    const actions = new Set(all.map((a) => a.action));
    for (const a of ['auth.setup', 'auth.login', 'auth.login_failed', 'user.create', 'order.place', 'order.cancel', 'admin.CreateInstrument', 'admin.SetInstrumentStatus', 'admin.Deposit', 'admin.Withdraw', 'admin.user.disable', 'admin.user.enable', 'admin.user.role'])
      expect(actions, a).toContain(a);
    const place = all.filter((a) => a.action === 'order.place' && a.username === 'terry');
    expect(place.map((p) => p.details.via).sort()).toEqual(expect.arrayContaining(['rest', 'ws']));
    for (const p of place) expect(p).toMatchObject({ ip: expect.stringMatching(/127\.0\.0\.1/), ts: expect.any(Number) });
    const failed = all.find((a) => a.action === 'auth.login_failed' && a.details.reason === 'wrong password')!;
    expect(failed.username).toBe('admin');
    expect(JSON.stringify(all)).not.toContain('definitely wrong');
    const onlyTerry = await api(s.url, 'GET', `/api/v1/admin/audit?userId=${trader.user.id}&action=order`, { token: admin.accessToken });
    expect(onlyTerry.body.every((a: { action: string; username: string }) => a.username === 'terry' && a.action.startsWith('order.'))).toBe(true);
    // an action filter is the action or those under it, ASCII letters in either case, no wildcards
    const under = async (action: string): Promise<string[]> =>
      ((await api(s.url, 'GET', `/api/v1/admin/audit?limit=1000&action=${encodeURIComponent(action)}`, { token: admin.accessToken })).body as { action: string }[]).map((a) => a.action);
    const expected = (f: (a: string) => boolean) => all.filter((a) => f(a.action)).map((a) => a.action);
    expect(await under('admin.user')).toEqual(expected((a) => a.startsWith('admin.user.')));
    expect(await under('admin.user').then((l) => l.length)).toBeGreaterThanOrEqual(3);
    expect(await under('admin.Deposit')).toEqual(expected((a) => a === 'admin.Deposit'));
    expect(await under('admin.deposit')).toEqual(expected((a) => a === 'admin.Deposit'));
    expect(await under('ADMIN')).toEqual(expected((a) => a.startsWith('admin.')));
    expect(await under('ADMIN').then((l) => l.length)).toBeGreaterThanOrEqual(7);
    expect(await under('auth.login')).toEqual(expected((a) => a === 'auth.login'));
    expect(await under('auth.login_%')).toEqual([]);
    expect(await under('auth')).toEqual(expected((a) => a.startsWith('auth.')));
    // an empty (or blank) filter is no filter; spaces around one are not part of it
    expect(await under('')).toEqual(all.map((a) => a.action));
    expect(await under('  ')).toEqual(all.map((a) => a.action));
    expect(await under(' auth ')).toEqual(expected((a) => a.startsWith('auth.')));
    expect((await api(s.url, 'GET', '/api/v1/admin/audit?limit=0', { token: admin.accessToken })).status).toBe(400);
    // from where: an address's entries (every client here is 127.0.0.1); without a user, all but placed
    // orders, with one all of theirs; an address in either case, none for another, a bad one refused
    const from = async (q: string) => ((await api(s.url, 'GET', `/api/v1/admin/audit?limit=1000&${q}`, { token: admin.accessToken })).body as typeof all).map((a) => `${a.action} ${a.username}`);
    const local = all.filter((a) => a.ip === '127.0.0.1');
    expect(local.length).toBeGreaterThan(10);
    expect(await from('ip=127.0.0.1')).toEqual(local.filter((a) => a.action !== 'order.place').map((a) => `${a.action} ${a.username}`));
    expect(await from('ip=127.0.0.1')).toContain('auth.login_failed admin');
    expect(await from(`ip=127.0.0.1&userId=${trader.user.id}`)).toEqual(local.filter((a) => a.username === 'terry').map((a) => `${a.action} ${a.username}`));
    expect(await from(`ip=127.0.0.1&userId=${trader.user.id}`)).toContain('order.place terry');
    expect(await from('ip=127.0.0.1&action=auth.login_failed')).toEqual(local.filter((a) => a.action === 'auth.login_failed').map((a) => `${a.action} ${a.username}`));
    expect(await from('ip=203.0.113.9')).toEqual([]);
    // the address of a request whose connection was gone before it was read
    expect(await from('ip=Unknown')).toEqual([]);
    expect(await from('ip=')).toEqual(all.map((a) => `${a.action} ${a.username}`));
    const bad = await api(s.url, 'GET', '/api/v1/admin/audit?ip=127.0.0.1%20OR%201', { token: admin.accessToken });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'BAD_REQUEST' });
    expect(JSON.stringify(bad.body)).toMatch(/IPv4 or IPv6/);
    // and an entry with it is found by it
    s.app.store.audit({ ts: Date.now(), username: 'ghost', ip: 'unknown', action: 'auth.login_failed' });
    await s.app.store.auditSettled();
    expect(await from('ip=Unknown')).toEqual(['auth.login_failed ghost']);
  });
});
