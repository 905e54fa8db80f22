/**
 * The hub: every window (an Electron BrowserWindow, or a browser tab of the headless host) gets a Port to
 * it, and the hub serves each Port as a protocol session (`serveSession`):
 *
 *   window ──Port──► session ─┬─ hub.*            answered here (profiles, login, keychain, links, status)
 *                             └─ exchange methods  forwarded to the ACTIVE upstream (local venue | firm server)
 *                                exchange channels fanned out: one upstream stream per distinct subscription
 *
 * Switching the active connection (hub.connect, hub.login, hub.logout) ends every window's exchange
 * streams with RESYNC_REQUIRED (their clients re-subscribe onto the new upstream) and `hub.status` tells
 * every window. Messages to a window wait until it sent its `hello` (readyGatedPort). Secrets go into the
 * CredentialStore and never come back out.
 */
import {
  CHANNEL_NAMES,
  LOCAL_PROFILE_ID,
  METHOD_NAMES,
  ProtocolError,
  ServerUrlSchema,
  isHubChannel,
  isHubMethod,
  serveSession,
  type AnyChannelHandlers,
  type AnyMethodHandlers,
  type ChannelHandler,
  type ChannelName,
  type ErrorShape,
  type FlowControl,
  type HubChannelHandlers,
  type HubInfo,
  type HubMethodHandlers,
  type HubStatus,
  type MethodHandler,
  type MethodName,
  type PanelKind,
  type Port,
  type Profile,
  type SessionHandle,
  type SessionInfo,
} from '../../../engine/protocol/index.js';
import type { CredentialStore } from '../credentials/store.js';
import { secretAccount } from '../credentials/store.js';
import type { LinkGroups } from '../links.js';
import type { ProfileStore, StoredProfile } from '../profiles.js';
import { readyGatedPort } from './ready-port.js';
import { StreamFanout } from './streams.js';
import type { Upstream, UpstreamStatus } from './upstream.js';

