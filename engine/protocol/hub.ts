/**
 * The desktop hub's part of the protocol table. The hub (Electron main, or the headless host under plain
 * Node) serves every window: it forwards exchange methods and channels to the active connection (the local
 * venue or a firm server) and answers the `hub.*` methods and channels below itself. They are declared
 * here, in the same shapes as the exchange table, and spread into METHODS/CHANNELS, so the client, the hub's
 * session server and the docs derive from one declaration. A venue or a firm server does not serve them:
 * calling one there is UNKNOWN_METHOD ("not available on this server"), which is how the renderer knows
 * it talks to a server directly (the browser build served by the exchange server).
 *
 * Secrets: `hub.login` and `hub.credentials.set` carry a secret INTO main, where it goes to the OS
 * keychain. No method or channel ever returns one; `hasPassword` / `has` report presence only.
 */
import { z } from 'zod';
import { AccountIdSchema, ErrorShapeSchema, TimeframeSchema, SymbolSchema, TimestampSchema } from './schemas.js';
import type { ChannelDef, MethodDef } from './methods.js';

const method = <P extends z.ZodType, R extends z.ZodType>(def: MethodDef<P, R>): MethodDef<P, R> => def;
const channel = <P extends z.ZodType, D extends z.ZodType>(def: ChannelDef<P, D>): ChannelDef<P, D> => def;
const NoParams = z.strictObject({});
const Empty = z.strictObject({});

/** Link groups: windows in the same colour keep their symbol (and optionally timeframe) in step. */
export const LINK_COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export const LinkColorSchema = z.enum(LINK_COLORS);
export type LinkColor = z.output<typeof LinkColorSchema>;

export const ProfileIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'A profile id is 1-40 of a-z, 0-9 and "-"');
/** The built-in profile: the local venue with the simulated market. */
export const LOCAL_PROFILE_ID = 'local';

/** Whether a server URL's host is this machine (localhost, 127.x.x.x, [::1]): the only place plain http may go. */
export const isLoopbackUrl = (url: string): boolean => /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?(?:\/|$)/i.test(url);

/**
 * A firm server's base URL: http(s) only, no credentials or fragment in it; plain http only to this machine
 * (a sign-in sends the password and the session's tokens, which must not cross a network in clear).
 */
export const ServerUrlSchema = z
  .string()
  .max(300)
  .regex(
    /^https?:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:\/[A-Za-z0-9._~%!$&'()*+,;=:-]*)*\/?$/,
    'A server URL is http(s)://host[:port][/path], without user name, password, query or fragment',
  )
  .refine((u) => /^https:/i.test(u) || isLoopbackUrl(u), {
    message: 'Use https:// for a server on another machine: plain http would send your password and session in clear (http:// is for this machine only)',
  });

export const UsernameSchema = z.string().min(1).max(64);
/** A password on its way to a firm server (up to the server's own limit; never stored). */
export const SecretSchema = z.string().min(1).max(4096);
/** Most bytes a secret can have in every keychain: Windows' Credential Manager holds 2,560 (5 x 512). */
export const KEYCHAIN_SECRET_BYTES = 2560;
/**
 * The length of a text in UTF-8 bytes, as it is stored (a lone surrogate as U+FFFD, 3 bytes, as every
 * encoder writes it). Counted here: this layer uses no host API, TextEncoder included.
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
/** A secret on its way into the keychain (never sent back out), of a size every system's keychain holds. */
export const KeychainSecretSchema = z
  .string()
  .min(1)
  // (no more characters than bytes: a longer text is refused before it is counted)
  .max(KEYCHAIN_SECRET_BYTES)
  .refine((s) => utf8Length(s) <= KEYCHAIN_SECRET_BYTES, `At most ${KEYCHAIN_SECRET_BYTES} bytes in UTF-8 (the most Windows' Credential Manager holds)`);
export const TotpCodeSchema = z.string().regex(/^(\d{6}|[A-Za-z0-9-]{8,20})$/, 'A 6-digit code or a backup code');

export const ProfileSchema = z.object({
  id: ProfileIdSchema,
  name: z.string().min(1).max(64),
  kind: z.enum(['local', 'firm']),
  /**
   * Firm profiles: the server's base URL (as saved: one saved before ServerUrlSchema's rules of now is shown
   * so that it can be edited, and is not connected to).
   */
  url: z.string().max(300).optional(),
  username: UsernameSchema.optional(),
  /** Whether the keychain holds a refresh token (the user can connect without typing a password). */
  signedIn: z.boolean(),
  /** Whether the keychain holds an API key for this profile. */
  hasApiKey: z.boolean(),
});
export type Profile = z.output<typeof ProfileSchema>;

export const ConnectionStateSchema = z.enum(['connecting', 'connected', 'reconnecting', 'offline', 'login_required']);
export type ConnectionState = z.output<typeof ConnectionStateSchema>;

export const HubStatusSchema = z.object({
  state: ConnectionStateSchema,
  /** local = the embedded venue with simulated market (SIMULATION); firm = a shared exchange server. */
  mode: z.enum(['local', 'firm']),
  profileId: ProfileIdSchema,
  profileName: z.string(),
  /** The upstream's name from its `welcome` (once connected). */
  serverName: z.string().optional(),
  username: z.string().optional(),
  role: z.string().optional(),
  accountId: AccountIdSchema.optional(),
  /** While reconnecting: attempt number and the delay before the next one. */
  attempt: z.int().nonnegative().optional(),
  retryInMs: z.int().nonnegative().optional(),
  /** Why the last attempt failed, or why the connection is offline / needs a login. */
  error: ErrorShapeSchema.optional(),
  /** Hub clock when the state last changed (ms since epoch). */
  since: TimestampSchema,
});
export type HubStatus = z.output<typeof HubStatusSchema>;

export const LinkStateSchema = z.object({ symbol: SymbolSchema.optional(), timeframe: TimeframeSchema.optional() });
export const LinksSchema = z.object({ groups: z.partialRecord(LinkColorSchema, LinkStateSchema) });
export type Links = z.output<typeof LinksSchema>;

/** Panels that can live in their own window. */
export const PanelKindSchema = z.enum([
  'workspace',
  'chart',
  'ticket',
  'ladder',
  'blotter',
  'positions',
  'watchlist',
  'account',
  'tape',
  'alerts',
]);
export type PanelKind = z.output<typeof PanelKindSchema>;
export const WindowIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,40}$/);
/** What a pop-out shows: small, flat, JSON-safe. */
export const PanelParamsSchema = z.record(z.string().regex(/^[A-Za-z0-9_]{1,32}$/), z.union([z.string().max(200), z.number(), z.boolean()]));
/**
 * Params of `hub.window.open` that place the new window instead of the panel kind's last place: its outer
 * bounds in screen pixels (all four, or none). A restored named layout sends where each pop-out was.
 */
