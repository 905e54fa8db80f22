/**
 * Users and sessions: first-admin setup, registration, login with throttling and 2FA, refresh-token
 * rotation with family revocation on reuse, logout, session listing and revocation, password change,
 * TOTP enrolment/verification/disable, and the admin operations on users.
 *
 * Tokens are opaque random strings (`tda_…` access, 15 min; `tdr_…` refresh, 30 days), stored only as keyed
 * hashes. An access token is checked against its session on every use (a memory cache in front of the
 * database, dropped on revocation), so revoking a session or disabling a user takes effect at once for
 * REST and, through `onRevoked`, closes that user's WebSockets at once.
 */
import { randomBytes } from 'node:crypto';
import { ProtocolError, type PublicUser, type TokenPair } from '../../../engine/protocol/index.js';
import type { Config } from '../config.js';
import type { Store, Role, UserRow, SessionRow } from '../store.js';
import { randomToken, type ServerKey } from './crypto.js';
import { HashPool, passwordProblems, passwordRule } from './passwords.js';
import { base32Decode, matchTotp, newTotpSecret, otpauthUri } from './totp.js';
import { throttleNetwork } from '../http/client-address.js';

export interface Principal {
  userId: number;
  username: string;
  role: Role;
  accountId: number | undefined;
  sessionId: string;
  mustChangePassword: boolean;
  /** When the session ends (ms; it cannot be renewed past it): a WebSocket opened in it is closed then. */
  sessionExpiresAt?: number;
}

export interface ClientInfo {
  ip: string;
  userAgent: string;
}

/** The REST answers' shapes are the protocol's (engine/protocol/rest.ts), which clients validate against. */
export type { PublicUser, TokenPair };

export function publicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    accountId: u.accountId,
    disabled: u.disabled === 1,
    totpEnabled: u.totpEnabled === 1,
    mustChangePassword: u.mustChangePassword === 1,
    createdAt: u.createdAt,
  };
}

/**
 * SESSION_REVOKED, saying why when the session's revocation recorded it (details.reason: 'user disabled',
 * 'password reset', '2FA reset', 'password changed', 'logout', 'revoked by user', ...), so that a client can
 * tell its user what happened.
 */
export function revoked(reason: string | null | undefined): ProtocolError {
  return reason == null
    ? new ProtocolError('SESSION_REVOKED', 'The session was revoked; sign in again')
    : new ProtocolError('SESSION_REVOKED', `The session was revoked (${reason}); sign in again`, { reason });
}

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/;

export interface AuthHooks {
  /** Sessions that were revoked (close their sockets). */
  onSessionsRevoked(sessionIds: string[], reason: string): void;
  /** The user was disabled or changed role (close all their sockets). */
  onUserChanged(userId: number, reason: string): void;
  /** Opens an engine account for a new user; resolves with its id. */
  openAccount(): Promise<number>;
  /**
   * Cancels every working order of an account whose user can no longer trade (disabled, or made a viewer):
   * nobody could manage those orders any more. Resolves with the number of orders canceled.
   */
  cancelOrders(accountId: number): Promise<number>;
}

/** A user after an admin's change, with the working orders that change canceled. */
export type ChangedUser = PublicUser & { canceledOrders: number };

/**
 * Failed attempts of one key (an account and address, an address, a signed-in user re-entering a
 * password): after `free` of them, each further one locks the key for longer. `inflight` counts the attempts
 * being checked (a password hash takes a while): a key admits only as many at once as may still fail
 * without a lock, so a burst of guesses sent together gets no more tries than guesses sent one by one.
 */
interface Throttle {
  failures: number;
  lockedUntil: number;
  lastAt: number;
  inflight: number;
}

const ISSUER = 'TradeDesk';
/** Records a throttle keeps before it lets the oldest unlocked ones go. */
const THROTTLE_KEEP = 100_000;
const BACKUP_CODES = 10;

export class AuthService {
  readonly hashes: HashPool;
  readonly #store: Store;
  readonly #key: ServerKey;
  readonly #cfg: Config['auth'];
  readonly #hooks: AuthHooks;
  readonly #now: () => number;
  /** Access-token cache: keyed hash -> principal and expiry. */
  readonly #cache = new Map<string, { p: Principal; exp: number }>();
  readonly #throttle = new Map<string, Throttle>();
  readonly #ipFailures = new Map<string, Throttle>();
  /** Password and 2FA checks of signed-in users (changing the password, enrolling, verifying or disabling 2FA), by user id. */
  readonly #reauth = new Map<string, Throttle>();
  /**
   * Wrong second factors at sign-in (given with the right password), by user id, from any address: someone who
   * knows the password gets no more code guesses by spreading them over many networks.
   */
  readonly #secondFactor = new Map<string, Throttle>();
  /** The size at which each throttle is next looked at for records to let go (#evict). */
  readonly #evictAt = new Map<Map<string, Throttle>, number>();
  #setupHash: string | undefined;
  #dummyHash: Promise<string> | undefined;