/** A signed-in firm server: its reconnecting upstream and what the hub needs to sign out. */
export interface FirmSession {
  readonly upstream: Upstream;
  readonly username: string;
  /** Revokes the server session (best effort), deletes the stored refresh token, closes the upstream. */
  logout(): Promise<void>;
  /** Closes the upstream (the session stays valid; the refresh token stays stored). */
  close(): void;
  /** A REST request under /api/v1 with this session's access token (renewed as needed): the answer's JSON. */
  rest(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<unknown>;
}

export interface FirmLogin {
  username: string;
  password: string;
  totp?: string | undefined;
  remember: boolean;
}

/**
 * Whether a session may still keep its (rotated) refresh token under its profile: the profile exists, still
 * names the server the session was opened with, and is not being moved or deleted right now.
 */
export type StillOwned = () => boolean;

/** Opens firm sessions (firm.ts). */
export interface FirmConnector {
  /** A session from the refresh token in the keychain; undefined when there is none. */
  resume(profile: StoredProfile, owned?: StillOwned): Promise<FirmSession | undefined>;
  /** Signs in (REST), keeps the refresh token when `remember`. Throws the server's ProtocolError. */
  login(profile: StoredProfile, credentials: FirmLogin, owned?: StillOwned): Promise<FirmSession>;
}

export interface WindowInfo {
  windowId: string;
  panel: PanelKind;
  params?: Record<string, string | number | boolean>;
}

export interface HubOptions {
  host: 'electron' | 'headless';
  version: string;
  profiles: ProfileStore;
  credentials: CredentialStore;
  links: LinkGroups;
  /** The local venue's upstream; created on first use and kept for the hub's lifetime. */
  local(): Upstream;
  /** Firm servers; without it firm profiles stay offline. */
  firm?: FirmConnector;
  /** Desktop only: opens a pop-out window, returns its id. Without it `hub.window.open` is UNKNOWN_METHOD. */
  openWindow?(panel: PanelKind, params: Record<string, string | number | boolean>): Promise<string> | string;
  /** Desktop only: saves a text file where the user chooses (main/src/save-file.ts). Without it `hub.file.save` is UNKNOWN_METHOD. */
  saveFile?(name: string, text: string): Promise<{ saved: boolean; path?: string }>;
  now?(): number;
  /** How long an upstream stream nobody uses any more is kept for a quick re-subscribe. Default 2000 ms. */
  lingerMs?: number;
  /** How long hub.connect / hub.login wait for the connection to settle before answering. Default 10 s. */
  settleMs?: number;
  /**
   * How long a connect waits to read a firm profile's stored session (the keychain, which may be waiting for
   * an unlock prompt, or a renewal of it still on its way) before it gives up with UNAVAILABLE. The profile's
   * edits and deletes wait for its connect, so this bounds their wait too. Default 20 s.
   */
  resumeTimeoutMs?: number;
  onInternalError?(error: unknown, where: Record<string, unknown>): void;
}

interface Active {
  profile: StoredProfile;
  upstream: Upstream | undefined;
  firm: FirmSession | undefined;
  off: (() => void) | undefined;
  /** Why there is no upstream (a firm profile without a session, or it could not be resumed). */
  error: ErrorShape | undefined;
}

const LOGIN_CODES = new Set(['UNAUTHENTICATED', 'SESSION_REVOKED', 'INVALID_CREDENTIALS']);

export class Hub {
  readonly #o: HubOptions;
  readonly #fanout: StreamFanout;
  readonly #sessions = new Set<SessionHandle>();
  readonly #statusListeners = new Set<(s: HubStatus) => void>();
  #localUpstream: Upstream | undefined;
  #active: Active;
  #status: HubStatus;
  #switch = 0;
  #closed = false;
  /** Per profile: the tail of its queue (a connect to it, an edit or a delete of it: one at a time). */
  readonly #profileLocks = new Map<string, Promise<void>>();
  /** Profiles whose secrets are being forgotten (moved or deleted): no session stores a token for them. */
  readonly #forgetting = new Set<string>();
  /** The connect to a firm profile under way, shared by the windows that ask for the same one meanwhile. */
  #connecting: { profileId: string; seq: number; done: Promise<void> } | undefined;
  readonly #methods: AnyMethodHandlers;
  readonly #channels: AnyChannelHandlers;

  constructor(options: HubOptions) {
    this.#o = options;
    this.#fanout = new StreamFanout(() => this.#active.upstream, { lingerMs: options.lingerMs ?? 2000 });
    this.#active = { profile: options.profiles.get(LOCAL_PROFILE_ID)!, upstream: undefined, firm: undefined, off: undefined, error: undefined };
    this.#status = this.#computeStatus(this.#now());
    this.#methods = this.#buildMethods();
    this.#channels = this.#buildChannels();
  }