export const WINDOW_BOUNDS_PARAMS = { x: 'winX', y: 'winY', width: 'winW', height: 'winH' } as const;

export const HubInfoSchema = z.object({
  windowId: WindowIdSchema,
  /** Which panel this window shows (the main window shows the workspace). */
  panel: PanelKindSchema,
  params: PanelParamsSchema,
  /** The host: the Electron app or the headless host serving a browser. */
  host: z.enum(['electron', 'headless']),
  version: z.string(),
});
export type HubInfo = z.output<typeof HubInfoSchema>;

/**
 * The firm server's user administration a window may reach through the hub (`hub.admin`): its users (list,
 * create, and each user's disable, enable, role, password, 2fa/reset) and its audit log, nothing else.
 */
export const AdminPathSchema = z
  .string()
  .max(300)
  .regex(/^\/admin\/(users(\/[1-9]\d{0,14}\/(disable|enable|role|password|2fa\/reset))?|audit(\?[A-Za-z0-9=&%.+_-]*)?|backups(\/status|\?wait=false)?)$/, 'Not an administration path');

/** A file name the desktop offers in its save dialog: a plain name (no folder), of a text file. */
export const SaveFileNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}\.(csv|json|txt)$/, 'A file name: letters, digits, spaces, ".", "_" and "-", ending .csv, .json or .txt');
/** Most characters `hub.file.save` takes (a 100,000-entry audit log export is about 20 MB). */
export const SAVE_FILE_MAX_CHARS = 64 * 1024 * 1024;

