/**
 * The exchange server's REST answers outside the method table: sign-in (`/api/v1/auth/...`) and user
 * administration (`/api/v1/admin/...`). Declared once here: the server's types come from these schemas,
 * and every client (the browser workstation, the desktop's firm link) validates what it receives with them.
 */
import { z } from 'zod';
import { ProtocolError, issuesToDetails } from './errors.js';

export const UserRoleSchema = z.enum(['admin', 'trader', 'viewer']);

/** A user as the server shows it (never a hash or a secret). */
export const PublicUserSchema = z.object({
  id: z.int().positive(),
  username: z.string().min(1),
  role: UserRoleSchema,
  accountId: z.int().nonnegative().nullable(),
  disabled: z.boolean(),
  totpEnabled: z.boolean(),
  mustChangePassword: z.boolean(),
  createdAt: z.int().nonnegative(),
});
export type PublicUser = z.output<typeof PublicUserSchema>;

/** The answer to a sign-in or a refresh. */
export const TokenPairSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  tokenType: z.literal('Bearer'),
  expiresIn: z.int().positive(),
  refreshExpiresIn: z.int().positive(),
  sessionId: z.string().min(1),
  user: PublicUserSchema,
});
export type TokenPair = z.output<typeof TokenPairSchema>;

/** The answer to an admin's change of a user: the user after it, and what it did. */
export const ChangedUserSchema = PublicUserSchema.extend({
  /** Working orders canceled (disable, or a change to viewer). */
  canceledOrders: z.int().nonnegative().optional(),
  /** Sessions revoked (password or 2FA reset). */
  sessionsRevoked: z.int().nonnegative().optional(),
});
export type ChangedUser = z.output<typeof ChangedUserSchema>;

/** One entry of the audit log: who (null: before sign-in), what, when, from where. */
export const AuditEntrySchema = z.object({
  id: z.int().positive(),
  ts: z.int().nonnegative(),
  userId: z.int().nullable(),
  username: z.string().nullable(),
  ip: z.string().nullable(),
  action: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.output<typeof AuditEntrySchema>;

/** What each file of a server backup is. */
export const BACKUP_ROLES = ['venue', 'history', 'users', 'key'] as const;

/** A server backup's manifest (`manifest.json` in its folder). */
export const BackupManifestSchema = z.strictObject({
  format: z.literal(1),
  /** The folder's name: when it began (UTC, to the millisecond) and its seq, `20261206T160500123Z-seq48211`. */
  name: z.string(),
  /** When the backup began (ISO 8601) and how long it took. */
  createdAt: z.string(),
  tookMs: z.number().nonnegative(),
  /** The last command of the journal in the copy. */
  seq: z.int().nonnegative(),
  /** Who asked for it: an admin (`by`, their user name) or the schedule. */
  trigger: z.enum(['admin', 'schedule']),
  by: z.string().optional(),
  /** Where the server's key came from: its file (copied), the environment (not copied), or neither. */
  key: z.enum(['file', 'environment', 'none']),
  files: z.array(z.strictObject({ role: z.enum(BACKUP_ROLES), file: z.string(), bytes: z.int().nonnegative() })),
  bytes: z.int().nonnegative(),
  /** The identity of the venue backed up (Venue.id); absent in backups made before it was written. */
  venue: z.string().optional(),
});
export type BackupManifest = z.output<typeof BackupManifestSchema>;

/** A backup as `GET`/`POST /api/v1/admin/backups` answer it: its manifest and its folder on the server. */
export const BackupSchema = BackupManifestSchema.extend({ dir: z.string() });
export type Backup = z.output<typeof BackupSchema>;

/**
 * `GET /api/v1/admin/backups/status`: the backup being made, if one is (an admin's or the schedule's), and
 * the last one that failed since the server started (a scheduled one's failure is otherwise only in the
 * logs and metrics).
 */
export const BackupStatusSchema = z.strictObject({
  running: z.strictObject({ since: z.string(), trigger: z.enum(['admin', 'schedule']), by: z.string().optional() }).nullable(),
  lastFailure: z.strictObject({ at: z.string(), trigger: z.enum(['admin', 'schedule']), by: z.string().optional(), message: z.string() }).nullable(),
});
export type BackupStatus = z.output<typeof BackupStatusSchema>;

/**
 * Whether an audit entry's action is under an action filter, as `GET /api/v1/admin/audit?action=` and the
 * Admin panel's live log read it: the action itself or one below it ("admin.user" takes admin.user.disable,
 * not admin.username), with ASCII letters in either case ("admin.deposit" takes admin.Deposit).
 */
export function auditActionMatches(filter: string, action: string): boolean {
  const f = asciiLower(filter);
  const a = asciiLower(action);
  return a === f || (a.length > f.length && a.charCodeAt(f.length) === 46 /* . */ && a.startsWith(f));
}
/**
 * An address filter of the audit log as entries hold addresses, as `GET /api/v1/admin/audit?ip=` and the
 * Admin panel read it: trimmed, IPv6 in lower case, an IPv4-mapped IPv6 address as IPv4
 * ("::FFFF:203.0.113.5" is "203.0.113.5"); 'unknown', the address of a request whose connection was gone
 * before it was read; '' for none; undefined for text no address is written as.
 */
export function auditAddress(text: string): string | undefined {
  const a = text.trim().toLowerCase();
  if (a === 'unknown') return a;
  return /^[0-9a-f.:]{0,45}$/.test(a) ? a.replace(/^::ffff:(?=\d{1,3}(\.\d{1,3}){3}$)/, '') : undefined;
}

/** ASCII letters in lower case, the others as they are (as SQLite's NOCASE compares). */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** A REST answer read through its schema: a malformed one is a typed INTERNAL naming where it came from. */
export function readAnswer<S extends z.ZodType>(schema: S, json: unknown, from: string): z.output<S> {
  const r = schema.safeParse(json);
  if (!r.success) throw new ProtocolError('INTERNAL', `Unexpected answer from ${from}`, issuesToDetails(r.error.issues));
  return r.data;
}