  /** Connects the profile that was active last time (local, or a firm server with a stored session). */
  async start(): Promise<HubStatus> {
    // Resolves once the profile is active; a firm server may still be connecting (windows follow hub.status).
    return this.connect(this.#o.profiles.activeId, { settle: false }).catch(() => this.connect(LOCAL_PROFILE_ID, { settle: false }));
  }

  get status(): HubStatus {
    return this.#status;
  }

  onStatus(cb: (s: HubStatus) => void): () => void {
    this.#statusListeners.add(cb);
    return () => {
      this.#statusListeners.delete(cb);
    };
  }

  /** Stream sharing, for tests and diagnostics. */
  streamStats(): ReturnType<StreamFanout['stats']> {
    return this.#fanout.stats();
  }

  get windowSessions(): number {
    return this.#sessions.size;
  }

  /**
   * Serves one window's Port. Returns its session (closing it closes the Port). `flow`: backpressure of a
   * transport with an outgoing buffer (the headless host's WebSockets).
   */
  attach(port: Port, win: WindowInfo, options: { flow?: FlowControl } = {}): SessionHandle {
    if (this.#closed) {
      port.close(1001, 'shutting down');
      throw new ProtocolError('UNAVAILABLE', 'The hub is closed');
    }
    const info: HubInfo = { windowId: win.windowId, panel: win.panel, params: win.params ?? {}, host: this.#o.host, version: this.#o.version };
    const handlers: AnyMethodHandlers = { ...this.#methods, 'hub.info': () => info };
    const handle = serveSession(readyGatedPort(port), {
      serverName: 'TradeDesk hub',
      // Who the window is: the active upstream's user (the upstream enforces access itself).
      authenticate: () => this.#sessionInfo(),
      checkAccess: () => true,
      handlers,
      channels: this.#channels,
      onInternalError: (e, where) => this.#internal(e, { ...where, windowId: win.windowId }),
      ...(options.flow ? { flow: options.flow } : {}),
    });
    this.#sessions.add(handle);
    port.onClose(() => this.#sessions.delete(handle));
    return handle;
  }

  /**
   * hub.connect: make a profile the active connection. Answers once the connection has settled (connected,
   * refused, retrying) or after settleMs; `settle: false` answers as soon as the profile is active.
   */
  async connect(profileId: string, options: { settle?: boolean } = {}): Promise<HubStatus> {
    const profile = this.#o.profiles.get(profileId);
    if (profile === undefined) throw new ProtocolError('NOT_FOUND', `No profile ${profileId}`);
    if (profile.kind === 'local') {
      const seq = ++this.#switch;
      this.#activate(profile, this.#local(), undefined, undefined);
      return options.settle === false ? this.#status : this.#settled(seq);
    }
    // Another window is connecting to this profile (and nothing else was chosen since): one resume for both.
    // Two would each present the same stored refresh token, which the server takes as a replay.
    const pending = this.#connecting;
    if (pending !== undefined && pending.profileId === profileId && pending.seq === this.#switch) {
      await pending.done;
      return options.settle === false || pending.seq !== this.#switch ? this.#status : this.#settled(pending.seq);
    }
    const seq = ++this.#switch;
    const op = { profileId, seq, done: this.#exclusive(profileId, () => this.#connectFirm(profileId, seq)) };
    this.#connecting = op;
    try {
      await op.done;
    } finally {
      if (this.#connecting === op) this.#connecting = undefined;
    }
    return options.settle === false || seq !== this.#switch ? this.#status : this.#settled(seq);
  }

  /** Activates a firm profile: its session (kept, or resumed from the keychain) or why there is none. Under the profile's lock. */
  async #connectFirm(profileId: string, seq: number): Promise<void> {
    if (seq !== this.#switch) return; // another connection was chosen while an edit of this profile finished
    const profile = this.#o.profiles.get(profileId);
    if (profile === undefined) throw new ProtocolError('NOT_FOUND', `No profile ${profileId}`);
    let firm: FirmSession | undefined;
    let error: ErrorShape | undefined;
    if (this.#active.profile.id === profile.id && this.#active.firm !== undefined) {
      firm = this.#active.firm; // already connected (or trying): keep it
      if (firm.upstream.status.state === 'closed') {
        // e.g. it gave up on a refused token: try the stored session again
        firm.close();
        firm = undefined;
      } else {
        this.#o.profiles.setActive(profile.id);
        return;
      }
    }
    const badUrl = urlProblem(profile);
    if (badUrl !== undefined) {
      error = { code: 'BAD_REQUEST', message: badUrl };
    } else if (this.#o.firm !== undefined) {
      const resumed = this.#o.firm.resume(profile, () => this.#owns(profile));
      const limitMs = this.#o.resumeTimeoutMs ?? 20_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), limitMs)));
      try {
        const got = await Promise.race([resumed, late]);
        if (got === 'late') {
          // a session it reads after all is not wanted any more: closed at once
          void resumed.then((f) => f?.close(), () => undefined);
          error = { code: 'UNAVAILABLE', message: `The stored session could not be read within ${Math.round(limitMs / 1000)} s (is the keychain locked?): connect again` };
        } else firm = got;
      } catch (e) {
        error = toShape(e);
      } finally {
        clearTimeout(timer);
      }
      if (firm !== undefined && this.#movedSince(profile)) {
        firm.close();
        firm = undefined;
        error = { code: 'CONFLICT', message: 'The profile was moved to another server while connecting: connect again' };
      }
    } else {
      error = { code: 'UNAVAILABLE', message: 'Firm servers are not available in this host' };
    }
    if (seq !== this.#switch) {
      firm?.close();
      return;
    }
    this.#activate(profile, firm?.upstream, firm, error);
  }

  /** Runs `fn` when the profile's earlier connects, edits and deletes have finished; later ones wait for it. */
  async #exclusive<T>(profileId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#profileLocks.get(profileId) ?? Promise.resolve();
    let release!: () => void;
    const tail = before.then(() => new Promise<void>((r) => (release = r)));
    this.#profileLocks.set(profileId, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.#profileLocks.get(profileId) === tail) this.#profileLocks.delete(profileId);
    }
  }

  /** Whether a session opened for `profile` may still store its tokens (see StillOwned). */
  #owns(profile: StoredProfile): boolean {
    return !this.#forgetting.has(profile.id) && !this.#movedSince(profile);
  }

  async login(profileId: string, creds: FirmLogin): Promise<HubStatus> {
    const profile = this.#o.profiles.get(profileId);
    if (profile === undefined) throw new ProtocolError('NOT_FOUND', `No profile ${profileId}`);
    if (profile.kind !== 'firm') throw new ProtocolError('BAD_REQUEST', 'Sign-in is for firm servers; the local simulation needs none');
    if (this.#o.firm === undefined) throw new ProtocolError('UNAVAILABLE', 'Firm servers are not available in this host');
    const badUrl = urlProblem(profile);
    if (badUrl !== undefined) throw new ProtocolError('BAD_REQUEST', badUrl);
    const seq = ++this.#switch;
    const firm = await this.#o.firm.login(profile, creds, () => this.#owns(profile));
    if (this.#movedSince(profile)) {
      // moved to another server while signing in: the session and the token it kept are the old server's
      firm.close();
      await this.#o.credentials.delete(secretAccount(profile.id, 'refreshToken'));
      throw new ProtocolError('CONFLICT', 'The profile was moved to another server during the sign-in: sign in again');
    }
    if (seq !== this.#switch || this.#closed) {
      firm.close();
      throw new ProtocolError('CONFLICT', 'Another connection was chosen meanwhile');
    }
    this.#o.profiles.setUsername(profile.id, creds.username);
    this.#activate(this.#o.profiles.get(profile.id)!, firm.upstream, firm, undefined);
    return this.#settled(seq);
  }

  async logout(): Promise<HubStatus> {
    const a = this.#active;
    if (a.profile.kind !== 'firm') throw new ProtocolError('BAD_REQUEST', 'Not signed in to a firm server');
    ++this.#switch;
    const firm = a.firm;
    this.#activate(a.profile, undefined, undefined, { code: 'UNAUTHENTICATED', message: 'Signed out' });
    if (firm !== undefined) {
      try {
        await firm.logout();
      } catch (e) {
        this.#internal(e, { phase: 'logout' });
      }
    } else {
      await this.#o.credentials.delete(secretAccount(a.profile.id, 'refreshToken'));
    }
    return this.#status;
  }

  /** Whether the profile's server changed (another origin) since `profile` was read. */
  #movedSince(profile: StoredProfile): boolean {
    const now = this.#o.profiles.get(profile.id);
    return now === undefined || otherServer(profile.url, now.url);
  }

  /** Closes every window session and the upstreams. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#switch++;
    for (const s of [...this.#sessions]) s.close(1001, 'shutting down');
    this.#sessions.clear();
    this.#fanout.reset('shutting down');
    this.#active.off?.();
    this.#active.firm?.close();
    this.#localUpstream?.close();
  }

  // ---------------------------------------------------------------- connection switching

  #local(): Upstream {
    this.#localUpstream ??= this.#o.local();
    return this.#localUpstream;
  }

  #activate(profile: StoredProfile, upstream: Upstream | undefined, firm: FirmSession | undefined, error: ErrorShape | undefined): void {
    const prev = this.#active;
    const changed = prev.upstream !== upstream;
    prev.off?.();
    if (prev.firm !== undefined && prev.firm !== firm) prev.firm.close();
    this.#active = { profile, upstream, firm, off: undefined, error };
    if (upstream !== undefined) this.#active.off = upstream.onStatus(() => this.#publishStatus());
    this.#o.profiles.setActive(profile.id);
    if (changed) this.#fanout.reset(`now ${profile.kind === 'local' ? 'local simulation' : profile.name}`);
    this.#publishStatus();
  }

  /** Resolves with the status once the upstream has left `connecting` (or after settleMs). */
  #settled(seq: number): Promise<HubStatus> {
    const up = this.#active.upstream;
    const busy = (s: UpstreamStatus): boolean => s.state === 'connecting' || s.state === 'idle';
    if (up === undefined || !busy(up.status)) return Promise.resolve(this.#status);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        resolve(this.#status);
      };
      const timer = setTimeout(done, this.#o.settleMs ?? 10_000);
      const off = up.onStatus((s) => {
        if (!busy(s) || seq !== this.#switch) queueMicrotask(done);
      });
    });
  }

  #sessionInfo(): SessionInfo {
    const s = this.#active.upstream?.status.welcome?.session;
    return s === undefined ? {} : { ...s };
  }

  #computeStatus(since: number): HubStatus {
    const a = this.#active;
    const base = {
      mode: a.profile.kind,
      profileId: a.profile.id,
      profileName: a.profile.name,
      since,
    } as const;
    const named = a.firm?.username !== undefined && a.firm.username !== '' ? a.firm.username : a.profile.username;
    const username = a.profile.kind === 'firm' && named !== undefined && named !== '' ? named : undefined;
    const withUser = username !== undefined ? { username } : {};
    const up = a.upstream;
    if (up === undefined) {
      const error = a.error ?? { code: 'UNAUTHENTICATED', message: 'Sign in to connect' };
      return { ...base, ...withUser, state: LOGIN_CODES.has(error.code) ? 'login_required' : 'offline', error };
    }
    const s = up.status;
    switch (s.state) {
      case 'idle':
      case 'connecting':
        return { ...base, ...withUser, state: 'connecting' };
      case 'open': {
        const w = s.welcome;
        const out: HubStatus = { ...base, ...withUser, state: 'connected' };
        if (w !== undefined) {
          out.serverName = w.server;
          if (w.session?.role !== undefined) out.role = w.session.role;
          if (w.session?.accountId !== undefined) out.accountId = w.session.accountId;
        }
        return out;
      }
      case 'reconnecting': {
        const out: HubStatus = { ...base, ...withUser, state: 'reconnecting', attempt: s.attempt };
        if (s.retryInMs !== undefined) out.retryInMs = s.retryInMs;
        if (s.error !== undefined) out.error = s.error;
        return out;
      }
      case 'closed': {
        const error = s.error ?? { code: 'UNAVAILABLE', message: 'The connection closed' };
        return { ...base, ...withUser, state: LOGIN_CODES.has(error.code) ? 'login_required' : 'offline', error };
      }
    }
  }

