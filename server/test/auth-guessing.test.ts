/**
 * Guessing a password or code: a burst of sign-ins sent together gets no more tries than the same sent one
 * by one; the throttle keeps its locks under a spray of names and addresses; two-factor codes guessed with the right password are locked per account, from any address; a
 * signed-in user's password and code checks (changing the password, enrolling, confirming or disabling
 * 2FA) are throttled as sign-ins are; an enrolment checked while another is verified does not turn 2FA off; and the request edges found with them (an idempotent order whose user is
 * disabled while its key is synced, a body nested too deep to hash, a request target that is no URL).
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../src/auth/totp.js';
import { createLogger } from '../src/log.js';
import { api, createUser, fund, listInstrument, login, PASSWORD, rawUpgrade, rpc, setupAdmin, startServer, type TestServer } from './helpers.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

/** The server's argon2id cost (OWASP's), so that checks overlap as they would in production. */
const OWASP_ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

const count = (codes: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const c of codes) out[c] = (out[c] ?? 0) + 1;
  return out;
};

describe('sign-in guesses sent together', () => {
  it('a burst of wrong passwords is judged no more than the free failures at once; the rest are told to wait', async () => {
    s = await startServer({ auth: { argon2: OWASP_ARGON2, loginFreeFailures: 4 } as never });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'victim', 'trader');
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => login(s!, 'victim', `wrong guess ${i}`)));
    const codes = count(burst.map((r) => r.body.code as string));
    // every guess beyond the free ones is refused before its check: none of them could have been right
    expect(codes.INVALID_CREDENTIALS).toBe(4);
    expect(codes.RATE_LIMITED).toBe(36);
    for (const r of burst.filter((x) => x.body.code === 'RATE_LIMITED')) {
      expect(r.status).toBe(429);
      expect(r.body.details.retryAfter).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers.get('retry-after'))).toBe(r.body.details.retryAfter);
    }
    // and the account is locked now, even for the right password
    const right = await login(s, 'victim');
    expect(right.body.code).toBe('RATE_LIMITED');
  });

  it('attempts while others are checked are refused only while the free failures could all still be spent', async () => {
    s = await startServer({ auth: { argon2: OWASP_ARGON2, loginFreeFailures: 3 } as never });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'someone', 'trader');
    // one wrong, then two at once: all three are checked (three may fail before a lock)
    expect((await login(s, 'someone', 'wrong 1')).body.code).toBe('INVALID_CREDENTIALS');
    const two = await Promise.all([login(s, 'someone', 'wrong 2'), login(s, 'someone', 'wrong 3')]);
    expect(count(two.map((r) => r.body.code as string))).toEqual({ INVALID_CREDENTIALS: 2 });
    // three failures: locked, the right password too
    expect((await login(s, 'someone')).body.code).toBe('RATE_LIMITED');
    // another account is not
    await createUser(s, admin, 'other', 'trader');
    const three = await Promise.all([1, 2, 3].map((i) => login(s!, 'other', `wrong ${i}`)));
    expect(count(three.map((r) => r.body.code as string))).toEqual({ INVALID_CREDENTIALS: 3 });
    expect((await login(s, 'other')).body.code).toBe('RATE_LIMITED');
  });
});