export const HUB_METHODS = {
  'hub.info': method({
    access: 'public',
    readOnly: true,
    params: NoParams,
    result: HubInfoSchema,
    doc: 'Who this window is for the hub (its id, panel and params) and which host runs it.',
  }),
  'hub.profiles.list': method({
    access: 'public',
    readOnly: true,
    params: NoParams,
    result: z.object({ profiles: z.array(ProfileSchema), activeId: ProfileIdSchema }),
    doc: 'Connection profiles: the built-in local simulation and every firm server; which one is active.',
  }),
  'hub.profiles.save': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ id: ProfileIdSchema.optional(), name: z.string().min(1).max(64), url: ServerUrlSchema, username: UsernameSchema.optional() }),
    result: ProfileSchema,
    doc: 'Create (no id) or update a firm-server profile. The local profile cannot be changed.',
  }),
  'hub.profiles.delete': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ id: ProfileIdSchema }),
    result: Empty,
    doc: 'Delete a firm profile and every secret the keychain holds for it. Not the active or local one.',
  }),
  'hub.connect': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ profileId: ProfileIdSchema }),
    result: HubStatusSchema,
    doc: 'Make a profile the active connection for every window (a firm profile without a stored session becomes login_required).',
  }),
  'hub.login': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({
      profileId: ProfileIdSchema,
      username: UsernameSchema,
      password: SecretSchema,
      totp: TotpCodeSchema.optional(),
      /** Keep the refresh token in the keychain so the next start connects without a password. */
      remember: z.boolean().default(true),
    }),
    result: HubStatusSchema,
    doc: 'Sign in to a firm server (TWO_FACTOR_REQUIRED asks for `totp`) and make it the active connection.',
  }),
  'hub.logout': method({
    access: 'public',
    readOnly: false,
    params: NoParams,
    result: HubStatusSchema,
    doc: 'Sign out of the active firm server: revoke the session, delete its refresh token from the keychain.',
  }),
  'hub.credentials.set': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ profileId: ProfileIdSchema, kind: z.enum(['apiKey']), secret: KeychainSecretSchema }),
    result: Empty,
    doc: 'Store a secret for a profile in the OS keychain. It can be checked and deleted, never read back.',
  }),
  'hub.credentials.has': method({
    access: 'public',
    readOnly: true,
    params: z.strictObject({ profileId: ProfileIdSchema, kind: z.enum(['apiKey', 'refreshToken']) }),
    result: z.object({ present: z.boolean() }),
    doc: 'Whether the keychain holds that secret.',
  }),
  'hub.credentials.delete': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ profileId: ProfileIdSchema, kind: z.enum(['apiKey', 'refreshToken']) }),
    result: Empty,
    doc: 'Delete that secret from the keychain.',
  }),
  'hub.admin': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({
      method: z.enum(['GET', 'POST']),
      path: AdminPathSchema,
      body: z.record(z.string(), z.unknown()).optional(),
      timeoutMs: z.int().min(1).max(3_600_000).optional(),
    }),
    result: z.unknown(),
    doc: "A request to the active firm server's user administration (/api/v1 + path), sent by the hub with the session it holds, so that a desktop window needs no token: the server's answer as it gave it, which the window checks against the REST schemas (engine/protocol/rest.ts). The server judges the rights (FORBIDDEN unless an admin); UNAVAILABLE without a firm session. `timeoutMs`: how long the hub waits for the answer (default 15 s; a backup answers once it is made, which on a large venue takes minutes), TIMEOUT past it.",
  }),
  'hub.file.save': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ name: SaveFileNameSchema, text: z.string().max(SAVE_FILE_MAX_CHARS) }),
    result: z.object({ saved: z.boolean(), path: z.string().optional() }),
    doc: 'Save a text file (an export) where the user chooses in the system\'s save dialog, offering `name` in the downloads folder: `saved` false when they cancel. The headless host answers UNKNOWN_METHOD: the browser downloads it.',
  }),
  'hub.link.set': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ group: LinkColorSchema, symbol: SymbolSchema.optional(), timeframe: TimeframeSchema.optional() }),
    result: Empty,
    doc: 'Set the symbol (and optionally timeframe) of a link group; every window in the group follows.',
  }),
  'hub.window.open': method({
    access: 'public',
    readOnly: false,
    params: z.strictObject({ panel: PanelKindSchema, params: PanelParamsSchema.default({}) }),
    result: z.object({ windowId: WindowIdSchema }),
    doc: 'Pop a panel out into its own window (desktop), at the bounds given in params (WINDOW_BOUNDS_PARAMS) or where that kind of window was last. The headless host answers UNKNOWN_METHOD: the browser opens a window itself.',
  }),
} as const satisfies Record<string, MethodDef>;

export const HUB_CHANNELS = {
  'hub.status': channel({
    access: 'public',
    params: NoParams,
    data: HubStatusSchema,
    conflate: true,
    doc: 'The active connection: state (connected, reconnecting, offline, login_required), mode and profile, starting with the current one.',
  }),
  'hub.links': channel({
    access: 'public',
    params: NoParams,
    data: LinksSchema,
    conflate: true,
    doc: 'Every link group\'s symbol and timeframe, starting with the current state.',
  }),
} as const satisfies Record<string, ChannelDef>;

export type HubMethodName = keyof typeof HUB_METHODS;
export type HubChannelName = keyof typeof HUB_CHANNELS;
export function isHubMethod(s: string): s is HubMethodName {
  return Object.hasOwn(HUB_METHODS, s);
}
export function isHubChannel(s: string): s is HubChannelName {
  return Object.hasOwn(HUB_CHANNELS, s);
}
