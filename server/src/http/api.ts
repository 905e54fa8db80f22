/**
 * The HTTP side: REST under /api/v1 with the same schemas and error shape as the WebSocket protocol,
 * /health, /metrics and the renderer's web build. node:http with a tiny router: the server has a dozen
 * routes, one generic RPC route derived from the method table, and an `upgrade` handler it must own
 * (authentication before the WebSocket is accepted), so a framework would add a dependency without
 * removing code.
 *
 * Routes
 *   POST /api/v1/rpc/{method}            any method of the table, params as the JSON body
 *   GET  /api/v1/rpc/{method}?k=v        read-only methods (access public/viewer), params from the query
 *   GET  /api/v1/methods                 the table: names, access, docs and JSON Schemas
 *   POST /api/v1/auth/{setup,register,login,refresh,logout,password}
 *   GET  /api/v1/auth/me, GET /api/v1/auth/sessions, DELETE /api/v1/auth/sessions/{id}
 *   POST /api/v1/auth/2fa/{enroll,verify,disable}
 *   GET  /api/v1/admin/users, POST /api/v1/admin/users, POST /api/v1/admin/users/{id}/{disable,enable,role,password,2fa/reset}
 *   GET  /api/v1/admin/audit?userId=&action=&before=&limit=
 *   GET  /api/v1/admin/backups, POST /api/v1/admin/backups[?wait=false] (makes one now and answers once it
 *        is made, or at once with its status; server/src/backup.ts),
 *   GET  /api/v1/admin/backups/status (the one being made, the last failure)
 *   GET  /health, GET /metrics
 * Mutating RPC calls accept an `Idempotency-Key` header (same key and body: the original response;
 * same key, different body: 409 IDEMPOTENCY_CONFLICT; a first request cut short by a restart of the server,
 * or answered OUTCOME_UNKNOWN: 409 IDEMPOTENCY_UNKNOWN), kept 24 h per user.
 */
import { randomUUID, createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  ProtocolError,
  auditAddress,
  defaultCheckAccess,
  isMethodName,
  issuesToDetails,
  methodDef,
  METHODS,
  CHANNELS,
  toErrorShape,
  type ErrorShape,
  type MethodName,
  type SessionContext,
  type Backup,
  type BackupStatus,
} from '../../../engine/protocol/index.js';
import type { AuthService, ClientInfo, Principal } from '../auth/service.js';
import { clientAddressReader } from './client-address.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Store, Role } from '../store.js';
import { IDEM_CUT_SHORT, ROLES } from '../store.js';
import { httpStatus } from './errors.js';
import type { StaticFiles } from './static.js';

export interface ApiDeps {
  config: Config;
  log: Logger;
  auth: AuthService;
  store: Store;
  /**
   * Online backups: make one now (audited as the admin's) and answer once it is made, or begin one and
   * answer with the status at once (start: throws CONFLICT or UNAVAILABLE as make rejects); list those in
   * the backup folder.
   */
  backups: { make(p: Principal, client: ClientInfo): Promise<Backup>; start(p: Principal, client: ClientInfo): BackupStatus; list(): Backup[]; status(): BackupStatus };
  /** Runs a table method for a principal (or a guest). */
  callMethod(name: MethodName, params: unknown, p: Principal | undefined, ip: string): Promise<unknown>;
  health(): Record<string, unknown>;
  metricsText(): string;
  isAllowedOrigin(origin: string, host: string | undefined): boolean;
  staticFiles: StaticFiles;
  metrics: { request(route: string, status: number, seconds: number): void };
  /** Counted while a request runs (graceful shutdown waits for zero). */
  inflight: { n: number };
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  reqId: string;
  client: ClientInfo;
  url: URL;
  principal: Principal | undefined;
  /** The bearer token, kept to authenticate again once a body has arrived (the session may be gone). */
  token?: string;
  route: string;
  /** Set when the principal is known, for the log line. */
  userId?: number;
}

class HttpReply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

const MAX_IDEM_KEY = 255;

