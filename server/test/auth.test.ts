import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../src/auth/totp.js';
import { PASSWORD, api, closed, createUser, login, setupAdmin, wsClient, type Session, type TestServer, startServer } from './helpers.js';

let s: TestServer;
let admin: Session;
// The auth clock is fixed mid-step, so TOTP codes never straddle a 30 s boundary during the test.
const clock = { t: Math.floor(Date.now() / 30_000) * 30_000 + 15_000 };

beforeAll(async () => {
  s = await startServer({ registration: 'open', auth: { loginFreeFailures: 3, loginBaseDelaySec: 30 } as never }, { now: () => clock.t });
});
afterAll(() => s.stop());

describe('first admin', () => {
  it('no default password: setup needs the one-time token, which works once', async () => {
    expect(s.app.setupToken).toMatch(/^tds_/);
    const h = await api(s.url, 'GET', '/health');
    expect(h.body.setupPending).toBe(true);
    const bad = await api(s.url, 'POST', '/api/v1/auth/setup', { body: { setupToken: 'tds_wrong', username: 'admin', password: PASSWORD } });
    expect(bad.status).toBe(403);
    expect(bad.body.code).toBe('FORBIDDEN');
    // a wrong token does not burn the real one; the real one works once
    admin = await setupAdmin(s);
    expect(admin.user.role).toBe('admin');
    const again = await api(s.url, 'POST', '/api/v1/auth/setup', { body: { setupToken: s.app.setupToken, username: 'admin2', password: PASSWORD } });
    expect(again.status).toBe(403);
    expect((await api(s.url, 'GET', '/health')).body.setupPending).toBe(false);
  });
});

describe('first admin, refused setups', () => {
  it('a setup refused for its input (weak password, bad or taken name) leaves the token usable and setup pending', async () => {
    const t = await startServer({ registration: 'open' });
    try {
      const setup = (username: string, password: string) => api(t.url, 'POST', '/api/v1/auth/setup', { body: { setupToken: t.app.setupToken, username, password } });
      const pending = async () => (await api(t.url, 'GET', '/health')).body.setupPending as boolean;
      // a guest took the name 'admin' first
      expect((await api(t.url, 'POST', '/api/v1/auth/register', { body: { username: 'admin', password: 'anything long enough 1' } })).status).toBe(201);
      for (const [username, password, status, code] of [
        ['admin', PASSWORD, 409, 'CONFLICT'],
        ['root', 'password123', 422, 'WEAK_PASSWORD'],
        ['x', PASSWORD, 400, 'BAD_REQUEST'],
      ] as const) {
        const r = await setup(username, password);
        expect(r.status, `${username} ${password}`).toBe(status);
        expect(r.body.code).toBe(code);
        expect(await pending()).toBe(true);
      }
      const ok = await setup('root', PASSWORD);
      expect(ok.status).toBe(201);
      expect(ok.body.user).toMatchObject({ username: 'root', role: 'admin' });
      // then it is spent
      expect((await setup('root2', PASSWORD)).status).toBe(403);
      expect(await pending()).toBe(false);
      expect(t.app.store.adminCount()).toBe(1);
    } finally {
      await t.stop();
    }
  });
});

