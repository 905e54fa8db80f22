/**
 * What an admin's change of a user does beyond the user row: a user who can no longer trade (disabled, or
 * made a viewer) has their working orders canceled, even one still in flight; a request is judged by its
 * sender's rights when its body has arrived, not when its headers did; and no change leaves the server
 * without an active admin.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientInfo, Principal } from '../src/auth/service.js';
import { base32Decode, totp } from '../src/auth/totp.js';
import { PASSWORD, api, closed, createUser, fund, listInstrument, login, rpc, setupAdmin, watch, wsClient, type Json, type Session, type TestServer, startServer } from './helpers.js';

let s: TestServer;
let admin: Session;

beforeAll(async () => {
  s = await startServer();
  admin = await setupAdmin(s);
  await listInstrument(s, admin);
});
afterAll(() => s.stop());

const buy = (price: number) => ({ symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price, tif: 'gtc' }) as const;

async function fundedTrader(name: string, prices = [9_000, 9_100, 9_200]): Promise<Session> {
  const t = await createUser(s, admin, name, 'trader');
  await fund(s, admin, t.user.accountId!);
  for (const price of prices) expect((await rpc(s, 'order.place', buy(price), t.accessToken)).status).toBe(200);
  return t;
}

const open = (accountId: number) => s.app.venue.view.openOrders(accountId);
const canceled = (accountId: number) => s.app.venue.orders({ accountId, status: 'canceled', limit: 100 }).items.length;

async function audit(action: string): Promise<Json[]> {
  const r = await api(s.url, 'GET', `/api/v1/admin/audit?action=${action}`, { token: admin.accessToken });
  expect(r.status).toBe(200);
  return r.body;
}

/** A POST whose headers go now and whose body goes when `send` is called; resolves with the answer. */
function slowPost(path: string, token: string, body: unknown): { send(): Promise<{ status: number; body: Json }> } {
  const text = JSON.stringify(body);
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
  const req = request(s.url + path, { method: 'POST', headers });
  const answer = new Promise<{ status: number; body: Json }>((resolve, reject) => {
    req.on('response', (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(data) }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return {
    send() {
      req.end(text);
      return answer;
    },
  };
}

describe('a user who can no longer trade', () => {
  it('disabling cancels every working order, one still in flight included, and says how many', async () => {
    const t = await fundedTrader('kim');
    const acct = t.user.accountId!;
    const { ws, client } = await wsClient(s, { token: t.accessToken });
    const gone = closed(ws);
    const lastWord = new Promise<{ error?: unknown }>((r) => client.onClose(r));
    // Sent together: the order reaches the venue before the disable, or its socket is closed first.
    const late = client.call('order.place', buy(9_300)).catch(() => undefined);
    const d = await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/disable`, { token: admin.accessToken });
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ disabled: true });
    expect(await gone).toMatchObject({ reason: 'SESSION_REVOKED' });
    // the socket's last word, the token and the refresh token say why, so the user's screen can
    const why = { code: 'SESSION_REVOKED', message: 'The session was revoked (user disabled); sign in again', details: { reason: 'user disabled' } };
    expect((await lastWord).error).toEqual(why);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: t.accessToken })).body).toEqual(why);
    expect((await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: t.refreshToken } })).body).toEqual(why);
    await late; // refused either way: the socket closes before the order's answer could go out
    expect(open(acct)).toEqual([]);
    expect([3, 4]).toContain(d.body.canceledOrders);
    expect(canceled(acct)).toBe(d.body.canceledOrders);
    expect(s.app.venue.orders({ accountId: acct, limit: 100 }).items).toHaveLength(d.body.canceledOrders);
    const [entry] = await audit('admin.user.disable');
    expect(entry).toMatchObject({ username: 'admin', details: { userId: t.user.id, username: 'kim', canceledOrders: d.body.canceledOrders } });

    // Enabling cancels nothing and brings nothing back.
    const e = await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/enable`, { token: admin.accessToken });
    expect(e.body).toMatchObject({ disabled: false, canceledOrders: 0 });
    expect(open(acct)).toEqual([]);
  });

  it('an order queued for the same group commit as the disable is canceled too, when it is the only one', async () => {
    const t = await fundedTrader('lou', []);
    const acct = t.user.accountId!;
    // Queued in the venue, not yet executed, when the admin's change runs.
    const queued = s.app.venue.submit({ type: 'PlaceOrder', accountId: acct, ...buy(9_400) });
    const changed = await s.app.auth.setDisabled(adminPrincipal(), t.user.id, true, CLIENT);
    expect((await queued).rejected).toBeUndefined();
    expect(changed.canceledOrders).toBe(1);
    expect(open(acct)).toEqual([]);
  });

  it('making a trader a viewer cancels their orders; making them an admin does not', async () => {
    const t = await fundedTrader('max');
    const acct = t.user.accountId!;
    const { ws, client } = await wsClient(s, { token: t.accessToken });
    const gone = closed(ws);
    const lastWord = new Promise<{ error?: unknown }>((r) => client.onClose(r));
    const up = await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/role`, { token: admin.accessToken, body: { role: 'admin' } });
    expect(up.body).toMatchObject({ role: 'admin', canceledOrders: 0 });
    // the user's sockets close, saying why, as a revoked session's do
    expect(await gone).toMatchObject({ reason: 'SESSION_REVOKED' });
    expect((await lastWord).error).toEqual({ code: 'SESSION_REVOKED', message: 'Signed out (role changed); sign in again', details: { reason: 'role changed' } });
    expect(open(acct)).toHaveLength(3);
    const down = await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/role`, { token: admin.accessToken, body: { role: 'viewer' } });
    expect(down.body).toMatchObject({ role: 'viewer', canceledOrders: 3 });
    expect(open(acct)).toEqual([]);
    const [entry] = await audit('admin.user.role');
    expect(entry.details).toMatchObject({ username: 'max', from: 'admin', to: 'viewer', canceledOrders: 3 });
  });
});

describe('when the venue cannot cancel', () => {
  it('the user is disabled all the same; the answer is 503 and the audit log says why', async () => {
    const v = await startServer();
    try {
      const a = await setupAdmin(v);
      await listInstrument(v, a);
      const t = await createUser(v, a, 'quin', 'trader');
      await fund(v, a, t.user.accountId!);
      expect((await rpc(v, 'order.place', buy(9_000), t.accessToken)).status).toBe(200);
      v.app.venue.close();
      const d = await api(v.url, 'POST', `/api/v1/admin/users/${t.user.id}/disable`, { token: a.accessToken });
      expect(d.status).toBe(503);
      expect(d.body.code).toBe('UNAVAILABLE');
      expect((await api(v.url, 'GET', '/api/v1/auth/me', { token: t.accessToken })).status).toBe(401);
      const users = (await api(v.url, 'GET', '/api/v1/admin/users', { token: a.accessToken })).body as Json[];
      expect(users.find((u) => u.username === 'quin')).toMatchObject({ disabled: true });
      const [entry] = (await api(v.url, 'GET', '/api/v1/admin/audit?action=admin.user.disable', { token: a.accessToken })).body as Json[];
      expect(entry.details).toMatchObject({ username: 'quin', canceledOrders: 0, cancelFailed: 'The venue is not available right now' });
    } finally {
      await v.stop();
    }
  });
});

describe('requests judged as of their body', () => {
  it('an order whose body arrives after its trader was disabled is refused', async () => {
    const t = await fundedTrader('ned');
    const acct = t.user.accountId!;
    const place = slowPost('/api/v1/rpc/order.place', t.accessToken, buy(9_500));
    await new Promise((r) => setTimeout(r, 100));
    const d = await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/disable`, { token: admin.accessToken });
    expect(d.body.canceledOrders).toBe(3);
    const late = await place.send();
    expect(late.status).toBe(401);
    expect(open(acct)).toEqual([]);
    expect(s.app.venue.orders({ accountId: acct, limit: 100 }).items).toHaveLength(3);
  });


  it('a request whose body arrives after its sender lost admin rights is refused, and an admin remains', async () => {
    const b = await createUser(s, admin, 'bea', 'admin');
    // Bea starts to demote the first admin; her headers are authenticated while she is an admin.
    const demote = slowPost(`/api/v1/admin/users/${admin.user.id}/role`, b.accessToken, { role: 'viewer' });
    await new Promise((r) => setTimeout(r, 100));
    // Meanwhile the first admin demotes her.
    const r = await api(s.url, 'POST', `/api/v1/admin/users/${b.user.id}/role`, { token: admin.accessToken, body: { role: 'trader' } });
    expect(r.body.role).toBe('trader');
    const late = await demote.send();
    expect(late.status).toBe(403);
    expect(late.body.code).toBe('FORBIDDEN');
    const me = await api(s.url, 'GET', '/api/v1/auth/me', { token: admin.accessToken });
    expect(me.body.role).toBe('admin');
  });

  it('a stale admin principal cannot change users, so an active admin always remains', async () => {
    const c = await createUser(s, admin, 'cyd', 'admin');
    const cyd: Principal = { userId: c.user.id, username: 'cyd', role: 'admin', accountId: c.user.accountId ?? undefined, sessionId: c.sessionId, mustChangePassword: false };
    await api(s.url, 'POST', `/api/v1/admin/users/${c.user.id}/disable`, { token: admin.accessToken });
    // Cyd's principal, taken before she was disabled, is refused at the change itself.
    await expect(s.app.auth.setRole(cyd, admin.user.id, 'viewer', CLIENT)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(s.app.auth.setDisabled(cyd, admin.user.id, true, CLIENT)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(s.app.store.adminCount()).toBe(1);
    // The remaining admin cannot step down either.
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${admin.user.id}/role`, { token: admin.accessToken, body: { role: 'trader' } })).status).toBe(409);
    // Enabled again, Cyd may be demoted by the other admin.
    await api(s.url, 'POST', `/api/v1/admin/users/${c.user.id}/enable`, { token: admin.accessToken });
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${c.user.id}/role`, { token: admin.accessToken, body: { role: 'trader' } })).body.role).toBe('trader');
    expect(s.app.store.adminCount()).toBe(1);
  });
});

describe('an admin recovers a user who cannot sign in', () => {
  it('a forgotten password: a temporary one, to be changed at the next sign-in; every session ends', async () => {
    const t = await fundedTrader('ora', []);
    const { ws } = await wsClient(s, { token: t.accessToken });
    const gone = closed(ws);
    const path = `/api/v1/admin/users/${t.user.id}/password`;
    // a user's own password is not reset here, nor by a trader, nor to a weak one
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${admin.user.id}/password`, { token: admin.accessToken, body: { password: 'temporary passphrase 9' } })).status).toBe(409);
    expect((await api(s.url, 'POST', path, { token: t.accessToken, body: { password: 'temporary passphrase 9' } })).status).toBe(403);
    const weak = await api(s.url, 'POST', path, { token: admin.accessToken, body: { password: 'password' } });
    expect(weak.body.code).toBe('WEAK_PASSWORD');
    expect((await api(s.url, 'POST', path, { token: admin.accessToken, body: {} })).status).toBe(400);

    const r = await api(s.url, 'POST', path, { token: admin.accessToken, body: { password: 'temporary passphrase 9' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ username: 'ora', mustChangePassword: true, sessionsRevoked: 1 });
    expect(await gone).toMatchObject({ reason: 'SESSION_REVOKED' });
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: t.accessToken })).body.details).toEqual({ reason: 'password reset' });
    expect((await login(s, 'ora')).status).toBe(401);
    const temp = (await login(s, 'ora', 'temporary passphrase 9')).body as Session & { user: { mustChangePassword: boolean } };
    expect(temp.user.mustChangePassword).toBe(true);
    expect((await rpc(s, 'account.get', {}, temp.accessToken)).body).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'password_change_required' } });
    const changed = await api(s.url, 'POST', '/api/v1/auth/password', { token: temp.accessToken, body: { currentPassword: 'temporary passphrase 9', newPassword: PASSWORD } });
    expect(changed.status).toBe(204);
    expect((await rpc(s, 'account.get', {}, temp.accessToken)).status).toBe(200);
    const [entry] = await audit('admin.user.password_reset');
    expect(entry).toMatchObject({ username: 'admin', details: { userId: t.user.id, username: 'ora', sessionsRevoked: 1 } });
    expect(JSON.stringify(entry)).not.toContain('temporary passphrase');
  });

  it('a lost authenticator: 2FA off (secret and backup codes gone), every session ends; the user may enrol again', async () => {
    const t = await createUser(s, admin, 'pia', 'trader');
    const e = await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token: t.accessToken, body: { password: PASSWORD } });
    const secret = base32Decode(e.body.secret);
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/verify', { token: t.accessToken, body: { code: totp(secret, Date.now()) } })).status).toBe(200);
    expect((await login(s, 'pia')).body.code).toBe('TWO_FACTOR_REQUIRED');

    const path = `/api/v1/admin/users/${t.user.id}/2fa/reset`;
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${admin.user.id}/2fa/reset`, { token: admin.accessToken })).status).toBe(409);
    expect((await api(s.url, 'POST', path, { token: t.accessToken })).status).toBe(403);
    const r = await api(s.url, 'POST', path, { token: admin.accessToken });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ username: 'pia', totpEnabled: false, sessionsRevoked: 1 });
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: t.accessToken })).status).toBe(401);
    const again = (await login(s, 'pia')).body as Session;
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: again.accessToken })).body).toMatchObject({ totpEnabled: false, backupCodesLeft: 0 });
    // nothing left to reset
    expect((await api(s.url, 'POST', path, { token: admin.accessToken })).body.code).toBe('CONFLICT');
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token: again.accessToken, body: { password: PASSWORD } })).status).toBe(200);
    const [entry] = await audit('admin.user.2fa_reset');
    expect(entry).toMatchObject({ username: 'admin', details: { userId: t.user.id, username: 'pia', sessionsRevoked: 1 } });
  });
});

describe('a sign-in or a user change under way when an admin changes the user', () => {
  // The password check takes a while (argon2 on a worker); the admin's change lands during it.
  it('does not give a session to a user disabled meanwhile', async () => {
    const t = await createUser(s, admin, 'rex', 'trader');
    const signIn = s.app.auth.login({ username: 'rex', password: PASSWORD }, CLIENT);
    await s.app.auth.setDisabled(adminPrincipal(), t.user.id, true, CLIENT);
    await expect(signIn).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await api(s.url, 'GET', '/api/v1/auth/sessions', { token: admin.accessToken })).status).toBe(200);
    expect(s.app.store.listUsers().find((u) => u.username === 'rex')?.disabled).toBe(1);
  });

  it('does not let an admin demoted meanwhile create a user', async () => {
    const tom = await createUser(s, admin, 'tom', 'admin');
    const creating = s.app.auth.register({ username: 'uma', password: 'temporary passphrase 1' }, s.app.auth.authenticate(tom.accessToken), CLIENT, undefined);
    await s.app.auth.setRole(adminPrincipal(), tom.user.id, 'trader', CLIENT);
    await expect(creating).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(s.app.store.userByName('uma')).toBeUndefined();
  });

  it('does not accept the old password once an admin reset it, nor let a password change undo the reset', async () => {
    const t = await createUser(s, admin, 'sal', 'trader');
    // What a reset writes, once its own hashing is done: here it lands while the sign-in checks the old password.
    const reset = async (password: string) => {
      const hash = await s.app.auth.hashes.hash(password);
      return () => s.app.store.updateUser(t.user.id, { password_hash: hash, must_change_password: 1 }, Date.now());
    };
    const write7 = await reset('temporary passphrase 7');
    const signIn = s.app.auth.login({ username: 'sal', password: PASSWORD }, CLIENT);
    write7();
    await expect(signIn).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });

    const temp = await s.app.auth.login({ username: 'sal', password: 'temporary passphrase 7' }, CLIENT);
    const principal = s.app.auth.authenticate(temp.accessToken);
    const write8 = await reset('temporary passphrase 8');
    const change = s.app.auth.changePassword(principal, 'temporary passphrase 7', 'the user chose this one', CLIENT);
    write8();
    await expect(change).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(s.app.auth.login({ username: 'sal', password: 'temporary passphrase 8' }, CLIENT)).resolves.toMatchObject({ user: { mustChangePassword: true } });
  });
});

const CLIENT: ClientInfo = { ip: '127.0.0.1', userAgent: 'test' };

function adminPrincipal(): Principal {
  return { userId: admin.user.id, username: 'admin', role: 'admin', accountId: admin.user.accountId ?? undefined, sessionId: admin.sessionId, mustChangePassword: false };
}

describe('admins see every change of a user as it happens (admin.users)', () => {
  it('the list first, then the user after each change, whoever made it; not offered to a trader', async () => {
    const watching = await createUser(s, admin, 'watcher', 'admin');
    const { client } = await wsClient(s, { token: watching.accessToken });
    const { seen, pushed } = await watch(client, 'admin.users', {});
    await pushed((u) => u.username === 'watcher');
    expect(seen.every((u) => !('passwordHash' in u) && !('totpSecret' in u))).toBe(true);
    seen.length = 0;

    // another admin's changes
    const t = await createUser(s, admin, 'watched', 'trader');
    const id = t.user.id;
    expect(await pushed((u) => u.id === id)).toMatchObject({ username: 'watched', role: 'trader', disabled: false });
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${id}/disable`, { token: admin.accessToken })).status).toBe(200);
    await pushed((u) => u.id === id && u.disabled);
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${id}/enable`, { token: admin.accessToken })).status).toBe(200);
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${id}/role`, { token: admin.accessToken, body: { role: 'viewer' } })).status).toBe(200);
    await pushed((u) => u.id === id && u.role === 'viewer');
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${id}/password`, { token: admin.accessToken, body: { password: 'a temporary passphrase' } })).status).toBe(200);
    await pushed((u) => u.id === id && u.mustChangePassword);
    // the user's own change: the new password clears mustChangePassword
    const l = await login(s, 'watched', 'a temporary passphrase');
    expect((await api(s.url, 'POST', '/api/v1/auth/password', { token: l.body.accessToken, body: { currentPassword: 'a temporary passphrase', newPassword: PASSWORD } })).status).toBe(204);
    await pushed((u) => u.id === id && !u.mustChangePassword && u.role === 'viewer' && seen.indexOf(u) > seen.findIndex((x) => x.mustChangePassword && x.role === 'viewer'));
    // every push is the user as stored then, in order
    const mine = seen.filter((u) => u.id === id);
    expect(mine.map((u) => `${u.role} ${u.disabled ? 'disabled' : 'enabled'} ${u.mustChangePassword ? 'must change' : 'ok'}`)).toEqual([
      'trader enabled must change',
      'trader enabled ok',
      'trader disabled ok',
      'trader enabled ok',
      'viewer enabled ok',
      'viewer enabled must change',
      'viewer enabled ok',
    ]);
    expect(mine.at(-1)).toEqual((await api(s.url, 'GET', '/api/v1/admin/users', { token: admin.accessToken })).body.find((u: Json) => u.id === id));
    client.close();

    // a trader may not watch the users
    const trader = await createUser(s, admin, 'nosy', 'trader');
    const c2 = await wsClient(s, { token: trader.accessToken });
    await expect(c2.client.subscribe('admin.users', {}, { data: () => undefined })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    c2.client.close();
  });
});

describe("admins see the audit log's new entries as they are written (admin.audit)", () => {
  it("sign-ins, failures and admin actions arrive with their id, as the log has them; orders' entries do not", async () => {
    const watching = await createUser(s, admin, 'auditor', 'admin');
    const { client } = await wsClient(s, { token: watching.accessToken });
    const { seen, pushed } = await watch(client, 'admin.audit', {});
    const t = await fundedTrader('audited', [9_000]); // user.create, auth.login, auth.password_changed, admin.Deposit, order.place
    expect((await login(s, 'audited', 'not the password')).status).toBe(401);
    await rpc(s, 'order.cancelAll', {}, t.accessToken);
    const failed = await pushed((e) => e.action === 'auth.login_failed' && e.details.username === 'audited');
    expect(failed).toMatchObject({ userId: t.user.id, username: 'audited', ip: '127.0.0.1', details: { reason: expect.any(String) } });
    await pushed((e) => e.action === 'admin.Deposit' && e.details.accountId === t.user.accountId);
    // every entry but orders', each once, in the order of the log, and as the log reads it
    const log = (await api(s.url, 'GET', '/api/v1/admin/audit?limit=50', { token: admin.accessToken })).body as Json[];
    const since = log.filter((e) => e.id >= seen[0].id).reverse();
    expect(since.some((e) => e.action === 'order.place') && since.some((e) => e.action === 'order.cancelAll')).toBe(true);
    await pushed((e) => e.id === since.filter((x) => !x.action.startsWith('order.')).at(-1).id);
    expect(seen).toEqual(since.filter((e) => !e.action.startsWith('order.')));
    client.close();

    const trader = await createUser(s, admin, 'nosy2', 'trader');
    const c2 = await wsClient(s, { token: trader.accessToken });
    await expect(c2.client.subscribe('admin.audit', {}, { data: () => undefined })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    c2.client.close();
  });
});
