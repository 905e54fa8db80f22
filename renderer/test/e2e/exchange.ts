/**
 * An exchange server for the UI tests: real HTTP + WebSocket on 127.0.0.1, real SQLite files in a temp
 * folder, the renderer build served at /. It can be stopped and started again on the same port with the
 * same databases (the reconnect test). A market bot (a market maker quoting both sides and a taker hitting
 * them) makes quotes tick and prints trades, so the tests do not depend on a simulated market.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolClient, type InstrumentSpec } from '../../../engine/protocol/index.js';
import { buildServer, type App } from '../../../server/src/app.js';
import { ServerKey } from '../../../server/src/auth/crypto.js';
import { totp, base32Decode } from '../../../server/src/auth/totp.js';
import type { ConfigInput } from '../../../server/src/config.js';
import { connectWs, wsPort } from '../../../server/src/ws/client-port.js';
import { api, FAST_ARGON2, PASSWORD } from '../../../server/test/helpers.js';

export { PASSWORD };

export const INSTRUMENTS: InstrumentSpec[] = [
  { symbol: 'ACME', name: 'Acme Corp', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 1000 },
  { symbol: 'GLOBEX', name: 'Globex Industries', tickSize: 1, lotSize: 1, referencePrice: 5_000, bandBps: 1000 },
  { symbol: 'INITECH', name: 'Initech Software', tickSize: 5, lotSize: 10, referencePrice: 25_000, bandBps: 1000 },
  { symbol: 'UMBRL', name: 'Umbrella Health', tickSize: 1, lotSize: 1, referencePrice: 7_250, bandBps: 1000 },
];

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  user: { id: number; username: string; accountId: number | null };
}

export class TestExchange {
  app: App | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'td-ui-'));
  readonly key = ServerKey.forTests();
  port = 0;
  admin: Tokens | undefined;

  constructor(readonly rendererDir: string, readonly over: ConfigInput = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  config(): ConfigInput {
    return {
      db: join(this.dir, 'venue.db'),
      logLevel: 'silent',
      rendererDir: this.rendererDir,
      allowShort: true,
      serverName: 'Desk Test Exchange',
      ...this.over,
      auth: { argon2: FAST_ARGON2, ...(this.over.auth ?? {}) },
    };
  }

  async start(): Promise<void> {
    this.app = buildServer(this.config(), { serverKey: this.key });
    const r = await this.app.listen(this.port, '127.0.0.1');
    this.port = r.port;
  }

  /** Graceful stop (sockets closed with 1001, snapshot); the data stays for `start()` again. */
  async stop(): Promise<void> {
    const a = this.app;
    this.app = undefined;
    await a?.close();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async rpc<T = unknown>(method: string, params: unknown, token: string): Promise<T> {
    const r = await api(this.url, 'POST', `/api/v1/rpc/${method}`, { body: params, token });
    if (r.status !== 200) throw new Error(`${method}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  }

  /** First admin, the instruments, and the market bot's two accounts. */
  async setup(instruments = INSTRUMENTS): Promise<void> {
    const r = await api(this.url, 'POST', '/api/v1/auth/setup', { body: { setupToken: this.app!.setupToken, username: 'admin', password: PASSWORD } });
    if (r.status !== 201) throw new Error(`setup: ${r.status} ${JSON.stringify(r.body)}`);
    this.admin = r.body as Tokens;
    for (const spec of instruments) await this.rpc('admin.instrument.create', spec, this.admin.accessToken);
  }

  /** A trader with a password of their own and `cash` (minor units) in the account. */
  async trader(username: string, cash: number): Promise<Tokens> {
    const admin = this.admin!;
    const temp = `temporary ${username} password`;
    const c = await api(this.url, 'POST', '/api/v1/admin/users', { token: admin.accessToken, body: { username, password: temp, role: 'trader' } });
    if (c.status !== 201) throw new Error(`create user: ${c.status} ${JSON.stringify(c.body)}`);
    const l = await api(this.url, 'POST', '/api/v1/auth/login', { body: { username, password: temp } });
    const p = await api(this.url, 'POST', '/api/v1/auth/password', { token: l.body.accessToken, body: { currentPassword: temp, newPassword: PASSWORD } });
    if (p.status !== 204) throw new Error(`password: ${p.status}`);
    const tokens = l.body as Tokens;
    if (cash > 0) await this.rpc('admin.account.fund', { accountId: tokens.user.accountId, amount: cash }, admin.accessToken);
    return tokens;
  }

  /** A trader as an admin creates one: with a temporary password that must be changed at first sign-in. */
  async newUser(username: string, temporaryPassword: string, cash: number): Promise<void> {
    const admin = this.admin!;
    const c = await api(this.url, 'POST', '/api/v1/admin/users', { token: admin.accessToken, body: { username, password: temporaryPassword, role: 'trader' } });
    if (c.status !== 201) throw new Error(`create user: ${c.status} ${JSON.stringify(c.body)}`);
    if (cash > 0) await this.rpc('admin.account.fund', { accountId: c.body.accountId ?? c.body.user?.accountId, amount: cash }, admin.accessToken);
  }

  /** Turns on TOTP for a user; returns a function giving the code for a time (ms). */
  async enableTotp(t: Tokens): Promise<(atMs: number) => string> {
    const e = await api(this.url, 'POST', '/api/v1/auth/2fa/enroll', { token: t.accessToken, body: { password: PASSWORD } });
    if (e.status !== 200) throw new Error(`enroll: ${e.status} ${JSON.stringify(e.body)}`);
    const secret = base32Decode(e.body.secret as string);
    const code = (ms: number) => totp(secret, ms);
    // Verify with the previous 30-second step so the current one is still unused for the sign-in.
    const v = await api(this.url, 'POST', '/api/v1/auth/2fa/verify', { token: t.accessToken, body: { code: code(Date.now() - 30_000) } });
    if (v.status !== 200) throw new Error(`verify: ${v.status} ${JSON.stringify(v.body)}`);
    return code;
  }

  async client(token: string): Promise<ProtocolClient> {
    const ws = await connectWs(`ws://127.0.0.1:${this.port}/ws`, { token, origin: this.url });
    const c = new ProtocolClient(wsPort(ws), { timeoutMs: 5000 });
    await c.connect({ client: 'ui-test-bot' });
    return c;
  }
}

/**
 * A market maker quoting a spread around a random-walk mid on each symbol, and a taker sending small
 * market orders into it: quotes tick and trades print, a few times a second.
 */
export class MarketBot {
  #timer: ReturnType<typeof setInterval> | undefined;
  #mid = new Map<string, number>();
  #rnd: () => number;
  #busy = false;
  /** The maker's resting order ids per symbol. */
  #live = new Map<string, number[]>();
  ticks = 0;

  constructor(
    readonly maker: ProtocolClient,
    readonly taker: ProtocolClient,
    readonly instruments: InstrumentSpec[] = INSTRUMENTS,
    seed = 7,
  ) {
    let s = seed >>> 0;
    this.#rnd = () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    for (const i of instruments) this.#mid.set(i.symbol, i.referencePrice);
  }

  /** Quotes every symbol once (so the book has both sides before the first test step). */
  async quoteAll(): Promise<void> {
    for (const i of this.instruments) await this.#requote(i, false);
  }

  start(everyMs = 250): void {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      void this.#tick().finally(() => (this.#busy = false));
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#busy) await new Promise((r) => setTimeout(r, 20));
  }

  async #tick(): Promise<void> {
    this.ticks++;
    for (const i of this.instruments) {
      try {
        await this.#requote(i, true);
        if (this.#rnd() < 0.6) {
          const side = this.#rnd() < 0.5 ? 'buy' : 'sell';
          const qty = i.lotSize * (1 + Math.floor(this.#rnd() * 5)) * (i.lotSize === 1 ? 10 : 1);
          await this.taker.call('order.place', { symbol: i.symbol, side, orderType: 'market', qty, tif: 'ioc' });
        }
      } catch {
        // the server is restarting or the book moved: next tick
      }
    }
  }

  async #requote(i: InstrumentSpec, walk: boolean): Promise<void> {
    let mid = this.#mid.get(i.symbol)!;
    if (walk) {
      const step = Math.round((this.#rnd() - 0.5) * 6) * i.tickSize;
      const lo = i.referencePrice - Math.floor((i.referencePrice * i.bandBps) / 20_000);
      const hi = i.referencePrice + Math.floor((i.referencePrice * i.bandBps) / 20_000);
      mid = Math.min(hi, Math.max(lo, mid + step));
      this.#mid.set(i.symbol, mid);
    }
    const half = 3 * i.tickSize;
    const bid = mid - half - ((mid - half) % i.tickSize);
    const ask = bid + 2 * half;
    const qty = 500 * i.lotSize;
    // New quotes first, then the old ones go: the book never has an empty side (a market order always fills).
    const old = this.#live.get(i.symbol) ?? [];
    const b = await this.maker.call('order.place', { symbol: i.symbol, side: 'buy', orderType: 'limit', qty, price: bid, tif: 'day' });
    const a = await this.maker.call('order.place', { symbol: i.symbol, side: 'sell', orderType: 'limit', qty, price: ask, tif: 'day' });
    this.#live.set(i.symbol, [b.orderId, a.orderId]);
    for (const id of old) await this.maker.call('order.cancel', { orderId: id }).catch(() => undefined);
  }
}
