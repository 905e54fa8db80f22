/**
 * Sign-in against the exchange server's REST API, and its other REST calls (the admin routes). Every answer
 * is checked against the protocol's schemas (engine/protocol/rest.ts). Tokens live in memory only.
 */
import { z } from 'zod';
import { ProtocolError, TokenPairSchema, readAnswer, responseBody, type PublicUser, type TokenPair } from '../../../engine/protocol/index.js';

/** The signed-in user, as the server's sign-in answers it (engine/protocol/rest.ts). */
export type SignedInUser = PublicUser;

/** Sign-in against the exchange server's REST API; tokens are kept in memory only (never storage). */
export class ServerAuth {
  #pair: TokenPair | undefined;
  #expiresAt = 0;
  #refreshing: Promise<void> | undefined;
  readonly #base: string;
  readonly #apiBase: string;

  /** `base`: the sign-in routes (./api/v1/auth); the rest of the API is beside them. */
  constructor(base: string) {
    this.#base = base;
    this.#apiBase = base.replace(/\/auth$/, '');
  }

  get user(): SignedInUser | undefined {
    return this.#pair?.user;
  }
  get signedIn(): boolean {
    return this.#pair !== undefined;
  }

  /** Throws a ProtocolError (INVALID_CREDENTIALS, TWO_FACTOR_REQUIRED, INVALID_TWO_FACTOR_CODE, RATE_LIMITED...). */
  async login(username: string, password: string, code?: string): Promise<SignedInUser> {
    const body: Record<string, string> = { username, password };
    if (code !== undefined && code.trim() !== '') body.code = code.trim();
    const pair = await this.#post('/login', body, TokenPairSchema);
    this.#set(pair);
    return pair.user;
  }

  /** A current access token, refreshed when it is about to expire. */
  async token(): Promise<string> {
    if (this.#pair === undefined) throw new ProtocolError('UNAUTHENTICATED', 'Sign in first');
    if (Date.now() > this.#expiresAt - 30_000) await this.refresh();
    return this.#pair.accessToken;
  }

  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const cur = this.#pair;
        if (cur === undefined) throw new ProtocolError('UNAUTHENTICATED', 'Sign in first');
        this.#set(await this.#post('/refresh', { refreshToken: cur.refreshToken }, TokenPairSchema));
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Changes the password of the signed-in user (the session stays; other sessions are signed out). */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.#post('/password', { currentPassword, newPassword }, z.unknown(), await this.token());
    if (this.#pair !== undefined) this.#pair = { ...this.#pair, user: { ...this.#pair.user, mustChangePassword: false } };
  }

  /**
   * An authenticated call to the server's REST API (`path` under /api/v1, e.g. "/admin/users"); answers
   * its JSON, or throws a ProtocolError with the server's code and message.
   */
  async api<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    return this.#request(method, `${this.#apiBase}${path}`, schema, body, await this.token());
  }

  async logout(): Promise<void> {
    const p = this.#pair;
    this.#pair = undefined;
    if (p === undefined) return;
    try {
      await fetch(`${this.#base}/logout`, { method: 'POST', headers: { Authorization: `Bearer ${p.accessToken}` } });
    } catch {
      // signed out locally either way
    }
  }

  #set(pair: TokenPair): void {
    this.#pair = pair;
    this.#expiresAt = Date.now() + pair.expiresIn * 1000;
  }

  #post<S extends z.ZodType>(path: string, body: unknown, schema: S, token?: string): Promise<z.output<S>> {
    return this.#request('POST', `${this.#base}${path}`, schema, body, token);
  }

  /** One REST call; its answer is checked against `schema` (the server is a trust boundary too). */
  async #request<S extends z.ZodType>(method: 'GET' | 'POST', url: string, schema: S, body: unknown, token?: string): Promise<z.output<S>> {
    let r: Response;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    try {
      r = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ProtocolError('UNAVAILABLE', 'The server is not reachable');
    }
    return readAnswer(schema, await responseBody(r), url.replace(/^\.\//, '/'));
  }
}
