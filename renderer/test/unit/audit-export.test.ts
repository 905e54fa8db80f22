import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { AuditEntry } from '../../../engine/protocol/index.js';
import { AUDIT_CSV_COLUMNS, auditCsv, auditFileName, auditQuery, collectAudit, csvCell, untilOf, type AuditReader } from '../../src/admin/audit-export.js';

/** RFC 4180, as a spreadsheet reads it: rows of cells (CRLF or LF line ends, quoted cells may hold both). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      // the row ends at the \n
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  expect(quoted).toBe(false);
  expect(cell === '' && row.length === 0).toBe(true); // the text ends with a line end
  return rows;
}

const entry = fc.record({
  id: fc.integer({ min: 1, max: 2 ** 40 }),
  ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  userId: fc.option(fc.nat(), { nil: null }),
  username: fc.option(fc.string({ maxLength: 20, unit: 'grapheme' }), { nil: null }),
  ip: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 10 })), { nil: null }),
  action: fc.oneof(fc.constantFrom('order.place', 'auth.login', 'admin.user.disable'), fc.string({ maxLength: 12 })),
  details: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null))),
}) satisfies fc.Arbitrary<AuditEntry>;

describe('the audit log as CSV', () => {
  it('reads back as the entries, one row each, whatever their text (property)', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
        const rows = parseCsv(auditCsv(entries));
        expect(rows[0]).toEqual([...AUDIT_CSV_COLUMNS]);
        expect(rows.length).toBe(entries.length + 1);
        // a text cell reads back as written, with an apostrophe before what a spreadsheet would compute
        const guarded = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
        entries.forEach((e, i) => {
          const [id, time, userId, username, action, details, ip] = rows[i + 1]!;
          expect(Number(id)).toBe(e.id);
          expect(Date.parse(time!)).toBe(e.ts);
          expect(userId).toBe(e.userId === null ? '' : String(e.userId));
          expect(username).toBe(guarded(e.username ?? ''));
          expect(action).toBe(guarded(e.action));
          expect(JSON.parse(details!)).toEqual(e.details);
          expect(ip).toBe(guarded(e.ip ?? ''));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('opens no formula: a cell a spreadsheet would compute is written as text', () => {
    for (const s of ['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://x")']) expect(csvCell(s).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell('carl')).toBe('carl');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    const [, row] = parseCsv(auditCsv([{ id: 7, ts: Date.UTC(2026, 11, 6, 14, 3, 5, 120), userId: 2, username: '=cmd', ip: '10.0.0.1', action: 'order.place', details: { symbol: 'ACME', price: 9_040 } }]));
    expect(row).toEqual(['7', '2026-12-06T14:03:05.120Z', '2', "'=cmd", 'order.place', '{"symbol":"ACME","price":9040}', '10.0.0.1']);
  });

  it("is named for the server and its entries' time span (UTC)", () => {
    const e = (ts: number) => ({ id: 1, ts, userId: null, username: null, ip: null, action: 'a', details: {} });
    expect(auditFileName('Desk Test Exchange', [e(Date.UTC(2026, 11, 6, 16, 12)), e(Date.UTC(2026, 11, 6, 14, 3, 59))])).toBe('audit-Desk-Test-Exchange-20261206T1403-20261206T1612.csv');
    expect(auditFileName('127.0.0.1:8080', [])).toBe('audit-127.0.0.1-8080-empty.csv');
    expect(auditFileName('../..', [])).toBe('audit-server-empty.csv');
    expect(auditFileName('x'.repeat(100), [])).toMatch(/^audit-x{40}-empty\.csv$/);
  });
});

describe('collecting the entries under a filter', () => {
  /** An audit route over `n` entries (ids n..1, newest first) that records what it was asked. */
  function fakeApi(n: number) {
    const asked: URLSearchParams[] = [];
    const api: AuditReader = {
      api: async <S extends z.ZodType>(_method: 'GET', path: string, schema: S) => {
        const q = new URLSearchParams(path.slice(path.indexOf('?') + 1));
        asked.push(q);
        const before = q.has('before') ? Number(q.get('before')) : n + 1;
        const limit = Number(q.get('limit'));
        const rows = [];
        for (let id = Math.min(n, before - 1); id >= 1 && rows.length < limit; id--) rows.push({ id, ts: id * 1000, userId: 1, username: 'u', ip: null, action: 'order.place', details: {} });
        return schema.parse(rows) as z.output<S>;
      },
    };
    return { api, asked };
  }

  it('reads page after page, newest first, with the filter on every request', async () => {
    const { api, asked } = fakeApi(2_345);
    const seen: number[] = [];
    const r = await collectAudit(api, { action: 'order', userId: '7', ip: '203.0.113.5', until: 123_456 }, { page: 1_000, onProgress: (k) => seen.push(k) });
    expect(r.more).toBe(false);
    expect(r.entries.map((e) => e.id)).toEqual(Array.from({ length: 2_345 }, (_, i) => 2_345 - i));
    expect(seen).toEqual([1_000, 2_000, 2_345]);
    expect(asked.map((q) => q.get('before'))).toEqual([null, '1346', '346']);
    for (const q of asked) expect([q.get('action'), q.get('userId'), q.get('ip'), q.get('until')]).toEqual(['order', '7', '203.0.113.5', '123456']);
  });

  it('stops at its most, saying whether there were more', async () => {
    expect((await collectAudit(fakeApi(2_500).api, { action: '', userId: '', ip: '', until: undefined }, { max: 2_000, page: 1_000 })).more).toBe(true);
    const exact = await collectAudit(fakeApi(2_000).api, { action: '', userId: '', ip: '', until: undefined }, { max: 2_000, page: 1_000 });
    expect([exact.entries.length, exact.more]).toEqual([2_000, false]);
    const short = await collectAudit(fakeApi(2_500).api, { action: '', userId: '', ip: '', until: undefined }, { max: 1_500, page: 1_000 });
    expect([short.entries.length, short.entries.at(-1)!.id, short.more]).toEqual([1_500, 1_001, true]);
  });

  it('stops when cancelled, between pages', async () => {
    const { api, asked } = fakeApi(5_000);
    const stop = new AbortController();
    await expect(collectAudit(api, { action: '', userId: '', ip: '', until: undefined }, { page: 1_000, signal: stop.signal, onProgress: (k) => k >= 2_000 && stop.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(asked.length).toBe(2);
  });

  it('"At or before" is the end of the second the input shows, local time; zero seconds are not a whole minute', () => {
    expect(untilOf('2026-12-06T14:03:07')).toBe(new Date(2026, 11, 6, 14, 3, 7).getTime() + 999);
    // (the input's value leaves zero seconds out)
    expect(untilOf('2026-12-06T14:03')).toBe(new Date(2026, 11, 6, 14, 3, 0).getTime() + 999);
    expect(untilOf('')).toBeUndefined();
    expect(untilOf('not a time')).toBeUndefined();
  });

  it('asks the route with what is set and nothing else', () => {
    expect(auditQuery({ action: '', userId: '', ip: '', until: undefined }, 200)).toBe('/admin/audit?limit=200');
    expect(auditQuery({ action: 'admin.user', userId: '3', ip: '', until: 1_700_000_000_999 }, 1_000, 42)).toBe('/admin/audit?limit=1000&action=admin.user&userId=3&until=1700000000999&before=42');
    // an address as a query value (the desktop's admin path takes its "%3A")
    expect(auditQuery({ action: '', userId: '', ip: '::ffff:203.0.113.5', until: undefined }, 5)).toBe('/admin/audit?limit=5&ip=%3A%3Affff%3A203.0.113.5');
  });
});