describe('two-factor codes guessed by someone who knows the password', () => {
  /** Turns 2FA on for `username` (signed in as them); returns the secret. */
  const enableTwoFactor = async (t: TestServer, username: string, at: number): Promise<Buffer> => {
    const token = (await login(t, username)).body.accessToken as string;
    const e = await api(t.url, 'POST', '/api/v1/auth/2fa/enroll', { token, body: { password: PASSWORD } });
    const secret = base32Decode(e.body.secret as string);
    expect((await api(t.url, 'POST', '/api/v1/auth/2fa/verify', { token, body: { code: totp(secret, at) } })).status).toBe(200);
    return secret;
  };

  it('are locked for the account from every address after a few wrong ones, with Retry-After; a right one clears the count', async () => {
    const clock = { t: Math.floor(Date.now() / 30_000) * 30_000 + 15_000 };
    s = await startServer({ trustedProxies: ['127.0.0.1'], auth: { loginFreeFailures: 3, loginBaseDelaySec: 60 } as never }, { now: () => clock.t });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'alice', 'trader');
    const secret = await enableTwoFactor(s, 'alice', clock.t);
    const from = (net: number, code: string, password = PASSWORD) =>
      api(s!.url, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password, code }, headers: { 'X-Forwarded-For': `2001:db8:0:${net.toString(16)}::1` } });
    // two wrong codes, then the right one (the next step's): the count starts over
    clock.t += 30_000;
    expect((await from(1, '111111')).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    expect((await from(2, '222222')).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    expect((await from(3, totp(secret, clock.t))).status).toBe(200);
    // 20 guesses spread over 10 networks (2 each, under the per-address lock): 3 are checked, then the account's codes lock
    const codes: string[] = [];
    for (let net = 10; net < 20; net++) for (let i = 0; i < 2; i++) codes.push((await from(net, String(300_000 + net * 10 + i))).body.code as string);
    expect(count(codes)).toEqual({ INVALID_TWO_FACTOR_CODE: 3, RATE_LIMITED: 17 });
    // the right code from a new network too, for the lock's time
    clock.t += 30_000;
    const locked = await from(99, totp(secret, clock.t));
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('RATE_LIMITED');
    expect(locked.body.details.retryAfter).toBeGreaterThan(25);
    expect(Number(locked.headers.get('retry-after'))).toBe(locked.body.details.retryAfter);
    // a wrong password is told so without the lock (it takes the right one to reach the codes)
    expect((await from(98, '123456', 'not the password at all')).body.code).toBe('INVALID_CREDENTIALS');
    // and once the lock has passed, the right code signs in
    clock.t += 120_000;
    expect((await from(97, totp(secret, clock.t))).status).toBe(200);
    const audit = await api(s.url, 'GET', '/api/v1/admin/audit?action=auth.login_throttled&limit=100', { token: admin.accessToken });
    expect((audit.body as { details: { reason?: string } }[]).filter((e) => e.details.reason === 'two-factor codes')).toHaveLength(18);
  });

  it('cannot be locked by wrong passwords: only the right password reaches the code check', async () => {
    const clock = { t: Math.floor(Date.now() / 30_000) * 30_000 + 15_000 };
    s = await startServer({ trustedProxies: ['127.0.0.1'], auth: { loginFreeFailures: 3, loginBaseDelaySec: 60 } as never }, { now: () => clock.t });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'bob', 'trader');
    const secret = await enableTwoFactor(s, 'bob', clock.t);
    const from = (net: number, password: string, code: string) =>
      api(s!.url, 'POST', '/api/v1/auth/login', { body: { username: 'bob', password, code }, headers: { 'X-Forwarded-For': `2001:db8:1:${net.toString(16)}::1` } });
    for (let net = 0; net < 10; net++) for (let i = 0; i < 2; i++) expect((await from(net, `wrong password ${i}`, '123456')).body.code).toBe('INVALID_CREDENTIALS');
    clock.t += 30_000;
    expect((await from(50, PASSWORD, totp(secret, clock.t))).status).toBe(200);
  });
});

describe('the sign-in throttle under a spray of names and addresses', () => {
  it('keeps its locks when it passes its size: the oldest unlocked records go first', async () => {
    s = await startServer({ trustedProxies: ['127.0.0.1'], auth: { loginFreeFailures: 3, loginBaseDelaySec: 600 } as never });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'victim', 'trader');
    const from = (ip: string, password: string) => api(s!.url, 'POST', '/api/v1/auth/login', { body: { username: 'victim', password }, headers: { 'X-Forwarded-For': ip } });
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.7', `wrong guess ${i}`)).body.code).toBe('INVALID_CREDENTIALS');
    expect((await from('203.0.113.7', PASSWORD)).body.code).toBe('RATE_LIMITED');
    // more than the throttle keeps (100,000 records) of failed sign-ins, each from its own address: sent in the
    // process (over HTTP it would take minutes), with a password that is not Unicode text, refused unhashed
    const auth = s.app.auth;
    const lone = '\ud800 not text';
    for (let i = 0; i < 110_000; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      await auth.login({ username: `sprayed${i}`, password: lone }, { ip, userAgent: 'test' }).catch(() => undefined);
    }
    // the victim's account and address are still locked, the right password too
    const after = await from('203.0.113.7', PASSWORD);
    expect(after.body.code).toBe('RATE_LIMITED');
    expect(after.body.details.retryAfter).toBeGreaterThan(500);
  }, 120_000);
});