describe('register and password policy', () => {
  it('refuses short, common and name-based passwords; accepts 64+ characters untruncated', async () => {
    const reg = (username: string, password: string) => api(s.url, 'POST', '/api/v1/auth/register', { body: { username, password } });
    for (const [pw, why] of [
      ['short1!', 'at least 8'],
      ['password123', 'common'],
      ['qwertyuiop', 'common'],
      ['aaaaaaaaaaaa', 'repeated'],
      ['abcdefghij', 'sequence'],
    ] as const) {
      const r = await reg('policyuser', pw);
      expect(r.status, pw).toBe(422);
      expect(r.body.code).toBe('WEAK_PASSWORD');
      expect(JSON.stringify(r.body.details.problems)).toContain(why);
    }
    const nameBased = await reg('carolina', 'carolina1');
    expect(nameBased.body.code).toBe('WEAK_PASSWORD');
    const long = 'x'.repeat(40) + 'the rest of a long passphrase ' + 'y'.repeat(40);
    expect(long.length).toBeGreaterThan(100);
    const ok = await reg('longpw', long);
    expect(ok.status).toBe(201);
    expect(ok.body.role).toBe('trader');
    expect(ok.body.accountId).toBeGreaterThan(0);
    // untruncated: a password that differs only after character 72 (bcrypt's limit) is refused
    const truncated = long.slice(0, 72) + 'z'.repeat(long.length - 72);
    expect((await login(s, 'longpw', truncated)).status).toBe(401);
    expect((await login(s, 'longpw', long)).status).toBe(200);
  });

  it('refuses passwords that are not Unicode text (lone surrogates), which never match a password either', async () => {
    const reg = (username: string, password: string) => api(s.url, 'POST', '/api/v1/auth/register', { body: { username, password } });
    const lone = '\ud800\udc05\ud833\ud81f\ud855\ud87a\ud8c0\ud9aa'.replace(/\udc05/, '\ud911');
    const r = await reg('loneuser', lone);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('WEAK_PASSWORD');
    expect(r.body.message).toContain('valid Unicode text');
    expect(r.body.details.problems).toEqual(['be valid Unicode text (it has a lone surrogate code unit)']);
    // a password with U+FFFD in it, which lone surrogates would have become when hashed
    const real = 'k\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdq';
    const u = await reg('replchar', real);
    expect(u.status).toBe(201);
    const forged = 'k\udc00\udc31\udc02\ud853\udc04\ud875\udc06q';
    expect((await login(s, 'replchar', forged)).body.code).toBe('INVALID_CREDENTIALS');
    const l = await login(s, 'replchar', real);
    expect(l.status).toBe(200);
    // nor at the re-check of a signed-in user, nor as a new password
    const change = (currentPassword: string, newPassword: string) => api(s.url, 'POST', '/api/v1/auth/password', { token: l.body.accessToken, body: { currentPassword, newPassword } });
    expect((await change(forged, 'a brand new passphrase')).body.code).toBe('INVALID_CREDENTIALS');
    expect((await change(real, lone)).body.code).toBe('WEAK_PASSWORD');
  });

  it('refuses taken and malformed names, and self-registration as admin', async () => {
    const dup = await api(s.url, 'POST', '/api/v1/auth/register', { body: { username: 'LONGPW', password: 'another good passphrase' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('CONFLICT');
    const bad = await api(s.url, 'POST', '/api/v1/auth/register', { body: { username: 'a b', password: 'another good passphrase' } });
    expect(bad.status).toBe(400);
    const adm = await api(s.url, 'POST', '/api/v1/auth/register', { body: { username: 'sneaky', password: 'another good passphrase', role: 'admin' } });
    expect(adm.status).toBe(403);
  });
});

describe('login, me, refresh rotation, logout', () => {
  it('login gives tokens; me answers; wrong password is INVALID_CREDENTIALS', async () => {
    const wrong = await login(s, 'admin', 'not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ code: 'INVALID_CREDENTIALS', message: expect.any(String) });
    const unknown = await login(s, 'nobody', 'whatever password');
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('INVALID_CREDENTIALS');
    const ok = await login(s, 'admin');
    expect(ok.status).toBe(200);
    expect(ok.body.accessToken).toMatch(/^tda_/);
    expect(ok.body.refreshToken).toMatch(/^tdr_/);
    expect(ok.body.expiresIn).toBe(900);
    const me = await api(s.url, 'GET', '/api/v1/auth/me', { token: ok.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin', role: 'admin', totpEnabled: false });
    expect((await api(s.url, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: 'tda_forged' })).status).toBe(401);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { headers: { Authorization: 'Basic abc' } })).status).toBe(401);
  });

  it('refresh rotates; reusing a spent refresh token revokes the family and closes its sockets', async () => {
    const first = (await login(s, 'admin')).body as Session;
    const r1 = await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(first.refreshToken);
    expect(r1.body.sessionId).toBe(first.sessionId);
    // the old access token of the session stops working after rotation; the new one works
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: first.accessToken })).status).toBe(401);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: r1.body.accessToken })).status).toBe(200);
    const { ws } = await wsClient(s, { token: r1.body.accessToken });
    const gone = closed(ws);
    // replay the first (spent) refresh token: reuse
    const reuse = await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('SESSION_REVOKED');
    expect((await gone).code).toBe(1008);
    // the whole family is dead: the newest tokens too
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: r1.body.accessToken })).body.code).toBe('SESSION_REVOKED');
    expect((await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: r1.body.refreshToken } })).status).toBe(401);
    const audit = await api(s.url, 'GET', '/api/v1/admin/audit?action=auth.refresh_reuse', { token: admin.accessToken });
    expect(audit.body.length).toBe(1);
  });

  it('logout revokes the session', async () => {
    const t = (await login(s, 'admin')).body as Session;
    expect((await api(s.url, 'POST', '/api/v1/auth/logout', { token: t.accessToken })).status).toBe(204);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: t.accessToken })).body.code).toBe('SESSION_REVOKED');
    expect((await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: t.refreshToken } })).status).toBe(401);
  });

  it('lists sessions and revokes one, closing its WebSocket at once', async () => {
    const a = (await login(s, 'longpw', 'x'.repeat(40) + 'the rest of a long passphrase ' + 'y'.repeat(40))).body as Session;
    const b = (await login(s, 'longpw', 'x'.repeat(40) + 'the rest of a long passphrase ' + 'y'.repeat(40))).body as Session;
    const list = await api(s.url, 'GET', '/api/v1/auth/sessions', { token: a.accessToken });
    expect(list.body.length).toBeGreaterThanOrEqual(2);
    expect(list.body.find((x: { id: string }) => x.id === a.sessionId).current).toBe(true);
    const { ws, client } = await wsClient(s, { token: b.accessToken });
    const closedInfo = new Promise((r) => client.onClose(r));
    const gone = closed(ws);
    expect((await api(s.url, 'DELETE', `/api/v1/auth/sessions/${b.sessionId}`, { token: a.accessToken })).status).toBe(204);
    expect((await gone).reason).toBe('SESSION_REVOKED');
    // the socket's last word says why, as the token's refusal does
    expect(((await closedInfo) as { error?: unknown }).error).toMatchObject({ code: 'SESSION_REVOKED', details: { reason: 'revoked by user' } });
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: a.accessToken })).status).toBe(200);
    // someone else's session id is not found
    expect((await api(s.url, 'DELETE', `/api/v1/auth/sessions/${admin.sessionId}`, { token: a.accessToken })).status).toBe(404);
  });
});