export function createApi(d: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const cfg = d.config;
  const addressOf = clientAddressReader(cfg);
  const buckets = new Map<string, { tokens: number; at: number }>();

  const take = (key: string): number => {
    const now = performance.now();
    let b = buckets.get(key);
    if (b === undefined) {
      if (buckets.size > 100_000) buckets.clear();
      buckets.set(key, (b = { tokens: cfg.http.burst, at: now }));
    }
    b.tokens = Math.min(cfg.http.burst, b.tokens + ((now - b.at) / 1000) * cfg.http.rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / cfg.http.rate);
  };

  /**
   * Reads a JSON body, then authenticates the request again: a slow body may arrive after its session was
   * revoked, its user disabled or demoted, and the request must be judged as of now, not as of its headers.
   */
  const readBody = async (c: Ctx): Promise<unknown> => {
    const body = await readRaw(c.req);
    if (c.token !== undefined) c.principal = d.auth.authenticate(c.token);
    return body;
  };
  const readRaw = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > cfg.http.maxBodyBytes) {
          failed = true;
          reject(new ProtocolError('BAD_REQUEST', `The body is larger than ${cfg.http.maxBodyBytes} bytes`, { limit: cfg.http.maxBodyBytes }));
          req.resume();
          return;
        }
        chunks.push(c);
      });
      req.on('error', (e) => {
        if (!failed) reject(e);
      });
      req.on('end', () => {
        if (failed) return;
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve({});
        const ct = req.headers['content-type'] ?? '';
        if (!/^application\/json\b/i.test(ct)) return reject(new ProtocolError('BAD_REQUEST', 'Send the body as application/json'));
        try {
          // a body of null is no parameters, as `params: null` is over WebSocket
          resolve(JSON.parse(text) ?? {});
        } catch {
          reject(new ProtocolError('BAD_REQUEST', 'The body is not valid JSON'));
        }
      });
    });

  const requireUser = (c: Ctx, allowPasswordChange = false): Principal => {
    if (c.principal === undefined) throw new ProtocolError('UNAUTHENTICATED', 'Sign in first (Authorization: Bearer <access token>)');
    if (c.principal.mustChangePassword && !allowPasswordChange)
      throw new ProtocolError('FORBIDDEN', 'Change your password first (POST /api/v1/auth/password)', { reason: 'password_change_required' });
    return c.principal;
  };
  const requireAdmin = (c: Ctx): Principal => {
    const p = requireUser(c);
    if (p.role !== 'admin') throw new ProtocolError('FORBIDDEN', 'Needs admin access', { required: 'admin' });
    return p;
  };
  const parse = <S extends z.ZodType>(schema: S, v: unknown, what: string): z.output<S> => {
    const r = schema.safeParse(v);
    if (!r.success) throw new ProtocolError('BAD_REQUEST', `Invalid ${what}`, issuesToDetails(r.error.issues));
    return r.data;
  };

  // ---------------------------------------------------------------- auth schemas

  const Username = z.string().min(1).max(64);
  const Password = z.string().min(1).max(4096);
  const S = {
    setup: z.strictObject({ setupToken: z.string().min(1).max(200), username: Username, password: Password }),
    register: z.strictObject({ username: Username, password: Password, role: z.enum(ROLES).optional() }),
    login: z.strictObject({ username: Username, password: Password, code: z.string().max(32).optional() }),
    refresh: z.strictObject({ refreshToken: z.string().min(1).max(512) }),
    password: z.strictObject({ currentPassword: Password, newPassword: Password }),
    enroll: z.strictObject({ password: Password }),
    verify: z.strictObject({ code: z.string().min(1).max(32) }),
    disable2fa: z.strictObject({ password: Password, code: z.string().min(1).max(32) }),
    role: z.strictObject({ role: z.enum(ROLES) }),
    resetPassword: z.strictObject({ password: Password }),
    backup: z.strictObject({ wait: z.enum(['true', 'false']).default('true') }),
    audit: z.strictObject({
      userId: z.coerce.number().int().nonnegative().optional(),
      action: z.string().max(64).optional(),
      /** An address as entries hold it (auditAddress; '' for none). */
      ip: z
        .string()
        .transform((v, ctx) => auditAddress(v) ?? (ctx.addIssue({ code: 'custom', message: 'an IPv4 or IPv6 address' }), z.NEVER))
        .optional(),
      before: z.coerce.number().int().positive().optional(),
      until: z.coerce.number().int().nonnegative().max(8_640_000_000_000_000).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  };

  // ---------------------------------------------------------------- routes

  /** `run` gets the path's parameters ({id}, {method}) percent-decoded. */
  type Route = { method: string; pattern: RegExp; name: string; run: (c: Ctx, params: string[]) => Promise<HttpReply | unknown> };
  const routes: Route[] = [];
  const route = (method: string, path: string, run: Route['run']): void => {
    const pattern = new RegExp('^' + path.replace(/\{[a-z]+\}/gi, '([^/]+)') + '$');
    routes.push({ method, pattern, name: `${method} ${path}`, run });
  };

  // 503 unless 'ok', with the same body, so that a supervisor or load balancer acts on the status code alone
  route('GET', '/health', async () => {
    const h = d.health();
    return h.status === 'ok' ? h : new HttpReply(503, h);
  });
  // The web UI reads this first: which kind of backend served it and where its WebSocket is.
  route('GET', '/config.json', async () => ({ kind: 'server', wsPath: '/ws', name: cfg.serverName }));
  const metricsKey = cfg.metricsToken === undefined ? undefined : createHash('sha256').update(cfg.metricsToken).digest();
  route('GET', '/metrics', async (c) => {
    if (metricsKey !== undefined) {
      // Its own token, not a user's session: compared in constant time, over digests of equal length.
      const token = bearer(c.req.headers.authorization ?? '');
      if (token === undefined || !timingSafeEqual(createHash('sha256').update(token).digest(), metricsKey))
        throw new ProtocolError('UNAUTHENTICATED', 'The metrics need the metrics token (Authorization: Bearer <metrics token>)');
    }
    return new HttpReply(200, d.metricsText(), { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  route('POST', '/api/v1/auth/setup', async (c) => {
    const b = parse(S.setup, await readBody(c), 'setup request');
    return new HttpReply(201, await d.auth.setup(b, c.client));
  });
  route('POST', '/api/v1/auth/register', async (c) => {
    const b = parse(S.register, await readBody(c), 'registration');
    const actor = c.principal !== undefined ? requireUser(c) : undefined;
    const open = cfg.registration === 'open' ? (cfg.openRole as Role) : undefined;
    return new HttpReply(201, await d.auth.register(b, actor, c.client, open));
  });
  route('POST', '/api/v1/auth/login', async (c) => {
    const b = parse(S.login, await readBody(c), 'sign-in');
    return d.auth.login(b, c.client);
  });
  route('POST', '/api/v1/auth/refresh', async (c) => {
    const b = parse(S.refresh, await readBody(c), 'refresh request');
    return d.auth.refresh(b.refreshToken, c.client);
  });
  route('POST', '/api/v1/auth/logout', async (c) => {
    d.auth.logout(requireUser(c, true), c.client);
    return new HttpReply(204, undefined);
  });
  route('GET', '/api/v1/auth/me', async (c) => d.auth.me(requireUser(c, true)));
  route('POST', '/api/v1/auth/password', async (c) => {
    const b = parse(S.password, await readBody(c), 'password change');
    await d.auth.changePassword(requireUser(c, true), b.currentPassword, b.newPassword, c.client);
    return new HttpReply(204, undefined);
  });
  route('GET', '/api/v1/auth/sessions', async (c) => d.auth.sessions(requireUser(c, true)));
  route('DELETE', '/api/v1/auth/sessions/{id}', async (c, [id]) => {
    d.auth.revokeSession(requireUser(c, true), id!, c.client);
    return new HttpReply(204, undefined);
  });
  route('POST', '/api/v1/auth/2fa/enroll', async (c) => {
    const b = parse(S.enroll, await readBody(c), '2FA enrolment');
    return d.auth.enrollTotp(requireUser(c), b.password, c.client);
  });
  route('POST', '/api/v1/auth/2fa/verify', async (c) => {
    const b = parse(S.verify, await readBody(c), '2FA verification');
    return d.auth.verifyTotp(requireUser(c), b.code, c.client);
  });
  route('POST', '/api/v1/auth/2fa/disable', async (c) => {
    const b = parse(S.disable2fa, await readBody(c), '2FA disable');
    await d.auth.disableTotp(requireUser(c), b.password, b.code, c.client);
    return new HttpReply(204, undefined);
  });

  route('GET', '/api/v1/admin/users', async (c) => {
    requireAdmin(c);
    return d.store.listUsers().map((u) => ({
      id: u.id,
      username: u.username,
      role: u.role,
      accountId: u.accountId,
      disabled: u.disabled === 1,
      totpEnabled: u.totpEnabled === 1,
      mustChangePassword: u.mustChangePassword === 1,
      createdAt: u.createdAt,
    }));
  });
  route('POST', '/api/v1/admin/users', async (c) => {
    requireAdmin(c);
    const b = parse(S.register, await readBody(c), 'new user');
    return new HttpReply(201, await d.auth.register(b, requireAdmin(c), c.client, undefined));
  });
  const userId = (s: string): number => {
    const n = Number(s);
    // digits only: Number() also reads "1e3", "0x10" and " 7 "
    if (!/^[1-9][0-9]{0,15}$/.test(s) || !Number.isSafeInteger(n)) throw new ProtocolError('BAD_REQUEST', 'A user id is a positive integer');
    return n;
  };
  route('POST', '/api/v1/admin/users/{id}/disable', async (c, [id]) => d.auth.setDisabled(requireAdmin(c), userId(id!), true, c.client));
  route('POST', '/api/v1/admin/users/{id}/enable', async (c, [id]) => d.auth.setDisabled(requireAdmin(c), userId(id!), false, c.client));
  route('POST', '/api/v1/admin/users/{id}/role', async (c, [id]) => {
    requireAdmin(c);
    const b = parse(S.role, await readBody(c), 'role change');
    return d.auth.setRole(requireAdmin(c), userId(id!), b.role, c.client);
  });
  route('POST', '/api/v1/admin/users/{id}/password', async (c, [id]) => {
    requireAdmin(c);
    const b = parse(S.resetPassword, await readBody(c), 'password reset');
    return d.auth.resetPassword(requireAdmin(c), userId(id!), b.password, c.client);
  });
  route('POST', '/api/v1/admin/users/{id}/2fa/reset', async (c, [id]) => d.auth.resetTwoFactor(requireAdmin(c), userId(id!), c.client));
  route('GET', '/api/v1/admin/audit', async (c) => {
    requireAdmin(c);
    const q = parse(S.audit, Object.fromEntries(c.url.searchParams), 'audit query');
    const f: Parameters<Store['auditList']>[0] = { limit: q.limit };
    if (q.userId !== undefined) f.userId = q.userId;
    if (q.action !== undefined && q.action.trim() !== '') f.action = q.action.trim(); // `?action=` is no filter
    if (q.ip !== undefined && q.ip !== '') f.ip = q.ip; // `?ip=` is no filter
    if (q.before !== undefined) f.before = q.before;
    if (q.until !== undefined) f.until = q.until;
    return d.store.auditList(f);
  });

  route('GET', '/api/v1/admin/backups', async (c) => {
    requireAdmin(c);
    return d.backups.list();
  });
  // `?wait=false`: 202 with the status as the backup begins (a backup of a large venue takes minutes, longer
  // than a proxy in front of the server may hold a request); the status and the list then tell the rest
  route('POST', '/api/v1/admin/backups', async (c) => {
    const p = requireAdmin(c);
    const q = parse(S.backup, Object.fromEntries(c.url.searchParams), 'backup request');
    if (q.wait === 'false') return new HttpReply(202, d.backups.start(p, c.client), { location: '/api/v1/admin/backups/status' });
    return new HttpReply(201, await d.backups.make(p, c.client));
  });
  route('GET', '/api/v1/admin/backups/status', async (c) => {
    requireAdmin(c);
    return d.backups.status();
  });

  route('GET', '/api/v1/methods', async () => {
    const schema = (s: z.ZodType): unknown => {
      try {
        return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
      } catch {
        return {};
      }
    };
    return {
      methods: Object.fromEntries(
        Object.entries(METHODS).map(([n, m]) => [n, { access: m.access, readOnly: m.readOnly, doc: m.doc, params: schema(m.params) }]),
      ),
      channels: Object.fromEntries(
        Object.entries(CHANNELS).map(([n, ch]) => [n, { access: ch.access, doc: ch.doc, params: schema(ch.params) }]),
      ),
    };
  });

  const rpc = async (c: Ctx, name: string, params: unknown): Promise<unknown> => {
    if (!isMethodName(name)) throw new ProtocolError('UNKNOWN_METHOD', `Unknown method: ${name.slice(0, 64)}`);
    const def = methodDef(name);
    if (c.principal?.mustChangePassword === true) requireUser(c);
    const ctx = ctxOf(c.principal);
    if (!defaultCheckAccess(def.access, ctx)) {
      throw c.principal === undefined
        ? new ProtocolError('UNAUTHENTICATED', 'Sign in first', { required: def.access })
        : new ProtocolError('FORBIDDEN', `Needs ${def.access} access`, { required: def.access });
    }
    const r = def.params.safeParse(params);
    if (!r.success) throw new ProtocolError('BAD_REQUEST', `Invalid parameters for ${name}`, { method: name, ...issuesToDetails(r.error.issues) });
    return d.callMethod(name, r.data, c.principal, c.client.ip);
  };

  route('GET', '/api/v1/rpc/{method}', async (c, [name]) => {
    if (isMethodName(name) && !methodDef(name).readOnly) throw new ProtocolError('BAD_REQUEST', `${name} changes state: use POST`);
    return rpc(c, name, queryParams(c.url.searchParams, name));
  });

  route('POST', '/api/v1/rpc/{method}', async (c, [name]) => {
    const body = await readBody(c);
    const key = c.req.headers['idempotency-key'];
    if (key === undefined) return rpc(c, name, body);
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEM_KEY || !/^[\x21-\x7e]+$/.test(key))
      throw new ProtocolError('BAD_REQUEST', `Idempotency-Key must be 1-${MAX_IDEM_KEY} printable ASCII characters`);
    const p = requireUser(c);
    const bodyHash = createHash('sha256').update(name + '\n' + canonicalJson(body)).digest('hex');
    const now = Date.now();
    d.store.idemExpire(p.userId, key, now - 86_400_000);
    if (!d.store.idemClaim(p.userId, key, bodyHash, now)) {
      const prev = d.store.idem(p.userId, key)!;
      if (prev.bodyHash !== bodyHash)
        throw new ProtocolError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was used with a different request', { key });
      if (prev.status === IDEM_CUT_SHORT)
        throw new ProtocolError('IDEMPOTENCY_UNKNOWN', 'The first request with this key was cut short by a restart of the server (or by a failure of the venue while it made it durable) and its outcome is unknown: check your orders before you send it again, with a new key', { key });
      if (prev.status === null) return new HttpReply(409, toShape(new ProtocolError('CONFLICT', 'The first request with this key is still running', { key })), { 'Retry-After': '1' });
      return new HttpReply(prev.status, JSON.parse(prev.response!), { 'Idempotent-Replayed': 'true' });
    }
    // whether the request failed because its user or session no longer holds after the wait below: the key
    // is then let go, not answered, so the user may send it again from a session that does
    let stale = false;
    try {
      // The claim is on the disk before the request runs: an order that reached the journal always has its
      // key after a power cut, so a retry is answered IDEMPOTENCY_UNKNOWN rather than placing it again.
      await d.store.durable();
      // The user as of now: a session revoked, a user disabled or made a viewer during the sync counts (a
      // disable's sweep of the user's orders has run by then, so an order placed after it would stay).
      stale = true;
      c.principal = d.auth.authenticate(c.token!);
      stale = false;
      const result = await rpc(c, name, body);
      d.store.idemFinish(p.userId, key, 200, JSON.stringify(result ?? null));
      return result;
    } catch (e) {
      const shape = toShape(e);
      const status = httpStatus(shape.code);
      // Outcomes are replayed; failures to reach a decision (5xx, throttling) may be retried with the key. A
      // request whose command was journaled but not made durable (OUTCOME_UNKNOWN) may have been carried out:
      // its key is kept as cut short, so a retry with it is refused (IDEMPOTENCY_UNKNOWN), never placed again.
      if (shape.code === 'OUTCOME_UNKNOWN') d.store.idemFinish(p.userId, key, IDEM_CUT_SHORT, JSON.stringify(shape));
      else if (stale || status >= 500 || status === 429) d.store.idemRelease(p.userId, key);
      else d.store.idemFinish(p.userId, key, status, JSON.stringify(shape));
      throw e;
    }
  });

  // ---------------------------------------------------------------- dispatch

  /** The methods some route takes on this path (HEAD wherever GET), for a 405's Allow header. */
  const allowedMethods = (path: string): string[] => {
    const ms = new Set(routes.filter((x) => x.pattern.test(path)).map((x) => x.method));
    if (ms.has('GET')) ms.add('HEAD');
    return ['GET', 'HEAD', 'POST', 'DELETE'].filter((m) => ms.has(m));
  };

  const send = (c: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const res = c.res;
    if (res.headersSent) return;
    const base: Record<string, string> = {
      'X-Request-Id': c.reqId,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      ...corsHeaders(c),
      ...headers,
    };
    if (status === 204 || body === undefined) {
      res.writeHead(status, base);
      res.end();
      return;
    }
    // a HEAD request gets the headers a GET would, without the body
    const head = c.req.method === 'HEAD';
    if (typeof body === 'string' && headers['Content-Type'] !== undefined) {
      res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body)), ...base });
      res.end(head ? undefined : body);
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...base });
    res.end(head ? undefined : text);
  };

  const corsHeaders = (c: Ctx): Record<string, string> => {
    const origin = c.req.headers.origin;
    if (origin === undefined || !d.isAllowedOrigin(origin, c.req.headers.host)) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      Vary: 'Origin',
      'Access-Control-Expose-Headers': 'Retry-After, X-Request-Id, Idempotent-Replayed',
    };
  };

  return (req, res) => {
    const t0 = performance.now();
    const rid = req.headers['x-request-id'];
    const reqId = typeof rid === 'string' && /^[\w.-]{1,64}$/.test(rid) ? rid : randomUUID();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      const text = JSON.stringify(toShape(new ProtocolError('BAD_REQUEST', 'The request target is not a valid URL')));
      res.on('error', () => undefined);
      res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), 'X-Request-Id': reqId, 'X-Content-Type-Options': 'nosniff' });
      res.end(text);
      return;
    }
    const c: Ctx = {
      req,
      res,
      reqId,
      url,
      client: { ip: addressOf(req), userAgent: String(req.headers['user-agent'] ?? '') },
      principal: undefined,
      route: 'other',
    };
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    d.inflight.n++;
    res.on('close', () => {
      d.inflight.n--;
      const sec = (performance.now() - t0) / 1000;
      d.metrics.request(c.route, res.statusCode, sec);
      const fields: Record<string, unknown> = { reqId, method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(sec * 10000) / 10, ip: c.client.ip };
      if (c.userId !== undefined) fields.userId = c.userId;
      if (url.pathname !== '/health' && url.pathname !== '/metrics') d.log.info('request', fields);
    });

    const path = url.pathname;
    if (req.method === 'OPTIONS') {
      const origin = req.headers.origin;
      if (origin !== undefined && d.isAllowedOrigin(origin, req.headers.host)) {
        res.writeHead(204, {
          ...corsHeaders(c),
          'Access-Control-Allow-Methods': 'GET, POST, DELETE',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Idempotency-Key, X-Request-Id',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
      // a preflight from no Origin or a foreign one: refused in the one error shape
      const why = origin === undefined ? 'A CORS preflight needs an Origin' : 'Origin not allowed';
      send(c, 403, toShape(new ProtocolError('FORBIDDEN', why, origin === undefined ? {} : { origin: origin.slice(0, 200) })));
      return;
    }

    // HEAD is routed as GET and answered without the body (RFC 9110 §9.3.2)
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const r = routes.find((x) => x.method === method && x.pattern.test(path));
    if (r === undefined) {
      // the web build's client-side routes never cover the API's paths: those get a typed 404 or 405
      if (!API_PATHS.test(path) && d.staticFiles.serve(req, res, path)) {
        c.route = 'static';
        return;
      }
      const allow = allowedMethods(path);
      if (allow.length > 0) {
        send(c, 405, toShape(new ProtocolError('METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow.join(' or ')}`, { allow })), { Allow: allow.join(', ') });
        return;
      }
      const missing = WS_PATHS.has(path) ? `${path} is the WebSocket endpoint: connect with a WebSocket upgrade` : `No route ${path}`;
      send(c, 404, toShape(new ProtocolError('NOT_FOUND', missing)));
      return;
    }
    c.route = r.name;
    // An audit entry this request made that the journal cannot give again (a sign-in or its failure, a
    // change of a user, a backup) is committed before the answer, so an answer seen is an entry kept.
    // (Others' entries made meanwhile are committed with it: a commit is all the wait costs.)
    const made = d.store.unjournaledEntries;
    // And what it changed in the users database (a session, a user, 2FA, an Idempotency-Key's answer) is on the
    // disk before it is answered, so a power cut cannot bring back a revoked session or a disabled user.
    // (GET requests write nothing there. The count is the connection's: a write of another request meanwhile
    // makes this one wait for the fsync too, never the other way round.)
    const writes = method !== 'GET';
    const changes = writes ? d.store.changes : 0;
    const settled = async (): Promise<void> => {
      const entries = d.store.unjournaledEntries !== made;
      if (entries) await d.store.auditSettled().catch(() => undefined);
      if (entries || (writes && d.store.changes !== changes)) await d.store.durable();
    };
    void (async () => {
      try {
        const auth = req.headers.authorization;
        // /metrics checks a token of its own (not a session's); signing in, refreshing and the first admin's
        // setup act on no session, so an old access token a client still sends (expired, revoked) is not read
        if (auth !== undefined && r.name !== 'GET /metrics' && !SESSIONLESS.has(r.name)) {
          c.token = bearer(auth);
          if (c.token === undefined) throw new ProtocolError('UNAUTHENTICATED', 'Use Authorization: Bearer <access token>');
          c.principal = d.auth.authenticate(c.token);
          c.userId = c.principal.userId;
        }
        if (r.name !== 'GET /health' && r.name !== 'GET /metrics') {
          const wait = take(c.principal !== undefined ? `u${c.principal.userId}` : `ip${c.client.ip}`);
          if (wait > 0) throw new ProtocolError('RATE_LIMITED', `Too many requests; retry in ${wait} s`, { retryAfter: wait });
        }
        const out = await r.run(c, pathParams(r.pattern.exec(path)!));
        await settled();
        if (out instanceof HttpReply) send(c, out.status, out.body, out.headers);
        else send(c, 200, out ?? null);
      } catch (e) {
        if (!req.complete && req.socket.destroyed) {
          // The client went away before its request was whole (reset mid-body): nobody to answer.
          d.log.debug('request aborted by the client', { reqId, route: r.name, err: (e as Error).message });
          return;
        }
        const shape = toShape(e);
        if (shape.code === 'INTERNAL') d.log.error('request failed', { reqId, route: r.name, err: e });
        // (a failed fsync was the store's to report; the request's own error is answered)
        await settled().catch(() => undefined);
        const headers: Record<string, string> = {};
        const ra = shape.details?.retryAfter;
        if (shape.code === 'RATE_LIMITED') headers['Retry-After'] = String(typeof ra === 'number' ? ra : 1);
        if (shape.code === 'UNAUTHENTICATED' || shape.code === 'SESSION_REVOKED') headers['WWW-Authenticate'] = 'Bearer';
        send(c, httpStatus(shape.code), shape, headers);
      }
    })();
  };
}

/**
 * Paths of the API and of the server itself (/api and everything under it, /health, /metrics, /config.json,
 * /ws): never answered with the web build's index.html, even where no route matches.
 */
const API_PATHS = /^\/(?:api(?:\/.*)?|health\/?|metrics\/?|config\.json\/?|ws\/?)$/;
/** The WebSocket endpoints (gateway.ts), reached over HTTP without an upgrade. */
const WS_PATHS: ReadonlySet<string> = new Set(['/ws', '/ws/', '/api/v1/ws']);

/**
 * Routes that use no session, whose Authorization header is not read. (Registration reads it: an admin's
 * token makes it the admin creating a user, and an expired one must not make it a self-registration.)
 */
const SESSIONLESS: ReadonlySet<string> = new Set(['POST /api/v1/auth/login', 'POST /api/v1/auth/refresh', 'POST /api/v1/auth/setup']);

/** A matched route's path parameters, percent-decoded; malformed encoding is the client's error. */
function pathParams(m: RegExpExecArray): string[] {
  return m.slice(1).map((raw) => {
    try {
      return decodeURIComponent(raw);
    } catch {
      throw new ProtocolError('BAD_REQUEST', 'The path is not valid percent-encoded UTF-8', { segment: raw.slice(0, 64) });
    }
  });
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
function bearer(header: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header.trim())?.[1];
}

function toShape(e: unknown): ErrorShape {
  return toErrorShape(e);
}

function ctxOf(p: Principal | undefined): SessionContext {
  return {
    session: p === undefined ? {} : { userId: String(p.userId), accountId: p.accountId, role: p.role },
    client: 'rest',
    closed: false,
  };
}

/** Query parameters as method params: strings first; values that need it are read as JSON (numbers, arrays). */
export function queryParams(q: URLSearchParams, name: string): unknown {
  // own properties whatever the key (a key "__proto__" assigned would set the prototype instead)
  const raw: Record<string, string | string[]> = Object.fromEntries(
    [...new Set(q.keys())].map((k) => {
      const all = q.getAll(k);
      return [k, all.length > 1 ? all : all[0]!];
    }),
  );
  const schema = isMethodName(name) ? methodDef(name).params : undefined;
  if (!(schema instanceof z.ZodObject)) return raw;
  // Each field on its own: the first of its readings that the field's schema accepts, so a symbol "0"
  // stays a string while `limit=5` becomes a number; none accepted, the typed reading (whose error is
  // the one to show).
  const shape = schema.shape as Record<string, z.ZodType>;
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => {
      const field = Object.hasOwn(shape, k) ? shape[k] : undefined;
      const list = Array.isArray(v) ? v : [v];
      const typed = list.map(queryValue);
      const readings = Array.isArray(v) ? [v, typed] : [v, typed[0], [v], typed];
      return [k, field === undefined ? readings[1] : (readings.find((r) => field.safeParse(r).success) ?? readings[1])];
    }),
  );
}

/**
 * A query value as JSON when it reads as a number (in any of JSON's forms, exponents included, as over
 * WebSocket), boolean, array or object; else the string.
 */
function queryValue(s: string): unknown {
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) || s === 'true' || s === 'false' || s.startsWith('[') || s.startsWith('{')) {
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  }
  return s;
}

/** How deep a request body may nest (no method's parameters come near it). */
export const MAX_BODY_DEPTH = 32;

/** JSON with object keys sorted (for request hashes); a body nested deeper than MAX_BODY_DEPTH is refused. */
export function canonicalJson(v: unknown, depth = 0): string {
  if (depth > MAX_BODY_DEPTH) throw new ProtocolError('BAD_REQUEST', `The body nests deeper than ${MAX_BODY_DEPTH} levels`, { limit: MAX_BODY_DEPTH });
  if (Array.isArray(v)) return '[' + v.map((x) => canonicalJson(x, depth + 1)).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson((v as Record<string, unknown>)[k], depth + 1)).join(',') + '}';
  }
  return JSON.stringify(v) ?? 'null';
}

export type { Role };
