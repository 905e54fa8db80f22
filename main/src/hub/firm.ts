/**
 * Firm servers: ONE reconnecting WebSocket connection per signed-in server, shared by every window through
 * the hub. Authentication follows the server's rules (server/src/http/api.ts, server/src/ws/gateway.ts):
 *
 * - Sign-in is REST: `POST /api/v1/auth/login {username, password, code?}` answers an access token (short
 *   lived) and a refresh token (rotated on every use; replaying an old one revokes the whole session).
 * - The WebSocket `/ws` authenticates in the upgrade with `Authorization: Bearer <access token>` (native
 *   clients have no Origin and must present a token).
 * - Before each connection attempt the access token is checked and, when it is (nearly) expired or the
 *   server refused it, renewed with `POST /api/v1/auth/refresh`. Refreshes are single-flight, and the
 *   rotated refresh token replaces the stored one in the keychain at once. A refresh the server refuses
 *   ends the loop with UNAUTHENTICATED (the hub shows login_required); a network failure is retried.
 * - While connected, the tokens are renewed shortly before the access token expires, so a reconnect
 *   hours later does not find both expired.
 * - Sign-out: `POST /api/v1/auth/logout` (best effort), the stored refresh token is deleted.
 *
 * Reconnect with backoff, re-subscribe and waiting calls come from engine/protocol's Connection.
 */
import {
  Connection,
  ProtocolError,
  TokenPairSchema,
  responseBody,
  isResultCode,
  readAnswer,
  type TokenPair,
  type BackoffOptions,
  type ChannelName,
  type ChannelParams,
  type ConnectionStatus,
  type MethodName,
  type Port,
} from '../../../engine/protocol/index.js';
import type { CredentialStore } from '../credentials/store.js';
import { secretAccount } from '../credentials/store.js';
import type { StoredProfile } from '../profiles.js';
import { UpgradeRefused, dialWebSocket, wsPort } from '../ws-port.js';
import type { FirmConnector, FirmSession, StillOwned } from './hub.js';
import type { Upstream, UpstreamHandlers, UpstreamStatus, UpstreamSubscription } from './upstream.js';

export interface FirmOptions {
  credentials: CredentialStore;
  /** Sent in hello and as User-Agent, e.g. "tradedesk-desktop/0.1.0". */
  clientName: string;
  backoff?: BackoffOptions;
  /** Renew the access token this long before it expires. Default 60 s. */
  refreshMarginMs?: number;
  now?(): number;
  /** Per request timeout for the REST calls. Default 15 s. */
  httpTimeoutMs?: number;
  onError?(error: unknown, where: string): void;
}

export function firmConnector(o: FirmOptions): FirmConnector {
  // Per stored refresh token (keychain account): the renewal under way of any link, also of one already
  // closed. A resume reads the token only after it: the one it would read is about to be spent.
  const renewals = new Map<string, Promise<unknown>>();
  return {
    async resume(profile, owned) {
      const account = secretAccount(profile.id, 'refreshToken');
      await renewals.get(account)?.catch(() => undefined);
      const refresh = await o.credentials.get(account);
      if (refresh === undefined || profile.url === undefined) return undefined;
      const s = new FirmLink(o, profile, { refreshToken: refresh, remember: true, username: profile.username ?? '', owned, renewals });
      s.start();
      return s;
    },
    async login(profile, creds, owned) {
      if (profile.url === undefined) throw new ProtocolError('BAD_REQUEST', 'This profile has no server URL');
      const body: Record<string, string> = { username: creds.username, password: creds.password };
      if (creds.totp !== undefined) body.code = creds.totp;
      const pair = await postTokens(o, profile.url, '/api/v1/auth/login', body);
      if (pair.user.mustChangePassword === true) {
        throw new ProtocolError('FORBIDDEN', 'The server asks you to change your password first (in its web sign-in)');
      }
      const account = secretAccount(profile.id, 'refreshToken');
      // A renewal of an earlier session of this profile still on its way (a link left meanwhile) ends first:
      // it stores its token only while the keychain still holds the one it spent, so it cannot overwrite this.
      await renewals.get(account)?.catch(() => undefined);
      if (owned === undefined || owned()) {
        if (creds.remember) await o.credentials.set(account, pair.refreshToken);
        else await o.credentials.delete(account);
      }
      const s = new FirmLink(o, profile, { refreshToken: pair.refreshToken, remember: creds.remember, username: pair.user.username, owned, renewals });
      s.setAccess(pair.accessToken, pair.expiresIn);
      s.start();
      return s;
    },
  };
}

/** How the server's token renewal refuses a refresh token (server/src/auth/service.ts refresh). */
const TOKEN_REFUSALS = new Set(['UNAUTHENTICATED', 'SESSION_REVOKED', 'FORBIDDEN']);