describe('a session that ends', () => {
  it('closes its WebSockets when it expires (within a heartbeat), telling the client to sign in again; a live session\'s stay open', async () => {
    let offset = 0;
    const t = await startServer({ sim: 'off', ws: { pingIntervalMs: 100 } as never }, { now: () => Date.now() + offset });
    try {
      await setupAdmin(t);
      const a = (await login(t, 'admin')).body as Session;
      const { ws, client } = await wsClient(t, { token: a.accessToken });
      const closedInfo = new Promise((r) => client.onClose(r));
      const gone = closed(ws, 10_000);
      // a few heartbeats: still open, and answering
      await new Promise((r) => setTimeout(r, 400));
      expect(ws.readyState).toBe(ws.OPEN);
      expect(await client.call('time.get', {})).toBeDefined();
      // the session's end (30 days after the sign-in by default) passes
      offset = 31 * 24 * 3600 * 1000;
      expect((await gone).reason).toBe('UNAUTHENTICATED');
      expect(((await closedInfo) as { error?: unknown }).error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'session expired' } });
      // and it cannot be renewed
      expect((await api(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: a.refreshToken } })).status).toBe(401);
    } finally {
      await t.stop();
    }
  });
});

describe('an old access token a client still sends', () => {
  it('does not stop the first setup, signing in or refreshing; other routes still read it', async () => {
    const c = { t: Date.now() };
    const t = await startServer({ registration: 'open' }, { now: () => c.t });
    try {
      const post = (path: string, token: string, body: unknown) => api(t.url, 'POST', path, { token, body });
      const first = await post('/api/v1/auth/setup', 'tda_not_a_token_at_all', { setupToken: t.app.setupToken, username: 'admin', password: PASSWORD });
      expect(first.status).toBe(201);
      const l = await post('/api/v1/auth/login', 'tda_not_a_token_at_all', { username: 'admin', password: PASSWORD });
      expect(l.status).toBe(200);
      c.t += 16 * 60_000; // the access token expired
      expect((await api(t.url, 'GET', '/api/v1/auth/me', { token: l.body.accessToken })).body.details).toMatchObject({ expired: true });
      const r = await post('/api/v1/auth/refresh', l.body.accessToken, { refreshToken: l.body.refreshToken });
      expect(r.status).toBe(200);
      // signed out: its token is revoked, and still in the header of the next sign-in
      expect((await api(t.url, 'POST', '/api/v1/auth/logout', { token: r.body.accessToken })).status).toBe(204);
      expect((await api(t.url, 'GET', '/api/v1/auth/me', { token: r.body.accessToken })).body.code).toBe('SESSION_REVOKED');
      expect((await post('/api/v1/auth/login', r.body.accessToken, { username: 'admin', password: PASSWORD })).status).toBe(200);
      // registration reads it (an admin's token makes it the admin's): a revoked one is refused, not taken for a guest's
      const reg = await post('/api/v1/auth/register', r.body.accessToken, { username: 'someone', password: 'a long enough passphrase' });
      expect(reg.body.code).toBe('SESSION_REVOKED');
    } finally {
      await t.stop();
    }
  });
});

