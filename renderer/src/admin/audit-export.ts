/**
 * The audit log as a CSV file: the entries under the panel's filter (user, action, address, until), newest first,
 * read a page at a time, and the file saved where the admin says (desktop: the hub's save dialog,
 * `hub.file.save`; browser: a download).
 */
import { z } from 'zod';
import { AuditEntrySchema, type AuditEntry } from '../../../engine/protocol/index.js';

/** What an export needs of the administration (AdminApi, api.ts): reading the audit route. */
export interface AuditReader {
  api<S extends z.ZodType>(method: 'GET', path: string, schema: S): Promise<z.output<S>>;
}

/** Most entries one export holds (newest first): about 20 MB of CSV. Older ones: export again with an earlier "until". */
export const AUDIT_EXPORT_MAX = 100_000;
/**
 * Entries asked for per request while exporting. The server reads a page on its event loop, between
 * orders: 250 entries hold it about 1 ms (1,000, the largest page, about 4 ms, up to 8), for the same
 * total.
 */
export const AUDIT_EXPORT_PAGE = 250;

export interface AuditFilter {
  /** An action filter (auditActionMatches), '' for any. */
  action: string;
  /** A user id, '' for any. */
  userId: string;
  /**
   * An address, '' for any (the server's answer: without a user, every entry from it but placed orders;
   * with one, all of theirs).
   */
  ip: string;
  /** The entries stamped at or before this time (ms), undefined for the latest. */
  until: number | undefined;
}

/**
 * A datetime-local value (local time, to the second) as ms, up to the end of that second; undefined for ''
 * or not a time. The input leaves out seconds that are zero ("14:03" is 14:03:00, not the whole minute).
 */
export function untilOf(v: string): number | undefined {
  if (v === '') return undefined;
  const t = new Date(v).getTime();
  return Number.isFinite(t) && t >= 0 ? t + 999 : undefined;
}

/** The audit route's query for a filter, a cursor and a page size. */
export function auditQuery(f: AuditFilter, limit: number, before?: number): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (f.action !== '') q.set('action', f.action);
  if (f.userId !== '') q.set('userId', f.userId);
  if (f.ip !== '') q.set('ip', f.ip);
  if (f.until !== undefined) q.set('until', String(f.until));
  if (before !== undefined) q.set('before', String(before));
  return `/admin/audit?${q.toString()}`;
}

/**
 * Every entry under the filter, newest first, up to `max`, a page at a time; `onProgress` hears how many
 * so far. Stops between pages once `signal` is aborted (rejecting with an AbortError).
 */
export async function collectAudit(api: AuditReader, f: AuditFilter, o: { max?: number; page?: number; signal?: AbortSignal; onProgress?: (n: number) => void } = {}): Promise<{ entries: AuditEntry[]; more: boolean }> {
  const max = o.max ?? AUDIT_EXPORT_MAX;
  const page = o.page ?? AUDIT_EXPORT_PAGE;
  const entries: AuditEntry[] = [];
  let before: number | undefined;
  for (;;) {
    o.signal?.throwIfAborted();
    const want = Math.min(page, max - entries.length);
    const rows = await api.api('GET', auditQuery(f, want, before), z.array(AuditEntrySchema));
    o.signal?.throwIfAborted();
    for (const r of rows) entries.push(r);
    o.onProgress?.(entries.length);
    if (rows.length < want) return { entries, more: false };
    before = rows[rows.length - 1]!.id;
    if (entries.length >= max) {
      // one entry beyond the cap says whether the export is the whole of the filter's entries
      const next = await api.api('GET', auditQuery(f, 1, before), z.array(AuditEntrySchema));
      return { entries, more: next.length > 0 };
    }
  }
}

export const AUDIT_CSV_COLUMNS = ['id', 'time_utc', 'user_id', 'username', 'action', 'details', 'ip'] as const;

/**
 * A text cell: quoted when it holds a comma, a quote or a line break (RFC 4180); one that a spreadsheet
 * would read as a formula (=, +, -, @, a tab or a carriage return first) is written with a leading
 * apostrophe, so opening the file runs nothing a user name or a detail carried in.
 */
export function csvCell(s: string): string {
  const t = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** The entries as CSV (a header line, then one line per entry, CRLF line ends); details as their JSON. */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const lines = [AUDIT_CSV_COLUMNS.join(',')];
  for (const e of entries) {
    lines.push([String(e.id), new Date(e.ts).toISOString(), e.userId === null ? '' : String(e.userId), csvCell(e.username ?? ''), csvCell(e.action), csvCell(JSON.stringify(e.details)), csvCell(e.ip ?? '')].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The export's file name: the server's name and the time span of its entries (UTC), e.g. `audit-desk-20261206T1403-20261206T1612.csv`. */
export function auditFileName(server: string, entries: readonly AuditEntry[]): string {
  const stamp = (ts: number): string => new Date(ts).toISOString().slice(0, 16).replace(/[-:]/g, '');
  const name = server.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 40) || 'server';
  if (entries.length === 0) return `audit-${name}-empty.csv`;
  return `audit-${name}-${stamp(entries[entries.length - 1]!.ts)}-${stamp(entries[0]!.ts)}.csv`;
}