  constructor(store: Store, key: ServerKey, cfg: Config['auth'], hooks: AuthHooks, now: () => number = Date.now) {
    this.#store = store;
    this.#key = key;
    this.#cfg = cfg;
    this.#hooks = hooks;
    this.#now = now;
    this.hashes = new HashPool(cfg.argon2, cfg.maxConcurrentHashes);
  }

  // ---------------------------------------------------------------- first admin

  /**
   * While no admin exists, a one-time setup token (printed by the entry point) lets exactly one person
   * create the first admin with a password of their own choosing. Returns the token, or undefined when an
   * admin exists. The token lives only in memory (as a keyed hash): a restart prints a new one.
   */
  issueSetupToken(): string | undefined {
    if (this.#store.adminCount() > 0) return undefined;
    const token = 'tds_' + randomToken(24);
    this.#setupHash = this.#key.mac('setup', token);
    return token;
  }

  get setupPending(): boolean {
    return this.#setupHash !== undefined && this.#store.adminCount() === 0;
  }

  async setup(input: { setupToken: string; username: string; password: string }, client: ClientInfo): Promise<TokenPair> {
    const ok = this.#setupHash !== undefined && this.#key.mac('setup', input.setupToken) === this.#setupHash;
    if (!ok || this.#store.adminCount() > 0) {
      this.#audit(undefined, client, 'auth.setup_failed', {});
      throw new ProtocolError('FORBIDDEN', 'Setup is not available: the token is wrong, used, or an admin exists');
    }
    // A request refused for its input (a weak password, a name taken) leaves the token for the next try.
    this.#checkNewUser(input.username, input.password);
    const token = this.#setupHash;
    this.#setupHash = undefined; // one use: another request with it meanwhile is refused
    let user: UserRow;
    try {
      user = await this.createUser({ username: input.username, password: input.password, role: 'admin' }, undefined, client);
    } catch (e) {
      // refused all the same (the name taken meanwhile, the venue closing): the token works again
      if (this.#setupHash === undefined && this.#store.adminCount() === 0) this.#setupHash = token;
      throw e;
    }
    this.#audit(user, client, 'auth.setup', { username: user.username });
    return this.#issue(user, client);
  }

  // ---------------------------------------------------------------- users

  async createUser(
    input: { username: string; password: string; role: Role; mustChangePassword?: boolean; accountId?: number },
    actor: Principal | undefined,
    client: ClientInfo,
  ): Promise<UserRow> {
    this.#checkNewUser(input.username, input.password);
    const hash = await this.hashes.hash(input.password);
    const accountId = input.accountId ?? (await this.#hooks.openAccount());
    // An admin creating the user must still be one after the hashing (another admin may have demoted them).
    if (actor?.role === 'admin') this.#requireActiveAdmin(actor);
    const now = this.#now();
    let id: number;
    try {
      id = this.#store.insertUser({ username: input.username, passwordHash: hash, role: input.role, accountId, mustChangePassword: input.mustChangePassword ?? false, now });
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ProtocolError('CONFLICT', 'That user name is taken', { field: 'username' });
      throw e;
    }
    const user = this.#store.userById(id)!;
    this.#audit(actor, client, 'user.create', { id, username: user.username, role: user.role, accountId });
    return user;
  }

  /** A new user's name and password are acceptable, and the name is free; else the ProtocolError saying why. */
  #checkNewUser(username: string, password: string): void {
    if (!USERNAME_PATTERN.test(username))
      throw new ProtocolError('BAD_REQUEST', 'A user name is 3-32 characters of letters, digits, ".", "_" and "-", starting with a letter or digit', {
        field: 'username',
      });
    const problems = passwordProblems(password, username);
    if (problems.length > 0) throw new ProtocolError('WEAK_PASSWORD', `The password must ${passwordRule(problems)}`, { problems });
    if (this.#store.userByName(username) !== undefined) throw new ProtocolError('CONFLICT', 'That user name is taken', { field: 'username' });
  }

  async register(input: { username: string; password: string; role?: Role }, actor: Principal | undefined, client: ClientInfo, openRole: Role | undefined): Promise<PublicUser> {
    let role: Role;
    let mustChange = false;
    if (actor?.role === 'admin') {
      role = input.role ?? 'trader';
      mustChange = true; // the admin chose the password: the user picks their own at first login
    } else if (openRole !== undefined) {
      if (input.role !== undefined && input.role !== openRole) throw new ProtocolError('FORBIDDEN', `Self-registration creates ${openRole} users only`);
      role = openRole;
    } else {
      throw new ProtocolError(actor === undefined ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Registration is closed: an admin creates users');
    }
    const u = await this.createUser({ username: input.username, password: input.password, role, mustChangePassword: mustChange }, actor, client);
    return publicUser(u);
  }

  /**
   * The checks every change of a user by an admin makes: the user exists, and the actor is still an active
   * admin (its principal may be older than a change made meanwhile by another admin). With self-demotion and
   * self-disabling refused, this also means no change leaves the server without an active admin: the actor
   * remains one.
   */
  #adminChange(actor: Principal, userId: number): UserRow {
    this.#requireActiveAdmin(actor);
    const u = this.#store.userById(userId);
    if (u === undefined) throw new ProtocolError('NOT_FOUND', 'No such user');
    return u;
  }

  #requireActiveAdmin(actor: Principal): void {
    const a = this.#store.userById(actor.userId);
    if (a === undefined || a.disabled === 1 || a.role !== 'admin') throw new ProtocolError('FORBIDDEN', 'Needs admin access', { required: 'admin' });
  }

  /**
   * Cancels the working orders of a user who can no longer trade, then records the change with `audit`:
   * with the number canceled, or, when the venue could not cancel (it failed or is closing), with the
   * reason, before the error goes on to the caller. The change itself has been made either way.
   */
  async #cancelOrdersOf(u: UserRow, audit: (canceled: number, failed: { cancelFailed?: string }) => void): Promise<number> {
    let n: number;
    try {
      n = u.accountId === null ? 0 : await this.#hooks.cancelOrders(u.accountId);
    } catch (e) {
      audit(0, { cancelFailed: (e as Error).message });
      throw e;
    }
    audit(n, {});
    return n;
  }

  /**
   * Disabling a user signs them out everywhere at once (their sockets close) and cancels their working
   * orders; enabling lets them sign in again.
   */
  async setDisabled(actor: Principal, userId: number, disabled: boolean, client: ClientInfo): Promise<ChangedUser> {
    if (disabled && userId === actor.userId) throw new ProtocolError('CONFLICT', 'You cannot disable yourself');
    const u = this.#adminChange(actor, userId);
    const now = this.#now();
    this.#store.updateUser(userId, { disabled: disabled ? 1 : 0 }, now);
    if (!disabled) {
      this.#audit(actor, client, 'admin.user.enable', { userId, username: u.username });
      return { ...publicUser(this.#store.userById(userId)!), canceledOrders: 0 };
    }
    this.#signOut(u, 'user disabled', now);
    const canceledOrders = await this.#cancelOrdersOf(u, (n, failed) => this.#audit(actor, client, 'admin.user.disable', { userId, username: u.username, canceledOrders: n, ...failed }));
    return { ...publicUser(this.#store.userById(userId)!), canceledOrders };
  }

  /** A change of role closes the user's sockets (they reconnect with the new role); making them a viewer cancels their working orders. */
  async setRole(actor: Principal, userId: number, role: Role, client: ClientInfo): Promise<ChangedUser> {
    if (userId === actor.userId && role !== 'admin') throw new ProtocolError('CONFLICT', 'You cannot demote yourself');
    const u = this.#adminChange(actor, userId);
    this.#store.updateUser(userId, { role }, this.#now());
    this.#dropCache((p) => p.userId === userId);
    this.#hooks.onUserChanged(userId, 'role changed');
    const details = { userId, username: u.username, from: u.role, to: role };
    let canceledOrders = 0;
    if (role === 'viewer' && u.role !== 'viewer') canceledOrders = await this.#cancelOrdersOf(u, (n, failed) => this.#audit(actor, client, 'admin.user.role', { ...details, canceledOrders: n, ...failed }));
    else this.#audit(actor, client, 'admin.user.role', details);
    return { ...publicUser(this.#store.userById(userId)!), canceledOrders };
  }

  /**
   * A user who forgot their password: the admin sets a temporary one, which the user must change at their
   * next sign-in. Every session of the user is revoked (their sockets close) and their sign-in throttle is
   * cleared. Not for the admin's own password (that is /auth/password, with the current one).
   */
  async resetPassword(actor: Principal, userId: number, password: string, client: ClientInfo): Promise<PublicUser & { sessionsRevoked: number }> {
    if (userId === actor.userId) throw new ProtocolError('CONFLICT', 'Change your own password with POST /api/v1/auth/password');
    const u = this.#adminChange(actor, userId);
    const problems = passwordProblems(password, u.username);
    if (problems.length > 0) throw new ProtocolError('WEAK_PASSWORD', `The password must ${passwordRule(problems)}`, { problems });
    const hash = await this.hashes.hash(password);
    this.#requireActiveAdmin(actor); // still an admin after the hashing
    const now = this.#now();
    this.#store.updateUser(userId, { password_hash: hash, must_change_password: 1 }, now);
    const revoked = this.#signOut(u, 'password reset', now);
    const name = u.username.toLowerCase() + '|';
    for (const k of [...this.#throttle.keys()]) if (k.startsWith(name)) this.#clear(this.#throttle, k);
    this.#audit(actor, client, 'admin.user.password_reset', { userId, username: u.username, sessionsRevoked: revoked });
    return { ...publicUser(this.#store.userById(userId)!), sessionsRevoked: revoked };
  }

  /**
   * A user who lost their authenticator and backup codes: the admin turns their 2FA off (secret and backup
   * codes deleted); they sign in with the password alone and may enrol again. Every session of the user is
   * revoked. Not for the admin's own 2FA (that is /auth/2fa/disable, with the password and a code).
   */
  resetTwoFactor(actor: Principal, userId: number, client: ClientInfo): PublicUser & { sessionsRevoked: number } {
    if (userId === actor.userId) throw new ProtocolError('CONFLICT', 'Turn off your own 2FA with POST /api/v1/auth/2fa/disable');
    const u = this.#adminChange(actor, userId);
    if (u.totpSecret === null && u.totpEnabled !== 1) throw new ProtocolError('CONFLICT', 'Two-factor authentication is not on for this user');
    const now = this.#now();
    this.#store.updateUser(userId, { totp_enabled: 0, totp_secret: null, totp_last_step: 0 }, now);
    this.#store.setBackupCodes(userId, []);
    this.#clear(this.#secondFactor, String(userId));
    const revoked = this.#signOut(u, '2FA reset', now);
    this.#audit(actor, client, 'admin.user.2fa_reset', { userId, username: u.username, sessionsRevoked: revoked });
    return { ...publicUser(this.#store.userById(userId)!), sessionsRevoked: revoked };
  }

  /** Revokes every session of the user and closes their sockets; returns how many sessions were live. */
  #signOut(u: UserRow, reason: string, now: number): number {
    const ids = this.#store.revokeUserSessions(u.id, reason, now);
    this.#dropCache((p) => p.userId === u.id);
    this.#hooks.onSessionsRevoked(ids, reason);
    this.#hooks.onUserChanged(u.id, reason);
    return ids.length;
  }

  // ---------------------------------------------------------------- login

  #throttleKey(username: string, ip: string): string {
    return `${username.toLowerCase()}|${throttleNetwork(ip)}`;
  }

  /**
   * Seconds to wait before the next attempt, or 0: the key is locked, or as many attempts are being checked
   * as may still fail without a lock (at least one once it has been locked: that one's failure locks it
   * again); those take about a second.
   */
  #blocked(map: Map<string, Throttle>, key: string, now: number, free: number): number {
    const t = map.get(key);
    if (t === undefined || this.#stale(t, now)) return 0;
    if (t.lockedUntil > now) return Math.ceil((t.lockedUntil - now) / 1000);
    return t.inflight >= Math.max(1, free - t.failures) ? 1 : 0;
  }

  /**
   * The key's record: a new one if it has none, the same one started over if its last failure is long past
   * (the same object: attempts being checked hold it, and count themselves out of it).
   */
  #entry(map: Map<string, Throttle>, key: string, now: number): Throttle {
    let t = map.get(key);
    if (t === undefined) {
      t = { failures: 0, lockedUntil: 0, lastAt: now, inflight: 0 };
      if (map.size >= (this.#evictAt.get(map) ?? THROTTLE_KEEP)) {
        this.#evict(map, now);
        // (when locks kept it full, the next look waits until it has grown a tenth more)
        this.#evictAt.set(map, Math.max(THROTTLE_KEEP, map.size + THROTTLE_KEEP / 10));
      }
      map.set(key, t);
    } else if (this.#stale(t, now)) {
      t.failures = 0;
      t.lockedUntil = 0;
      t.lastAt = now;
    }
    return t;
  }

  /**
   * Bounds the memory of a throttle under a spray of names and addresses: its oldest records go, but not a
   * lock or a record being checked (a spray must not set a locked account free), down to 90% of the
   * limit. Only when locks alone fill it past ten times the limit do the oldest of them go too.
   */
  #evict(map: Map<string, Throttle>, now: number): void {
    const target = Math.floor(THROTTLE_KEEP * 0.9);
    for (const [k, t] of map) {
      if (map.size <= target) return;
      if (t.inflight === 0 && (t.lockedUntil <= now || this.#stale(t, now))) map.delete(k);
    }
    for (const [k, t] of map) {
      if (map.size < THROTTLE_KEEP * 10) return;
      if (t.inflight === 0) map.delete(k);
    }
  }

  /** Whether a key's last failure is long past (twice the longest lock): its failures count no more. */
  #stale(t: Throttle, now: number): boolean {
    return now - t.lastAt > this.#cfg.loginMaxDelaySec * 1000 * 2;
  }

  /** A success clears the key's failures (its record goes once no attempt holds it). */
  #clear(map: Map<string, Throttle>, key: string): void {
    const t = map.get(key);
    if (t === undefined) return;
    t.failures = 0;
    t.lockedUntil = 0;
    if (t.inflight === 0) map.delete(key);
  }

  /** An attempt of these keys is being checked until the returned function is called. */
  #attempt(keys: readonly [Map<string, Throttle>, string][], now: number): () => void {
    const entries = keys.map(([map, key]) => {
      const t = this.#entry(map, key, now);
      t.inflight++;
      return [map, key, t] as const;
    });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const [map, key, t] of entries) {
        t.inflight--;
        if (t.failures === 0 && t.inflight === 0 && map.get(key) === t) map.delete(key);
      }
    };
  }

  #fail(map: Map<string, Throttle>, key: string, now: number, free: number): void {
    const t = this.#entry(map, key, now);
    t.failures++;
    t.lastAt = now;
    if (t.failures >= free) {
      const delay = Math.min(this.#cfg.loginMaxDelaySec, this.#cfg.loginBaseDelaySec * 2 ** (t.failures - free));
      t.lockedUntil = now + delay * 1000;
    }
  }

  async login(input: { username: string; password: string; code?: string | undefined }, client: ClientInfo): Promise<TokenPair> {
    const now = this.#now();
    const key = this.#throttleKey(input.username, client.ip);
    const free = this.#cfg.loginFreeFailures;
    const net = throttleNetwork(client.ip);
    const wait = Math.max(this.#blocked(this.#throttle, key, now, free), this.#blocked(this.#ipFailures, net, now, free * 10));
    if (wait > 0) {
      this.#audit(undefined, client, 'auth.login_throttled', { username: input.username.slice(0, 64), retryAfter: wait });
      throw new ProtocolError('RATE_LIMITED', `Too many failed sign-ins; retry in ${wait} s`, { retryAfter: wait });
    }
    // Counted as being checked until judged (below, with no await between): a failure is recorded before
    // the next attempt of these keys is looked at.
    const judged = this.#attempt([[this.#throttle, key], [this.#ipFailures, net]], now);
    let found: UserRow | undefined;
    let stored: string;
    let verified: boolean;
    try {
      found = this.#store.userByName(input.username);
      // Verify against a dummy hash for unknown users so timing does not reveal which names exist.
      stored = found?.passwordHash ?? (await (this.#dummyHash ??= this.hashes.hash(randomToken(16))));
      verified = await this.hashes.verify(stored, input.password);
    } finally {
      judged();
    }
    // The user as of now: while the hash was checked, an admin may have disabled them, reset their
    // password or their 2FA, or changed their role. A password replaced meanwhile no longer counts.
    const user = found === undefined ? undefined : this.#store.userById(found.id);
    const ok = verified && user?.passwordHash === stored;
    const failed = (reason: string, code: 'INVALID_CREDENTIALS' | 'INVALID_TWO_FACTOR_CODE'): never => {
      this.#fail(this.#throttle, key, now, free);
      this.#fail(this.#ipFailures, net, now, free * 10);
      this.#audit(user, client, 'auth.login_failed', { username: input.username.slice(0, 64), reason });
      throw new ProtocolError(code);
    };
    if (user === undefined || !ok) return failed(user === undefined ? 'unknown user' : 'wrong password', 'INVALID_CREDENTIALS');
    if (user.disabled === 1) {
      this.#audit(user, client, 'auth.login_failed', { username: user.username, reason: 'disabled' });
      throw new ProtocolError('FORBIDDEN', 'This user is disabled');
    }
    if (user.totpEnabled === 1) {
      if (input.code === undefined || input.code === '') {
        this.#audit(user, client, 'auth.login_2fa_required', { username: user.username });
        throw new ProtocolError('TWO_FACTOR_REQUIRED', 'Enter the code from your authenticator app (or a backup code)');
      }
      // Only the right password gets here, so only someone who knows it can lock the account's codes.
      const userKey = String(user.id);
      const codeWait = this.#blocked(this.#secondFactor, userKey, now, free);
      if (codeWait > 0) {
        this.#audit(user, client, 'auth.login_throttled', { username: user.username, reason: 'two-factor codes', retryAfter: codeWait });
        throw new ProtocolError('RATE_LIMITED', `Too many wrong two-factor codes for this account; retry in ${codeWait} s`, { retryAfter: codeWait });
      }
      if (!this.#checkSecondFactor(user, input.code, client)) {
        this.#fail(this.#secondFactor, userKey, now, free);
        return failed('wrong two-factor code', 'INVALID_TWO_FACTOR_CODE');
      }
      this.#clear(this.#secondFactor, userKey);
    }
    this.#clear(this.#throttle, key);
    if (this.hashes.needsRehash(user.passwordHash)) {
      const rehashed = await this.hashes.hash(input.password);
      // unless the password was replaced while hashing (an admin's reset must not be undone)
      if (this.#store.userById(user.id)?.passwordHash === user.passwordHash) this.#store.updateUser(user.id, { password_hash: rehashed }, now);
    }
    const pair = this.#issue(user, client);
    this.#audit(user, client, 'auth.login', { sessionId: pair.sessionId });
    return pair;
  }

  /** A TOTP code (each works once) or an unused backup code. */
  #checkSecondFactor(user: UserRow, code: string, client: ClientInfo): boolean {
    const c = code.replace(/[\s-]/g, '');
    if (/^\d{6}$/.test(c)) {
      if (user.totpSecret === null) return false;
      const secret = base32Decode(this.#key.open(user.totpSecret));
      const step = matchTotp(secret, c, this.#now());
      return step !== undefined && this.#store.useTotpStep(user.id, step, this.#now());
    }
    if (/^[a-z0-9]{10}$/i.test(c)) {
      const used = this.#store.useBackupCode(user.id, this.#key.mac('backup', c.toLowerCase()), this.#now());
      if (used) this.#audit(user, client, 'auth.2fa.backup_used', { left: this.#store.backupCodesLeft(user.id) });
      return used;
    }
    return false;
  }

  #issue(user: UserRow, client: ClientInfo, sessionId?: string): TokenPair {
    const now = this.#now();
    const sid = sessionId ?? randomToken(16);
    const access = 'tda_' + randomToken(32);
    const refresh = 'tdr_' + randomToken(32);
    const accessExp = now + this.#cfg.accessTtlSec * 1000;
    const refreshExp = now + this.#cfg.refreshTtlSec * 1000;
    const db = this.#store.db;
    db.transaction(() => {
      if (sessionId === undefined)
        this.#store.insertSession({ id: sid, userId: user.id, createdAt: now, lastUsedAt: now, expiresAt: refreshExp, ip: client.ip, userAgent: client.userAgent.slice(0, 256) });
      else this.#store.touchSession(sid, now, client.ip);
      this.#store.insertToken(this.#key.mac('access', access), sid, 'access', accessExp);
      this.#store.insertToken(this.#key.mac('refresh', refresh), sid, 'refresh', refreshExp);
    })();
    return {
      accessToken: access,
      refreshToken: refresh,
      tokenType: 'Bearer',
      expiresIn: this.#cfg.accessTtlSec,
      refreshExpiresIn: this.#cfg.refreshTtlSec,
      sessionId: sid,
      user: publicUser(user),
    };
  }

  // ---------------------------------------------------------------- refresh, logout, sessions

  /**
   * Rotates: the refresh token is spent and a new pair issued in the same session. A refresh token that was
   * already spent is a reuse (stolen or replayed): the whole session (token family) is revoked.
   */
  refresh(refreshToken: string, client: ClientInfo): TokenPair {
    const now = this.#now();
    const hash = this.#key.mac('refresh', refreshToken);
    const t = this.#store.token(hash);
    if (t === undefined || t.kind !== 'refresh') throw new ProtocolError('UNAUTHENTICATED', 'Unknown refresh token');
    const s = this.#store.session(t.sessionId);
    if (s === undefined || s.revokedAt !== null) throw revoked(s?.revokeReason);
    const user = this.#store.userById(s.userId);
    if (t.usedAt !== null || !this.#store.useToken(hash, now)) {
      this.#revoke([s.id], 'refresh token reused', now);
      this.#audit(user, client, 'auth.refresh_reuse', { sessionId: s.id });
      throw new ProtocolError('SESSION_REVOKED', 'That refresh token was already used; the session is revoked for safety. Sign in again.');
    }
    if (t.expiresAt <= now || s.expiresAt <= now) throw new ProtocolError('UNAUTHENTICATED', 'The refresh token expired; sign in again');
    if (user === undefined || user.disabled === 1) throw new ProtocolError('FORBIDDEN', 'This user is disabled');
    this.#store.expireAccessTokens(s.id, now);
    this.#dropCache((p) => p.sessionId === s.id);
    const pair = this.#issue(user, client, s.id);
    this.#audit(user, client, 'auth.refresh', { sessionId: s.id });
    return pair;
  }

  logout(p: Principal, client: ClientInfo): void {
    this.#revoke([p.sessionId], 'logout', this.#now());
    this.#audit(p, client, 'auth.logout', { sessionId: p.sessionId });
  }

  sessions(p: Principal): (Pick<SessionRow, 'id' | 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'ip' | 'userAgent'> & { current: boolean })[] {
    return this.#store.sessionsOf(p.userId, this.#now()).map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      lastUsedAt: s.lastUsedAt,
      expiresAt: s.expiresAt,
      ip: s.ip,
      userAgent: s.userAgent,
      current: s.id === p.sessionId,
    }));
  }

  /** Revokes one of the caller's sessions (admins: anyone's). */
  revokeSession(p: Principal, sessionId: string, client: ClientInfo): void {
    const s = this.#store.session(sessionId);
    if (s === undefined || (s.userId !== p.userId && p.role !== 'admin')) throw new ProtocolError('NOT_FOUND', 'No such session');
    this.#revoke([sessionId], p.userId === s.userId ? 'revoked by user' : 'revoked by admin', this.#now());
    this.#audit(p, client, 'auth.session_revoked', { sessionId, userId: s.userId });
  }

  #revoke(ids: string[], reason: string, now: number): void {
    const done = ids.filter((id) => this.#store.revokeSession(id, reason, now));
    const set = new Set(ids);
    this.#dropCache((p) => set.has(p.sessionId));
    if (done.length > 0) this.#hooks.onSessionsRevoked(done, reason);
  }

  #dropCache(match: (p: Principal) => boolean): void {
    for (const [k, v] of this.#cache) if (match(v.p)) this.#cache.delete(k);
  }

  /** The principal behind an access token, or a ProtocolError (UNAUTHENTICATED / SESSION_REVOKED / FORBIDDEN). */
  authenticate(accessToken: string): Principal {
    const now = this.#now();
    const hash = this.#key.mac('access', accessToken);
    const hit = this.#cache.get(hash);
    if (hit !== undefined) {
      if (hit.exp > now) return hit.p;
      this.#cache.delete(hash);
    }
    const t = this.#store.token(hash);
    if (t === undefined || t.kind !== 'access') throw new ProtocolError('UNAUTHENTICATED', 'Unknown access token');
    if (t.expiresAt <= now) throw new ProtocolError('UNAUTHENTICATED', 'The access token expired; refresh it', { expired: true });
    const s = this.#store.session(t.sessionId);
    if (s === undefined || s.revokedAt !== null) throw revoked(s?.revokeReason);
    const u = this.#store.userById(s.userId);
    if (u === undefined || u.disabled === 1) throw new ProtocolError('FORBIDDEN', 'This user is disabled');
    const p: Principal = {
      userId: u.id,
      username: u.username,
      role: u.role,
      accountId: u.accountId ?? undefined,
      sessionId: s.id,
      mustChangePassword: u.mustChangePassword === 1,
      sessionExpiresAt: s.expiresAt,
    };
    if (this.#cache.size > 50_000) this.#cache.clear();
    this.#cache.set(hash, { p, exp: t.expiresAt });
    return p;
  }

  me(p: Principal): PublicUser & { backupCodesLeft: number } {
    const u = this.#store.userById(p.userId)!;
    return { ...publicUser(u), backupCodesLeft: this.#store.backupCodesLeft(u.id) };
  }

  async changePassword(p: Principal, current: string, next: string, client: ClientInfo): Promise<void> {
    const u = this.#store.userById(p.userId)!;
    if ((await this.#recheck(p, client, async () => ((await this.#passwordHolds(u, current)) ? undefined : 'wrong password'))) !== undefined) {
      this.#audit(p, client, 'auth.password_change_failed', {});
      throw new ProtocolError('INVALID_CREDENTIALS', 'The current password is wrong');
    }
    const problems = passwordProblems(next, u.username);
    if (problems.length > 0) throw new ProtocolError('WEAK_PASSWORD', `The password must ${passwordRule(problems)}`, { problems });
    if (await this.hashes.verify(u.passwordHash, next)) throw new ProtocolError('WEAK_PASSWORD', 'Choose a password different from the current one', { problems: ['different from the current one'] });
    const hash = await this.hashes.hash(next);
    // The current password was checked against the hash read first: if an admin reset it meanwhile, the
    // check no longer holds (and the reset must not be undone).
    if (this.#store.userById(u.id)?.passwordHash !== u.passwordHash) throw new ProtocolError('INVALID_CREDENTIALS', 'The password was reset meanwhile: sign in again');
    const now = this.#now();
    this.#store.updateUser(u.id, { password_hash: hash, must_change_password: 0 }, now);
    const others = this.#store.revokeUserSessions(u.id, 'password changed', now, p.sessionId);
    this.#dropCache((x) => x.userId === u.id);
    if (others.length > 0) this.#hooks.onSessionsRevoked(others, 'password changed');
    this.#audit(p, client, 'auth.password_changed', { otherSessionsRevoked: others.length });
  }

  /**
   * A signed-in user's password (and 2FA code) checked again before a change of their credentials, throttled
   * per user as sign-ins are per account and address: a stolen access token gets no more guesses here than
   * at the sign-in. `check` resolves with why it failed, or undefined; a failure counts, a success clears.
   */
  async #recheck<R extends string>(p: Principal, client: ClientInfo, check: () => Promise<R | undefined>): Promise<R | undefined> {
    const key = String(p.userId);
    const now = this.#now();
    const free = this.#cfg.loginFreeFailures;
    const wait = this.#blocked(this.#reauth, key, now, free);
    if (wait > 0) {
      this.#audit(p, client, 'auth.reauth_throttled', { retryAfter: wait });
      throw new ProtocolError('RATE_LIMITED', `Too many wrong passwords or codes; retry in ${wait} s`, { retryAfter: wait });
    }
    const judged = this.#attempt([[this.#reauth, key]], now);
    let failure: R | undefined;
    try {
      failure = await check();
    } finally {
      judged();
    }
    if (failure !== undefined) this.#fail(this.#reauth, key, now, free);
    else this.#clear(this.#reauth, key);
    return failure;
  }

  /**
   * Whether `password` is the user's password, still: the check takes a while, and an admin's reset
   * meanwhile makes the password it was checked against no longer the user's.
   */
  async #passwordHolds(u: UserRow, password: string): Promise<boolean> {
    const ok = await this.hashes.verify(u.passwordHash, password);
    return ok && this.#store.userById(u.id)?.passwordHash === u.passwordHash;
  }

  // ---------------------------------------------------------------- TOTP

  /** Starts enrolment: a new secret (not active until verified). Needs the password again. */
  async enrollTotp(p: Principal, password: string, client: ClientInfo): Promise<{ secret: string; otpauthUri: string }> {
    const u = this.#store.userById(p.userId)!;
    if (u.totpEnabled === 1) throw new ProtocolError('CONFLICT', 'Two-factor authentication is already on; disable it first');
    if ((await this.#recheck(p, client, async () => ((await this.#passwordHolds(u, password)) ? undefined : 'wrong password'))) !== undefined) {
      this.#audit(p, client, 'auth.2fa.enroll_failed', { reason: 'wrong password' });
      throw new ProtocolError('INVALID_CREDENTIALS', 'The password is wrong');
    }
    // 2FA may have been turned on while the password was checked (an enrolment verified meanwhile): a new
    // secret written now would turn it off again.
    if (this.#store.userById(u.id)?.totpEnabled === 1) throw new ProtocolError('CONFLICT', 'Two-factor authentication is already on; disable it first');
    const secret = newTotpSecret();
    this.#store.updateUser(u.id, { totp_secret: this.#key.seal(secret), totp_enabled: 0, totp_last_step: 0 }, this.#now());
    this.#audit(p, client, 'auth.2fa.enroll', {});
    return { secret, otpauthUri: otpauthUri(ISSUER, u.username, secret) };
  }

  /**
   * Confirms enrolment with a current code; turns 2FA on and returns fresh backup codes (shown once). Wrong
   * codes count in the user's throttle of password and code checks.
   */
  async verifyTotp(p: Principal, code: string, client: ClientInfo): Promise<{ enabled: true; backupCodes: string[] }> {
    const u = this.#store.userById(p.userId)!;
    if (u.totpSecret === null || u.totpEnabled === 1) throw new ProtocolError('CONFLICT', 'Start enrolment first');
    const sealed = u.totpSecret;
    const failure = await this.#recheck(p, client, async () => {
      const step = matchTotp(base32Decode(this.#key.open(sealed)), code.trim(), this.#now());
      return step !== undefined && this.#store.useTotpStep(u.id, step, this.#now()) ? undefined : 'wrong code';
    });
    if (failure !== undefined) {
      this.#audit(p, client, 'auth.2fa.verify_failed', {});
      throw new ProtocolError('INVALID_TWO_FACTOR_CODE');
    }
    // the code was checked against this secret: another enrolment or a reset meanwhile makes it not the user's
    const now = this.#store.userById(u.id);
    if (now === undefined || now.totpSecret !== sealed || now.totpEnabled === 1) throw new ProtocolError('CONFLICT', 'Start enrolment first');
    const codes = Array.from({ length: BACKUP_CODES }, () => backupCode());
    this.#store.setBackupCodes(u.id, codes.map((c) => this.#key.mac('backup', c)));
    this.#store.updateUser(u.id, { totp_enabled: 1 }, this.#now());
    this.#audit(p, client, 'auth.2fa.enabled', {});
    return { enabled: true, backupCodes: codes };
  }

  /** Turns 2FA off: needs the password and a current code (or a backup code). */
  async disableTotp(p: Principal, password: string, code: string, client: ClientInfo): Promise<void> {
    const u = this.#store.userById(p.userId)!;
    if (u.totpEnabled !== 1) throw new ProtocolError('CONFLICT', 'Two-factor authentication is not on');
    const failure = await this.#recheck(p, client, async () =>
      !(await this.#passwordHolds(u, password)) ? 'wrong password' : !this.#checkSecondFactor(u, code, client) ? 'wrong code' : undefined,
    );
    if (failure !== undefined) {
      this.#audit(p, client, 'auth.2fa.disable_failed', { reason: failure });
      throw failure === 'wrong password' ? new ProtocolError('INVALID_CREDENTIALS', 'The password is wrong') : new ProtocolError('INVALID_TWO_FACTOR_CODE');
    }
    this.#store.updateUser(u.id, { totp_enabled: 0, totp_secret: null, totp_last_step: 0 }, this.#now());
    this.#store.setBackupCodes(u.id, []);
    this.#audit(p, client, 'auth.2fa.disabled', {});
  }

  // ---------------------------------------------------------------- audit

  #audit(who: Principal | UserRow | undefined, client: ClientInfo, action: string, details: Record<string, unknown>): void {
    const userId = who === undefined ? undefined : 'userId' in who ? who.userId : who.id;
    this.#store.audit({ ts: this.#now(), userId, username: who?.username, ip: client.ip, action, details });
  }
}

/** 10 characters of a-z0-9 (~51 bits). */
function backupCode(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const b = randomBytes(10);
  let s = '';
  for (const x of b) s += alphabet[x % 32];
  return s;
}