class FirmLink implements FirmSession {
  readonly upstream: Upstream;
  readonly username: string;
  readonly #o: FirmOptions;
  readonly #base: string;
  readonly #account: string;
  readonly #remember: boolean;
  readonly #owned: StillOwned | undefined;
  readonly #renewals: Map<string, Promise<unknown>>;
  readonly #conn: Connection;
  #refreshToken: string;
  #access: string | undefined;
  #accessExpiresAt = 0;
  #refreshing: Promise<string> | undefined;
  /** The token this connection attempt presents, and whether it was renewed for this attempt. */
  #attemptToken: string | undefined;
  #attemptRefreshed = false;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** Closed: no more connections (the session stays valid, its rotated tokens are still kept). */
  #closed = false;
  /** Signed out: nothing is stored any more. */
  #loggedOut = false;

  constructor(
    o: FirmOptions,
    profile: StoredProfile,
    s: { refreshToken: string; remember: boolean; username: string; owned: StillOwned | undefined; renewals: Map<string, Promise<unknown>> },
  ) {
    this.#o = o;
    this.#base = profile.url!.replace(/\/+$/, '');
    this.#account = secretAccount(profile.id, 'refreshToken');
    this.#refreshToken = s.refreshToken;
    this.#remember = s.remember;
    this.#owned = s.owned;
    this.#renewals = s.renewals;
    this.username = s.username;
    const wsUrl = `${this.#base.replace(/^http/, 'ws')}/ws`;
    this.#conn = new Connection({
      hello: async () => {
        this.#attemptRefreshed = false;
        this.#attemptToken = await this.#accessToken();
        return { client: o.clientName };
      },
      open: () => this.#open(wsUrl),
      ...(o.backoff ? { backoff: o.backoff } : {}),
    });
    this.#conn.onStatus((st) => {
      if (st.state === 'open') this.#scheduleRenew();
      else this.#clearRenew();
    });
    this.upstream = connectionUpstream(this.#conn);
  }

  start(): void {
    this.#conn.start();
  }

  setAccess(token: string, expiresInSec: number): void {
    this.#access = token;
    this.#accessExpiresAt = this.#now() + expiresInSec * 1000;
  }

  async logout(): Promise<void> {
    this.#loggedOut = true;
    this.close();
    // a renewal under way ends first (it stores nothing now), so the token it may have stored is deleted too
    await this.#refreshing?.catch(() => undefined);
    const access = this.#access;
    await this.#o.credentials.delete(this.#account);
    if (access !== undefined && this.#accessExpiresAt > this.#now()) {
      try {
        await request(this.#o, this.#base, '/api/v1/auth/logout', { method: 'POST', token: access });
      } catch (e) {
        this.#o.onError?.(e, 'logout');
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#clearRenew();
    this.#conn.close();
  }

  async rest(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
    if (this.#closed) throw new ProtocolError('UNAVAILABLE', 'Signed out of this server');
    const send = async (token: string) =>
      request(this.#o, this.#base, `/api/v1${path}`, { method, token, ...(body !== undefined ? { body } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    try {
      return await send(await this.#accessToken());
    } catch (e) {
      // refused as expired or revoked early: once more with a renewed token (a refused renewal says sign in)
      if (!(e instanceof ProtocolError) || e.code !== 'UNAUTHENTICATED') throw e;
      this.#access = undefined;
      return send(await this.#refresh());
    }
  }

  // ---------------------------------------------------------------- tokens

  async #accessToken(): Promise<string> {
    const margin = this.#o.refreshMarginMs ?? 60_000;
    if (this.#access !== undefined && this.#now() < this.#accessExpiresAt - margin) return this.#access;
    this.#attemptRefreshed = true;
    return this.#refresh();
  }

  #refresh(): Promise<string> {
    if (this.#refreshing !== undefined) return this.#refreshing;
    const spent = this.#refreshToken;
    const renewal = (async () => {
      try {
        const pair = await postTokens(this.#o, this.#base, '/api/v1/auth/refresh', { refreshToken: spent });
        this.#refreshToken = pair.refreshToken;
        this.setAccess(pair.accessToken, pair.expiresIn);
        // The old refresh token is now spent: replace it in the keychain before anything else can use it, also
        // when the link was closed meanwhile (switched away from: the session stays stored). Not once signed
        // out, nor when the profile was moved to another server or deleted (the token is not its any more), nor
        // when the keychain no longer holds the token spent: a newer sign-in to the profile stored its own
        // session there (or, not remembered, deleted it).
        if (this.#keeps() && (await this.#holds(spent))) await this.#o.credentials.set(this.#account, pair.refreshToken);
        return pair.accessToken;
      } catch (e) {
        if (e instanceof ProtocolError && e.code !== 'UNAVAILABLE' && e.code !== 'TIMEOUT' && e.code !== 'RATE_LIMITED' && e.code !== 'INTERNAL') {
          if (!TOKEN_REFUSALS.has(e.code)) {
            // Not the server refusing the token (a proxy or a wrong path answering 404, 400...): the session
            // may well be good. Kept, and tried again.
            throw new ProtocolError('UNAVAILABLE', `The token renewal at ${this.#base} failed (${e.code}: ${e.message}): is the profile's URL right?`, { cause: e.code });
          }
          // The session is over (expired, revoked): forget it and ask for a sign-in. (A disabled user's is
          // kept: it works again once the user is enabled.)
          if (e.code !== 'FORBIDDEN' && this.#keeps() && (await this.#holds(spent))) await this.#o.credentials.delete(this.#account).catch(() => false);
          throw new ProtocolError('UNAUTHENTICATED', `Sign in again: ${e.message}`, { cause: e.code });
        }
        throw e;
      } finally {
        if (this.#renewals.get(this.#account) === this.#refreshing) this.#renewals.delete(this.#account);
        this.#refreshing = undefined;
      }
    })();
    this.#refreshing = renewal;
    this.#renewals.set(this.#account, renewal);
    return renewal;
  }

  /** Whether the keychain still holds `token` as this profile's session (a failure to read it counts as no). */
  async #holds(token: string): Promise<boolean> {
    return (await this.#o.credentials.get(this.#account).catch(() => undefined)) === token;
  }

  /** Whether this link keeps its session in the keychain (see StillOwned). */
  #keeps(): boolean {
    return this.#remember && !this.#loggedOut && (this.#owned === undefined || this.#owned());
  }

  async #open(wsUrl: string): Promise<Port> {
    const token = this.#attemptToken;
    try {
      const ws = await dialWebSocket(wsUrl, { token: token ?? '', headers: { 'User-Agent': this.#o.clientName } });
      return wsPort(ws);
    } catch (e) {
      if (e instanceof UpgradeRefused) {
        if (e.status === 401) {
          // The access token was refused (expired early, revoked): renew it on the next attempt; if it was
          // brand new, the session itself is gone.
          this.#access = undefined;
          if (this.#attemptRefreshed) throw new ProtocolError('UNAUTHENTICATED', e.message);
          throw new ProtocolError('UNAVAILABLE', `Token refused, renewing: ${e.message}`);
        }
        if (e.status === 403) throw new ProtocolError(e.code !== undefined && isResultCode(e.code) ? e.code : 'FORBIDDEN', e.message);
        throw new ProtocolError('UNAVAILABLE', e.message);
      }
      throw new ProtocolError('UNAVAILABLE', e instanceof Error ? e.message : String(e));
    }
  }

  #scheduleRenew(): void {
    this.#clearRenew();
    if (this.#closed) return;
    const margin = this.#o.refreshMarginMs ?? 60_000;
    const delay = Math.max(5_000, this.#accessExpiresAt - margin - this.#now());
    this.#renewTimer = setTimeout(() => {
      this.#renewTimer = undefined;
      this.#refresh().then(
        () => this.#scheduleRenew(),
        (e: unknown) => this.#o.onError?.(e, 'token renewal'), // the next reconnect tries again (or asks for a sign-in)
      );
    }, delay);
    this.#renewTimer.unref?.();
  }

  #clearRenew(): void {
    if (this.#renewTimer !== undefined) clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}

/** A Connection seen as the hub's Upstream. */
export function connectionUpstream(conn: Connection): Upstream {
  const view = (s: ConnectionStatus): UpstreamStatus => s;
  return {
    get status() {
      return view(conn.status);
    },
    onStatus: (cb) => conn.onStatus((s) => cb(view(s))),
    call: (method, params) => conn.call(method as MethodName, params as never),
    subscribe: (channel, params, h: UpstreamHandlers): UpstreamSubscription =>
      conn.subscribe(channel as ChannelName, params as ChannelParams<ChannelName>, {
        data: (d) => h.data(d),
        error: (e) => h.error?.(e),
        interrupted: () => h.interrupted?.(),
        resubscribed: () => h.resubscribed?.(),
      }),
    close: () => conn.close(),
  };
}

// ---------------------------------------------------------------- REST

async function request(
  o: FirmOptions,
  base: string,
  path: string,
  init: { method: 'GET' | 'POST'; body?: unknown; token?: string; timeoutMs?: number },
): Promise<unknown> {
  const timeoutMs = init.timeoutMs ?? o.httpTimeoutMs ?? 15_000;
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': o.clientName };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
  let res: Response;
  try {
    res = await fetch(base + path, {
      method: init.method,
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') throw new ProtocolError('TIMEOUT', `${base} did not answer within ${timeoutMs} ms`, { timeoutMs });
    throw new ProtocolError('UNAVAILABLE', `Cannot reach ${base}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return responseBody(res);
}

/** A sign-in or refresh: the answer is checked against the protocol's TokenPair schema (a trust boundary). */
async function postTokens(o: FirmOptions, base: string, path: string, body: unknown): Promise<TokenPair> {
  return readAnswer(TokenPairSchema, await request(o, base, path, { method: 'POST', body }), path);
}