  #publishStatus(): void {
    const next = this.#computeStatus(this.#status.since);
    const same = JSON.stringify({ ...next, since: 0 }) === JSON.stringify({ ...this.#status, since: 0 });
    if (same) return;
    if (next.state !== this.#status.state || next.profileId !== this.#status.profileId) next.since = this.#now();
    this.#status = next;
    for (const cb of [...this.#statusListeners]) {
      try {
        cb(next);
      } catch (e) {
        this.#internal(e, { phase: 'status listener' });
      }
    }
  }

  // ---------------------------------------------------------------- handlers

  #buildMethods(): AnyMethodHandlers {
    const out: Record<string, MethodHandler<MethodName>> = {};
    for (const name of METHOD_NAMES) {
      if (isHubMethod(name)) continue;
      out[name] = (params) => this.#forward(name, params) as never;
    }
    const hub: Omit<HubMethodHandlers, 'hub.info' | 'hub.window.open' | 'hub.file.save'> & Partial<Pick<HubMethodHandlers, 'hub.window.open' | 'hub.file.save'>> = {
      'hub.profiles.list': async () => ({
        profiles: await Promise.all(this.#o.profiles.list().map((p) => this.#profileView(p))),
        activeId: this.#active.profile.id,
      }),
      'hub.profiles.save': async (p) => {
        const id = p.id;
        if (id === undefined || id === LOCAL_PROFILE_ID) return this.#profileView(this.#saveProfile(p));
        // after a connect to it under way (which may activate it: then a move is refused), before the next one
        return this.#exclusive(id, async () => {
          // A profile moved to another server keeps none of its secrets: its refresh token and API key were
          // issued by the old one, and would otherwise be sent to the new one at the next connect.
          const before = this.#o.profiles.get(id);
          const moved = before !== undefined && otherServer(before.url, p.url);
          if (moved && this.#active.profile.id === id && this.#active.profile.kind === 'firm')
            throw new ProtocolError('CONFLICT', 'Connect to another profile before moving this one to another server');
          if (!moved) return this.#profileView(this.#saveProfile(p));
          // (gone before the move is saved: a keychain that fails leaves the profile where it was)
          this.#forgetting.add(id);
          try {
            await this.#forgetSecrets(id);
            return await this.#profileView(this.#saveProfile(p));
          } finally {
            this.#forgetting.delete(id);
          }
        });
      },
      'hub.profiles.delete': async ({ id }) => {
        if (id === LOCAL_PROFILE_ID) throw new ProtocolError('BAD_REQUEST', 'The local profile cannot be deleted');
        return this.#exclusive(id, async () => {
          if (id === this.#active.profile.id) throw new ProtocolError('CONFLICT', 'Connect to another profile before deleting this one');
          if (this.#o.profiles.get(id) === undefined) throw new ProtocolError('NOT_FOUND', `No profile ${id}`);
          // its secrets first: a keychain that fails leaves the profile (and a way to delete them) in place
          this.#forgetting.add(id);
          try {
            await this.#forgetSecrets(id);
            this.#o.profiles.delete(id);
          } finally {
            this.#forgetting.delete(id);
          }
          return {};
        });
      },
      'hub.connect': ({ profileId }) => this.connect(profileId),
      'hub.login': ({ profileId, username, password, totp, remember }) => this.login(profileId, { username, password, totp, remember }),
      'hub.logout': () => this.logout(),
      'hub.credentials.set': async ({ profileId, kind, secret }) => {
        this.#requireProfile(profileId);
        await this.#o.credentials.set(secretAccount(profileId, kind), secret);
        return {};
      },
      'hub.credentials.has': async ({ profileId, kind }) => {
        this.#requireProfile(profileId);
        return { present: await this.#o.credentials.has(secretAccount(profileId, kind)) };
      },
      'hub.credentials.delete': async ({ profileId, kind }) => {
        this.#requireProfile(profileId);
        await this.#o.credentials.delete(secretAccount(profileId, kind));
        return {};
      },
      'hub.admin': async ({ method, path, body, timeoutMs }) => {
        const firm = this.#active.firm;
        if (firm === undefined) throw new ProtocolError('UNAVAILABLE', `${this.#active.profile.name} is not a firm server you are signed in to`);
        return firm.rest(method, path, body, timeoutMs);
      },
      'hub.link.set': ({ group, symbol, timeframe }) => {
        this.#o.links.set(group, { symbol, timeframe });
        return {};
      },
    };
    const open = this.#o.openWindow;
    if (open !== undefined) {
      hub['hub.window.open'] = async ({ panel, params }) => ({ windowId: await open(panel, params) });
    }
    const save = this.#o.saveFile;
    if (save !== undefined) {
      hub['hub.file.save'] = async ({ name, text }) => {
        try {
          return await save(name, text);
        } catch (e) {
          throw new ProtocolError('UNAVAILABLE', `The file could not be saved: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
    }
    return { ...out, ...hub } as AnyMethodHandlers;
  }

  #buildChannels(): AnyChannelHandlers {
    const out: Record<string, ChannelHandler<ChannelName>> = {};
    for (const name of CHANNEL_NAMES) {
      if (isHubChannel(name)) continue;
      out[name] = (params, _ctx, sink) => this.#fanout.join(name, params, sink as never);
    }
    const hub: HubChannelHandlers = {
      'hub.status': (_p, _ctx, sink) => {
        sink.push(this.#status);
        return this.onStatus((s) => sink.push(s));
      },
      'hub.links': (_p, _ctx, sink) => {
        sink.push(this.#o.links.get());
        return this.#o.links.onChange((l) => sink.push(l));
      },
    };
    return { ...out, ...hub } as AnyChannelHandlers;
  }

  #forward(method: string, params: unknown): Promise<unknown> {
    const up = this.#active.upstream;
    if (up === undefined) {
      const s = this.#status;
      return Promise.reject(
        new ProtocolError(
          s.state === 'login_required' ? 'UNAUTHENTICATED' : 'UNAVAILABLE',
          s.state === 'login_required' ? `Sign in to ${s.profileName} first` : `Not connected to ${s.profileName}`,
        ),
      );
    }
    return up.call(method, params);
  }

  /** Deletes a profile's secrets from the keychain: its refresh token and its API key. */
  async #forgetSecrets(profileId: string): Promise<void> {
    try {
      await this.#o.credentials.delete(secretAccount(profileId, 'refreshToken'));
      await this.#o.credentials.delete(secretAccount(profileId, 'apiKey'));
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      throw new ProtocolError(
        'UNAVAILABLE',
        `The keychain did not remove the profile's stored secrets (${e instanceof Error ? e.message : String(e)}): the profile is unchanged. Unlock the keychain and try again`,
      );
    }
  }

  /** Creates or updates a firm profile in the store (its errors typed). */
  #saveProfile(p: { id?: string | undefined; name: string; url: string; username?: string | undefined }): StoredProfile {
    try {
      return this.#o.profiles.save(p);
    } catch (e) {
      throw new ProtocolError(p.id === LOCAL_PROFILE_ID ? 'BAD_REQUEST' : 'NOT_FOUND', e instanceof Error ? e.message : String(e));
    }
  }

  /** A firm profile (the local simulation has no secrets). */
  #requireProfile(id: string): StoredProfile {
    const p = this.#o.profiles.get(id);
    if (p === undefined) throw new ProtocolError('NOT_FOUND', `No profile ${id}`);
    if (p.kind !== 'firm') throw new ProtocolError('BAD_REQUEST', 'The local simulation has no credentials');
    return p;
  }

  async #profileView(p: StoredProfile): Promise<Profile> {
    const c = this.#o.credentials;
    const [signedIn, hasApiKey] =
      p.kind === 'local' ? [false, false] : await Promise.all([c.has(secretAccount(p.id, 'refreshToken')), c.has(secretAccount(p.id, 'apiKey'))]);
    const out: Profile = { id: p.id, name: p.name, kind: p.kind, signedIn, hasApiKey };
    if (p.url !== undefined) out.url = p.url;
    if (p.username !== undefined) out.username = p.username;
    return out;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #internal(e: unknown, where: Record<string, unknown>): void {
    try {
      this.#o.onInternalError?.(e, where);
    } catch {
      // a failing logger must not take the hub down
    }
  }
}

function toShape(e: unknown): ErrorShape {
  if (e instanceof ProtocolError) return e.toShape();
  return { code: 'UNAVAILABLE', message: e instanceof Error ? e.message : String(e) };
}

/** Whether two server URLs are other servers (another origin: scheme, host, port), where tokens are not good. */
function otherServer(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const origin = (url: string): string => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  };
  return origin(a) !== origin(b);
}

/**
 * Why a firm profile's URL may not be connected to (one saved before the rules it must meet now, such as
 * plain http to another machine), or undefined. Edited, it is checked when saved.
 */
function urlProblem(profile: StoredProfile): string | undefined {
  const r = ServerUrlSchema.safeParse(profile.url);
  return r.success ? undefined : `${r.error.issues[0]?.message ?? 'Not a server URL'}: edit the profile (${profile.url})`;
}
