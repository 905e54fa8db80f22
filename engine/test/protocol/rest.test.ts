import { describe, expect, it } from 'vitest';
import { auditActionMatches, ProtocolError, PublicUserSchema, readAnswer, responseBody } from '../../protocol/index.js';

describe('auditActionMatches', () => {
  it('takes the action itself and those under it, ASCII letters in either case, nothing else', () => {
    const under = (f: string) => ['admin.user', 'admin.user.disable', 'ADMIN.User.Role', 'admin.username', 'admin-user', 'admin', 'admin.Deposit', 'auth.login_failed'].filter((a) => auditActionMatches(f, a));
    expect(under('admin.user')).toEqual(['admin.user', 'admin.user.disable', 'ADMIN.User.Role']);
    expect(under('Admin')).toEqual(['admin.user', 'admin.user.disable', 'ADMIN.User.Role', 'admin.username', 'admin', 'admin.Deposit']);
    expect(under('admin.deposit')).toEqual(['admin.Deposit']);
    expect(under('auth.login_%')).toEqual([]);
    expect(under('auth.login')).toEqual([]);
    // only ASCII letters fold, as SQLite's NOCASE does
    expect(auditActionMatches('é.x', 'É.x')).toBe(false);
  });
});

describe('readAnswer', () => {
  it('returns the parsed answer, or a typed INTERNAL naming where a malformed one came from', () => {
    const user = { id: 1, username: 'ann', role: 'trader', disabled: false, accountId: 1, totpEnabled: false, mustChangePassword: false, createdAt: 1 };
    expect(readAnswer(PublicUserSchema, user, 'the server')).toEqual(user);
    let err: unknown;
    try {
      readAnswer(PublicUserSchema, { id: 'one' }, 'the server');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'INTERNAL', message: 'Unexpected answer from the server' });
  });
});

describe('responseBody', () => {
  const res = (status: number, text: string) => new Response(text === '' ? null : text, { status });
  it('reads JSON or nothing, and a refusal as the error the server sent', async () => {
    expect(await responseBody(res(200, '{"a":1}'))).toEqual({ a: 1 });
    expect(await responseBody(res(200, ''))).toBeUndefined();
    expect(await responseBody(res(200, 'not json'))).toBeUndefined();
    await expect(responseBody(res(403, '{"code":"FORBIDDEN","message":"Admins only","details":{"role":"trader"}}'))).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'Admins only', details: { role: 'trader' } });
    await expect(responseBody(res(502, '<html>Bad gateway</html>'))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'HTTP 502' });
    await expect(responseBody(res(429, ''))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