describe('login throttling', () => {
  it('per account+IP, with a clear Retry-After; other accounts are unaffected', async () => {
    await api(s.url, 'POST', '/api/v1/auth/register', { body: { username: 'victim', password: 'victims good passphrase' } });
    for (let i = 0; i < 3; i++) expect((await login(s, 'victim', 'wrong guess ' + i)).status).toBe(401);
    const blocked = await login(s, 'victim', 'victims good passphrase');
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.details.retryAfter).toBeGreaterThan(0);
    expect(blocked.body.message).toMatch(/retry in \d+ s/);
    expect((await login(s, 'admin')).status).toBe(200);
  });
});

describe('TOTP 2FA', () => {
  let user: Session;
  let secret: Buffer;
  let backup: string[];
  const codeAt = (offsetSteps = 0) => totp(secret, clock.t + offsetSteps * 30_000);

  it('enrol (needs the password) gives an otpauth URI; verify turns it on and returns backup codes', async () => {
    user = await createUser(s, admin, 'twofa', 'trader');
    user = (await login(s, 'twofa')).body as Session;
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token: user.accessToken, body: { password: 'wrong password x' } })).status).toBe(401);
    const e = await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token: user.accessToken, body: { password: PASSWORD } });
    expect(e.status).toBe(200);
    expect(e.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/TradeDesk%3Atwofa\?secret=[A-Z2-7]+&issuer=TradeDesk&algorithm=SHA1&digits=6&period=30$/);
    secret = base32Decode(e.body.secret);
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/verify', { token: user.accessToken, body: { code: '000000' } })).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    const v = await api(s.url, 'POST', '/api/v1/auth/2fa/verify', { token: user.accessToken, body: { code: codeAt() } });
    expect(v.status).toBe(200);
    expect(v.body.backupCodes).toHaveLength(10);
    backup = v.body.backupCodes;
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: user.accessToken })).body).toMatchObject({ totpEnabled: true, backupCodesLeft: 10 });
  });

  it('login then needs a code; each code works once', async () => {
    const none = await login(s, 'twofa');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('TWO_FACTOR_REQUIRED');
    // the code used for verification is spent
    expect((await login(s, 'twofa', PASSWORD, codeAt())).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    const next = codeAt(1); // the next step's code (accepted within the ±1 step window)
    expect((await login(s, 'twofa', PASSWORD, next)).status).toBe(200);
    expect((await login(s, 'twofa', PASSWORD, next)).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    // and the step before the newest one used is refused too (codes only move forward)
    expect((await login(s, 'twofa', PASSWORD, codeAt(-1))).body.code).toBe('INVALID_TWO_FACTOR_CODE');
  });

  it('backup codes work once each', async () => {
    const b = backup[0]!;
    expect((await login(s, 'twofa', PASSWORD, b)).status).toBe(200);
    expect((await login(s, 'twofa', PASSWORD, b)).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    const audit = await api(s.url, 'GET', '/api/v1/admin/audit?action=auth.2fa', { token: admin.accessToken });
    const actions = audit.body.map((a: { action: string }) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.2fa.enroll', 'auth.2fa.enabled', 'auth.2fa.backup_used']));
  });

  it('disable needs the password and a code (re-authentication)', async () => {
    const t = ((await login(s, 'twofa', PASSWORD, backup[1]!)).body as Session).accessToken;
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/disable', { token: t, body: { password: 'wrong password x', code: backup[2] } })).body.code).toBe('INVALID_CREDENTIALS');
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/disable', { token: t, body: { password: PASSWORD, code: '123456' } })).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/disable', { token: t, body: { password: PASSWORD, code: backup[3] } })).status).toBe(204);
    expect((await login(s, 'twofa')).status).toBe(200);
    const audit = await api(s.url, 'GET', '/api/v1/admin/audit?action=auth.2fa.disabled', { token: admin.accessToken });
    expect(audit.body[0]).toMatchObject({ username: 'twofa', ip: expect.any(String), ts: expect.any(Number) });
  });
});