describe('2FA enrolment', () => {
  it('a second enrolment still checking its password when the first is verified is refused, and 2FA stays on', async () => {
    // one password check at a time, each a while (argon2id at 5 times OWASP's passes), so that the second
    // enrolment is still waiting for its check when the first is verified
    s = await startServer({ auth: { argon2: { ...OWASP_ARGON2, timeCost: 10 }, maxConcurrentHashes: 1 } as never });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'alice', 'trader');
    const token = (await login(s, 'alice')).body.accessToken as string;
    const enroll = () => api(s!.url, 'POST', '/api/v1/auth/2fa/enroll', { token, body: { password: PASSWORD } });
    const first = await enroll();
    expect(first.status).toBe(200);
    const ahead = [1, 2, 3, 4, 5].map((i) => login(s!, `nobody${i}`, 'not a password'));
    await new Promise((r) => setTimeout(r, 20));
    const second = enroll();
    await new Promise((r) => setTimeout(r, 40));
    const verify = await api(s.url, 'POST', '/api/v1/auth/2fa/verify', { token, body: { code: totp(base32Decode(first.body.secret as string), Date.now()) } });
    expect(verify.body).toMatchObject({ enabled: true });
    const late = await second;
    await Promise.all(ahead);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already on') });
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token })).body).toMatchObject({ totpEnabled: true, backupCodesLeft: 10 });
    expect((await login(s, 'alice')).body.code).toBe('TWO_FACTOR_REQUIRED');
  });
});

describe("a signed-in user's password and code checks", () => {
  it('changing the password, enrolling and disabling 2FA share a throttle per user, with Retry-After, and are audited', async () => {
    s = await startServer({ auth: { loginFreeFailures: 3, loginBaseDelaySec: 60 } as never });
    const admin = await setupAdmin(s);
    const v = await createUser(s, admin, 'victim', 'trader');
    const token = (await login(s, 'victim')).body.accessToken as string;
    const post = (path: string, body: unknown) => api(s!.url, 'POST', path, { token, body });
    // a stolen access token, without the password: three guesses, through any of the three routes
    expect((await post('/api/v1/auth/password', { currentPassword: 'guess 1', newPassword: 'another long passphrase 1' })).body.code).toBe('INVALID_CREDENTIALS');
    expect((await post('/api/v1/auth/2fa/enroll', { password: 'guess 2' })).body.code).toBe('INVALID_CREDENTIALS');
    expect((await post('/api/v1/auth/password', { currentPassword: 'guess 3', newPassword: 'another long passphrase 1' })).body.code).toBe('INVALID_CREDENTIALS');
    // then every route refuses, the right password too, for the lock's time
    for (const [path, body] of [
      ['/api/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'attacker chosen passphrase 9' }],
      ['/api/v1/auth/2fa/enroll', { password: PASSWORD }],
    ] as const) {
      const r = await post(path, body);
      expect(r.status, path).toBe(429);
      expect(r.body.code).toBe('RATE_LIMITED');
      expect(r.body.details.retryAfter).toBeGreaterThan(50);
      expect(Number(r.headers.get('retry-after'))).toBe(r.body.details.retryAfter);
    }
    // the password did not change
    expect((await login(s, 'victim')).status).toBe(200);
    // another user is not affected
    const other = await createUser(s, admin, 'other', 'trader');
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token: other.accessToken, body: { password: PASSWORD } })).status).toBe(200);
    // the audit log has each failure and each refusal
    const audit = await api(s.url, 'GET', `/api/v1/admin/audit?userId=${v.user.id}&limit=100`, { token: admin.accessToken });
    const actions = count((audit.body as { action: string }[]).map((e) => e.action));
    expect(actions['auth.password_change_failed']).toBe(2);
    expect(actions['auth.2fa.enroll_failed']).toBe(1);
    expect(actions['auth.reauth_throttled']).toBe(2);
  });

  it("wrong codes confirming an enrolment count in the same throttle: a stolen access token gets no more guesses there", async () => {
    const clock = { t: Math.floor(Date.now() / 30_000) * 30_000 + 15_000 };
    s = await startServer({ auth: { loginFreeFailures: 3, loginBaseDelaySec: 60 } as never }, { now: () => clock.t });
    const admin = await setupAdmin(s);
    const v = await createUser(s, admin, 'victim', 'trader');
    const token = (await login(s, 'victim')).body.accessToken as string;
    const secret = base32Decode((await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token, body: { password: PASSWORD } })).body.secret as string);
    const verify = (code: string) => api(s!.url, 'POST', '/api/v1/auth/2fa/verify', { token, body: { code } });
    // three wrong codes, then the lock, for the right code too
    for (const code of ['100000', '100007', '100014']) expect((await verify(code)).body.code).toBe('INVALID_TWO_FACTOR_CODE');
    for (const code of ['100021', totp(secret, clock.t)]) {
      const r = await verify(code);
      expect(r.status).toBe(429);
      expect(r.body.code).toBe('RATE_LIMITED');
      expect(r.body.details.retryAfter).toBeGreaterThan(50);
      expect(Number(r.headers.get('retry-after'))).toBe(r.body.details.retryAfter);
    }
    // the password re-check shares the lock
    expect((await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token, body: { password: PASSWORD } })).body.code).toBe('RATE_LIMITED');
    // once it has passed, the right code turns 2FA on
    clock.t += 90_000;
    const ok = await verify(totp(secret, clock.t));
    expect(ok.status).toBe(200);
    expect(ok.body.backupCodes).toHaveLength(10);
    const audit = await api(s.url, 'GET', `/api/v1/admin/audit?userId=${v.user.id}&limit=100`, { token: admin.accessToken });
    const actions = count((audit.body as { action: string }[]).map((e) => e.action));
    expect(actions['auth.2fa.verify_failed']).toBe(3);
    expect(actions['auth.reauth_throttled']).toBe(3);
  });

  it('a right password clears the failures counted before it', async () => {
    s = await startServer({ auth: { loginFreeFailures: 2 } as never });
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'forgetful', 'trader');
    const token = (await login(s, 'forgetful')).body.accessToken as string;
    const enroll = (password: string) => api(s!.url, 'POST', '/api/v1/auth/2fa/enroll', { token, body: { password } });
    expect((await enroll('typo')).body.code).toBe('INVALID_CREDENTIALS');
    expect((await enroll(PASSWORD)).status).toBe(200);
    expect((await enroll('typo again')).body.code).toBe('INVALID_CREDENTIALS');
    expect((await enroll(PASSWORD)).status).toBe(200);
  });
});

