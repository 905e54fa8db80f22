/**
 * `tradedesk-server reset-admin <username> [flags]`: the way back in when no admin can sign in (a lost
 * password; a lost authenticator with its backup codes). Admins reset other users' passwords and 2FA in the
 * Admin panel, but not their own, and one active admin always remains: when that one is locked out, only
 * someone with the server's files can let them in again, as only they can restore a backup.
 *
 * Run on the server's machine with the server's flags, and the server stopped (its sessions, sockets and
 * login throttle live in its memory; a running server holds its venue database and its users database
 * (Store: holdUsersDb), which is how this tells):
 * the admin gets a temporary password, printed once, to be changed at the next sign-in; their 2FA is turned
 * off (they may enrol again) and every session of theirs is revoked. Audited as `admin.user.password_reset`
 * with `by: "console"`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { HashPool, passwordProblems } from './auth/passwords.js';
import { base32Encode } from './auth/totp.js';
import { derivedPaths, type Config } from './config.js';
import { Store, UsersDbInUse } from './store.js';

/** Refused: the message says why and what to do. */
export class ResetError extends Error {}

export interface AdminReset {
  username: string;
  /** The temporary password (shown once). */
  password: string;
  /** Whether 2FA was on (now off). */
  twoFactorWasOn: boolean;
  sessionsRevoked: number;
}

/** A temporary password: 120 random bits, as `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx` (base32, no look-alikes to misread). */
export function temporaryPassword(): string {
  return base32Encode(randomBytes(15)).toLowerCase().match(/.{4}/g)!.join('-');
}

/** True when a server holds the venue database (it keeps it locked exclusively while it runs). */
function serverRunning(venueFile: string): boolean {
  if (!existsSync(venueFile)) return false;
  const db = new Database(venueFile, { readonly: true, fileMustExist: true, timeout: 0 });
  try {
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw e;
  } finally {
    db.close();
  }
}

/** Resets the admin `username` of the server configured by `config` (see the file's comment). */
export async function resetAdmin(username: string, config: Pick<Config, 'db' | 'usersDb' | 'keyFile' | 'backupDir' | 'auth'>, now: () => number = Date.now): Promise<AdminReset> {
  const venueFile = resolve(config.db);
  const usersFile = resolve(derivedPaths(config).usersDb);
  if (!existsSync(usersFile)) throw new ResetError(`No users database at ${usersFile}: give the server's flags (--db, --users-db or its config file)`);
  if (!existsSync(venueFile)) throw new ResetError(`No venue database at ${venueFile}: give the server's flags (--db or its config file)`);
  if (serverRunning(venueFile)) throw new ResetError(`A server is running on ${venueFile}: stop it first, then run this again`);
  let store: Store;
  try {
    store = new Store(usersFile);
  } catch (e) {
    // a server on another venue database holds this users database
    if (e instanceof UsersDbInUse) throw new ResetError(`A server is running on ${usersFile}: stop it first, then run this again`);
    throw e;
  }
  try {
    const u = store.userByName(username);
    const admins = store
      .listUsers()
      .filter((x) => x.role === 'admin' && x.disabled !== 1)
      .map((x) => x.username);
    if (u === undefined) throw new ResetError(`No user ${username}. Active admins: ${admins.join(', ') || 'none'}`);
    if (u.role !== 'admin') throw new ResetError(`${u.username} is a ${u.role}, not an admin: an admin resets other users' passwords in the Admin panel`);
    if (u.disabled === 1) throw new ResetError(`${u.username} is disabled. Active admins: ${admins.join(', ')}`);
    const password = temporaryPassword();
    if (passwordProblems(password, u.username).length > 0) throw new ResetError('The temporary password made does not pass the password rule; run this again');
    const hash = await new HashPool(config.auth.argon2, 1).hash(password);
    const at = now();
    const twoFactorWasOn = u.totpEnabled === 1 || u.totpSecret !== null;
    store.updateUser(u.id, { password_hash: hash, must_change_password: 1, totp_enabled: 0, totp_secret: null, totp_last_step: 0 }, at);
    store.setBackupCodes(u.id, []);
    const sessionsRevoked = store.revokeUserSessions(u.id, 'password reset', at).length;
    store.audit({ ts: at, action: 'admin.user.password_reset', details: { userId: u.id, username: u.username, sessionsRevoked, twoFactorReset: twoFactorWasOn, by: 'console' } });
    return { username: u.username, password, twoFactorWasOn, sessionsRevoked };
  } finally {
    await store.close();
  }
}
