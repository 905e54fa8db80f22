import { describe, expect, it } from 'vitest';
import { auditActionMatches, ProtocolError, PublicUserSchema, readAnswer } from '../../protocol/index.js';

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