describe('an order with an Idempotency-Key', () => {
  it('whose user is disabled while its key is synced is not placed, and the key is let go', async () => {
    s = await startServer();
    const admin = await setupAdmin(s);
    const t = await createUser(s, admin, 'trader1', 'trader');
    await listInstrument(s, admin);
    await fund(s, admin, t.user.accountId!);
    // the key's sync made slow (a loaded disk), once
    const store = s.app.store as unknown as { durable: () => Promise<void> };
    const durable = store.durable.bind(store);
    let slow = true;
    let synced!: () => void;
    const syncing = new Promise<void>((r) => (synced = r));
    store.durable = () => {
      if (!slow) return durable();
      slow = false;
      synced();
      return durable().then(() => new Promise((r) => setTimeout(r, 300)));
    };
    const order = rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 10, price: 9_900, tif: 'gtc' }, t.accessToken, { 'Idempotency-Key': 'k1' });
    await syncing;
    const dis = await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/disable`, { token: admin.accessToken });
    expect(dis.status).toBe(200);
    const o = await order;
    expect(o.status).toBe(401);
    expect(o.body.code).toBe('SESSION_REVOKED');
    expect(s.app.venue.view.openOrders(t.user.accountId!)).toHaveLength(0);
    // not kept as the key's answer: enabled again and signed in, the user's retry runs
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${t.user.id}/enable`, { token: admin.accessToken })).status).toBe(200);
    const again = (await login(s, 'trader1')).body.accessToken as string;
    const retry = await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 10, price: 9_900, tif: 'gtc' }, again, { 'Idempotency-Key': 'k1' });
    expect(retry.status).toBe(200);
    expect(retry.body.status).toBe('working');
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('with a body nested deeper than any parameters is refused as bad input, not an internal error', async () => {
    s = await startServer();
    const admin = await setupAdmin(s);
    const t = await createUser(s, admin, 'trader1', 'trader');
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const r = await api(s.url, 'POST', '/api/v1/rpc/order.place', { token: t.accessToken, raw: deep, headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'deep' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('BAD_REQUEST');
    expect(r.body.message).toMatch(/nests deeper/);
    // an ordinary body with the same key afterwards is a new request (the refusal claimed nothing)
    expect((await rpc(s, 'order.place', { symbol: 'NONE', side: 'buy', orderType: 'limit', qty: 1, price: 1, tif: 'day' }, t.accessToken, { 'Idempotency-Key': 'deep' })).body.code).not.toBe('IDEMPOTENCY_CONFLICT');
  });
});

describe('a request target that is no URL', () => {
  const raw = (url: string, request: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const sock = connect(Number(new URL(url).port), '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
      sock.write(request);
      setTimeout(() => sock.end(), 500);
    });

  it('gets a 400 in the error shape over REST and in the upgrade, and logs no error', async () => {
    const errors: string[] = [];
    s = await startServer({}, { logger: createLogger('debug', (line) => void (JSON.parse(line).level === 'error' && errors.push(line))) });
    const rest = await raw(s.url, 'GET //[ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(rest).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(rest.slice(rest.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'BAD_REQUEST', message: 'The request target is not a valid URL' });
    const up = await rawUpgrade(s, { Origin: s.url }, '//[');
    expect(up.status).toBe(400);
    expect(JSON.parse(up.body).code).toBe('BAD_REQUEST');
    expect(errors).toEqual([]);
  });
});
