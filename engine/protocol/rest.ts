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
/** ASCII letters in lower case, the others as they are (as SQLite's NOCASE compares). */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** A REST answer read through its schema: a malformed one is a typed INTERNAL naming where it came from. */
export function readAnswer<S extends z.ZodType>(schema: S, json: unknown, from: string): z.output<S> {
  const r = schema.safeParse(json);
  if (!r.success) throw new ProtocolError('INTERNAL', `Unexpected answer from ${from}`, issuesToDetails(r.error.issues));
  return r.data;
}
