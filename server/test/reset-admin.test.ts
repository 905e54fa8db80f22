// `tradedesk-server reset-admin`: the way back in for an admin who cannot sign in, through the command line
// as an operator runs it (server/src/main.ts), on the files of a server stopped for it.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { api, createUser, login, PASSWORD, setupAdmin, startServer, type TestServer } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the command line from the source; its exit code, stdout and stderr. */
function cli(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'reset-admin', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRADEDESK_'))),
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('tradedesk-server reset-admin', () => {
  it('gives a locked-out admin a temporary password, turns their 2FA off and signs them out, only with the server stopped', { timeout: 120_000 }, async () => {
    const s = await startServer();
    dirs.push(s.dir);
    const admin = await setupAdmin(s);
    await createUser(s, admin, 'terry', 'trader');
    const dora = await createUser(s, admin, 'dora', 'admin');
    expect((await api(s.url, 'POST', `/api/v1/admin/users/${dora.user.id}/disable`, { token: admin.accessToken })).status).toBe(200);
    // the admin's 2FA is on (its secret as good as lost), and they hold a session
    const me = s.app.store.userByName('admin')!;
    s.app.store.updateUser(me.id, { totp_enabled: 1, totp_secret: 'lost with the phone' }, Date.now());
    expect((await login(s, 'admin')).body.code).toBe('TWO_FACTOR_REQUIRED');
    const db = s.app.config.db;

    // the server still running: refused, nothing changed
    const running = cli(['admin', '--db', db]);
    expect([running.status, running.err]).toEqual([1, `reset-admin: A server is running on ${db}: stop it first, then run this again\n`]);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: admin.accessToken })).status).toBe(200);
    await s.app.close();

    // the refusals, each with what to do
    expect(cli(['nobody', '--db', db])).toMatchObject({ status: 1, err: 'reset-admin: No user nobody. Active admins: admin\n' });
    expect(cli(['terry', '--db', db])).toMatchObject({ status: 1, err: expect.stringMatching(/^reset-admin: terry is a trader, not an admin/) });
    expect(cli(['dora', '--db', db])).toMatchObject({ status: 1, err: 'reset-admin: dora is disabled. Active admins: admin\n' });
    expect(cli(['admin', '--db', join(s.dir, 'elsewhere.db')])).toMatchObject({ status: 1, err: expect.stringMatching(/^reset-admin: No users database at /) });
    expect(cli([]).status).toBe(2);
    expect(cli(['--db', db]).status).toBe(2);

    const ok = cli(['admin', '--db', db]);
    expect(ok.status).toBe(0);
    const password = /^ {2}(\S+)$/m.exec(ok.out)?.[1];
    expect(password).toMatch(/^([a-z2-7]{4}-){5}[a-z2-7]{4}$/);
    expect(ok.out).toContain('Their two-factor authentication is off');
    expect(ok.out).toContain('1 session(s) of theirs were revoked');

    const s2 = await startServer({ db }, { env: {} });
    servers.push(s2);
    // the old password no longer works; the temporary one does, without a code, once: it must be changed
    expect((await login(s2, 'admin', PASSWORD)).status).toBe(401);
    const t = await login(s2, 'admin', password!);
    expect(t.status).toBe(200);
    expect(t.body.user).toMatchObject({ username: 'admin', mustChangePassword: true, totpEnabled: false });
    expect((await api(s2.url, 'POST', '/api/v1/auth/password', { token: t.body.accessToken, body: { currentPassword: password, newPassword: 'a new passphrase of mine' } })).status).toBe(204);
    const again = await login(s2, 'admin', 'a new passphrase of mine');
    expect(again.status).toBe(200);
    // the session held before is over (its token's key was the first server's, so it is read in the table),
    // and the reset is in the audit log, by the console
    const before = s2.app.store.db.prepare('SELECT revoke_reason FROM sessions WHERE user_id = ? ORDER BY created_at LIMIT 1').pluck().get(me.id);
    expect(before).toBe('password reset');
    const log = await api(s2.url, 'GET', '/api/v1/admin/audit?action=admin.user.password_reset', { token: again.body.accessToken });
    expect(log.body).toEqual([expect.objectContaining({ userId: null, username: null, ip: null, details: { userId: me.id, username: 'admin', sessionsRevoked: 1, twoFactorReset: true, by: 'console' } })]);
  });

  it("refuses while a server holds the users database, given only --users-db, and a venue database that is not there", { timeout: 120_000 }, async () => {
    const s = await startServer();
    dirs.push(s.dir);
    const admin = await setupAdmin(s);
    const usersDb = s.app.config.db.replace(/\.db$/, '.users.db');
    // the server's users database without its venue's flag (the default --db is not there): refused, nothing changed
    const running = cli(['admin', '--users-db', usersDb]);
    expect(running).toMatchObject({ status: 1, out: '', err: expect.stringMatching(/^reset-admin: No venue database at .*data[/\\]venue\.db: /) });
    // with a venue database of another (stopped) server: the users database is held by the running one
    const other = join(s.dir, 'other.db');
    writeFileSync(other, '');
    expect(cli(['admin', '--db', other, '--users-db', usersDb])).toEqual({ status: 1, out: '', err: `reset-admin: A server is running on ${usersDb}: stop it first, then run this again\n` });
    expect((await login(s, 'admin')).status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: admin.accessToken })).status).toBe(200);
    await s.app.close();
    // stopped: a venue database that is not there is still refused, saying which
    expect(cli(['admin', '--db', join(s.dir, 'elsewhere.db'), '--users-db', usersDb])).toMatchObject({ status: 1, err: `reset-admin: No venue database at ${join(s.dir, 'elsewhere.db')}: give the server's flags (--db or its config file)\n` });
    expect(cli(['admin', '--db', s.app.config.db, '--users-db', usersDb]).status).toBe(0);
  });
});