describe('passwords', () => {
  it('admin-created users must change their temporary password first', async () => {
    const c = await api(s.url, 'POST', '/api/v1/admin/users', { token: admin.accessToken, body: { username: 'newbie', password: 'temporary newbie pass', role: 'viewer' } });
    expect(c.status).toBe(201);
    expect(c.body.mustChangePassword).toBe(true);
    const l = await login(s, 'newbie', 'temporary newbie pass');
    expect(l.status).toBe(200);
    const blocked = await api(s.url, 'POST', '/api/v1/rpc/account.get', { token: l.body.accessToken, body: {} });
    expect(blocked.status).toBe(403);
    expect(blocked.body.details.reason).toBe('password_change_required');
    const ch = await api(s.url, 'POST', '/api/v1/auth/password', { token: l.body.accessToken, body: { currentPassword: 'temporary newbie pass', newPassword: PASSWORD } });
    expect(ch.status).toBe(204);
    expect((await api(s.url, 'POST', '/api/v1/rpc/account.get', { token: l.body.accessToken, body: {} })).status).toBe(200);
    expect((await login(s, 'newbie', 'temporary newbie pass')).status).toBe(401);
  });

  it("changing the password signs out the user's other sessions at once (their sockets too) and keeps this one", async () => {
    await createUser(s, admin, 'twodesks', 'trader');
    const a = (await login(s, 'twodesks')).body as Session;
    const b = (await login(s, 'twodesks')).body as Session;
    const { ws, client } = await wsClient(s, { token: b.accessToken });
    const gone = closed(ws);
    const closedInfo = new Promise((r) => client.onClose(r));
    const ch = await api(s.url, 'POST', '/api/v1/auth/password', { token: a.accessToken, body: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' } });
    expect(ch.status).toBe(204);
    expect((await gone).reason).toBe('SESSION_REVOKED');
    expect(((await closedInfo) as { error?: { code: string; message: string } }).error).toMatchObject({ code: 'SESSION_REVOKED', details: { reason: 'password changed' } });
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: b.accessToken })).status).toBe(401);
    expect((await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: b.refreshToken } })).status).toBe(401);
    // the session that changed it goes on, and the new password signs in
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: a.accessToken })).status).toBe(200);
    expect((await api(s.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: a.refreshToken } })).status).toBe(200);
    expect((await login(s, 'twodesks', 'a brand new passphrase')).status).toBe(200);
    expect((await login(s, 'twodesks')).status).toBe(401);
  });
});
