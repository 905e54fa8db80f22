import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../engine/core/index.js';
import type { Ack } from '../../engine/venue/index.js';
import { ServerKey } from '../src/auth/crypto.js';
import { HashPool, passwordProblems, passwordRule } from '../src/auth/passwords.js';
import { base32Decode, base32Encode, hotp, matchTotp, totp } from '../src/auth/totp.js';
import { canonicalJson, queryParams } from '../src/http/api.js';
import { commandEntry, originTagger, parseTag } from '../src/market/audit.js';
import { ACK_BUCKETS, bucketQuantile, Histogram, monotonicTotal, Registry, RateWindow } from '../src/metrics.js';
import { FAST_ARGON2 } from './helpers.js';

describe('TOTP (RFC 6238 / RFC 4226 test vectors)', () => {
  const secret = Buffer.from('12345678901234567890');
  it('HOTP', () => {
    expect([0, 1, 2, 3, 9].map((c) => hotp(secret, c))).toEqual(['755224', '287082', '359152', '969429', '520489']);
  });
  it('TOTP SHA-1 at the RFC times (8 digits, last 6 shown here)', () => {
    for (const [t, want] of [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
    ] as const) {
      expect(hotp(secret, Math.floor(t / 30), 8)).toBe(want);
    }
    expect(totp(secret, 59_000)).toBe('287082');
  });
  it('base32 round trip and window matching', () => {
    const b = Buffer.from('hello world, this is 20');
    expect(base32Decode(base32Encode(b))).toEqual(b);
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    const now = 1_700_000_000_000;
    expect(matchTotp(secret, totp(secret, now - 30_000), now)).toBe(Math.floor(now / 30_000) - 1);
    expect(matchTotp(secret, totp(secret, now - 90_000), now)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', now)).toBeUndefined();
  });
});

describe('secrets', () => {
  it('sealed values round-trip and are tamper-evident; MACs differ by purpose', () => {
    const k = ServerKey.forTests();
    const sealed = k.seal('JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DP');
    expect(k.open(sealed)).toBe('JBSWY3DPEHPK3PXP');
    const parts = sealed.split('.');
    parts[2] = parts[2]!.slice(0, -2) + (parts[2]!.endsWith('AA') ? 'BB' : 'AA');
    expect(() => k.open(parts.join('.'))).toThrow();
    expect(k.mac('access', 'x')).not.toBe(k.mac('refresh', 'x'));
  });
  it('argon2id hashes verify, reject wrong passwords and flag weaker parameters', async () => {
    const pool = new HashPool(FAST_ARGON2, 2);
    const h = await pool.hash('a long enough password');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$/);
    expect(await pool.verify(h, 'a long enough password')).toBe(true);
    expect(await pool.verify(h, 'a long enough passworD')).toBe(false);
    expect(await pool.verify('garbage', 'x')).toBe(false);
    expect(new HashPool({ memoryCost: 19_456, timeCost: 2, parallelism: 1 }, 1).needsRehash(h)).toBe(true);
  });
  it('password policy counts code points and normalises', () => {
    expect(passwordProblems('日本語のパスワード')).toEqual([]);
    expect(passwordProblems('çççççççç')).toContain('not be one repeated character');
    expect(passwordProblems('Password123')).toContain('not be a commonly used password');
    // the service's message: `The password must ${passwordRule(problems)}`
    expect(passwordRule(passwordProblems('short1!'))).toBe('have at least 8 characters');
    expect(passwordRule(passwordProblems('aaaaaaaaaaaa'))).toBe('not be one repeated character');
    expect(passwordRule(['have at least 8 characters', 'not be a commonly used password', 'not be a simple sequence'])).toBe(
      'have at least 8 characters, not be a commonly used password and not be a simple sequence',
    );
  });
});

describe('REST helpers and metrics', () => {
  it('query parameters become typed params', () => {
    expect(queryParams(new URLSearchParams('symbol=ACME&levels=5'), 'depth.get')).toEqual({ symbol: 'ACME', levels: 5 });
    expect(queryParams(new URLSearchParams('symbol=123'), 'quote.get')).toEqual({ symbol: '123' });
    expect(queryParams(new URLSearchParams('symbols=A&symbols=B'), 'quotes.get')).toEqual({ symbols: ['A', 'B'] });
    expect(queryParams(new URLSearchParams('symbols=ACME'), 'quotes.get')).toEqual({ symbols: ['ACME'] });
    // each field read on its own: numeric-looking symbols stay strings, in a list too, beside a number
    expect(queryParams(new URLSearchParams('symbols=0'), 'quotes.get')).toEqual({ symbols: ['0'] });
    expect(queryParams(new URLSearchParams('symbols=0&symbols=1.5'), 'quotes.get')).toEqual({ symbols: ['0', '1.5'] });
    expect(queryParams(new URLSearchParams('symbol=7&limit=5&status=open'), 'orders.list')).toEqual({ symbol: '7', limit: 5, status: 'open' });
    // nothing reads as valid: the typed reading, whose error is the one shown
    expect(queryParams(new URLSearchParams('limit=abc&levels=0'), 'depth.get')).toEqual({ limit: 'abc', levels: 0 });
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 1 }] })).toBe('{"a":[{"c":1,"d":2}],"b":1}');
  });
  it('renders Prometheus text', () => {
    const r = new Registry();
    r.counter('x_total', 'X', { a: 'b"c' }).inc(2);
    r.histogram('lat_seconds', 'L', [0.1, 1]).observe(0.5);
    const t = r.render();
    expect(t).toContain('x_total{a="b\\"c"} 2');
    expect(t).toContain('lat_seconds_bucket{le="0.1"} 0');
    expect(t).toContain('lat_seconds_bucket{le="1"} 1');
    expect(t).toContain('lat_seconds_count 1');
    // ACK_BUCKETS are 1 ms apart from 1 to 10 ms: a quantile read from them is within a millisecond there
    const h = new Histogram(ACK_BUCKETS);
    const samples = Array.from({ length: 10_000 }, (_, i) => 0.0001 + (i % 997) * 0.0000123 + (i % 10 === 0 ? 0.008 : 0));
    for (const v of samples) h.observe(v);
    const cum: number[] = [];
    let run = 0;
    for (const c of h.counts) cum.push((run += c));
    cum.push(h.count);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) expect(Math.abs(bucketQuantile(ACK_BUCKETS, cum, q) - sorted[Math.ceil(q * sorted.length) - 1]!)).toBeLessThan(0.001);
    expect(bucketQuantile([1, 2], [0, 4, 4], 0.5)).toBe(1.5); // linear within (1, 2]
    expect(bucketQuantile([1, 2], [2, 2, 4], 0.99)).toBe(2); // past the last bound: that bound
    expect(bucketQuantile([1, 2], [0, 0, 0], 0.5)).toBeNaN();
    const w = new RateWindow(10);
    for (let i = 0; i < 9; i++) w.add(10, 1_000_000 + i * 1000);
    expect(w.rate(1_009_000)).toBe(10);
  });

  it("a thread's busy total never goes back when the thread ends or starts again, and counts each thread's time", () => {
    // readings of threads one after another: each counts up from 0, and none may be running (undefined)
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 6 }), { maxLength: 5 }), fc.boolean(), (threads, gaps) => {
        const readings: (number | undefined)[] = [];
        let sum = 0;
        for (const steps of threads) {
          let at = 0;
          for (const d of steps) readings.push((at += d));
          sum += at;
          if (gaps) readings.push(undefined);
        }
        let i = 0;
        const total = monotonicTotal(() => readings[i]);
        let prev = 0;
        for (i = 0; i < readings.length; i++) {
          const t = total();
          expect(t).toBeGreaterThanOrEqual(prev);
          prev = t;
        }
        // with each thread's end seen (no thread running between them), every thread's time is in the total;
        // without, a new thread read only once it has passed the old one's total is counted from there
        if (gaps) expect(prev).toBe(sum);
        else {
          expect(prev).toBeLessThanOrEqual(sum);
          expect(prev).toBeGreaterThanOrEqual(Math.max(0, ...threads.map((steps) => steps.reduce((a, b) => a + b, 0))));
        }
      }),
    );
    const r = [5, 9, 2, undefined, 4];
    let k = 0;
    const t = monotonicTotal(() => r[k++]);
    expect([t(), t(), t(), t(), t()]).toEqual([5, 9, 11, 11, 15]);
  });

  it('a value that is not finite is written as Prometheus reads it', () => {
    const m = new Registry();
    m.gauge('x_inf', 'h', undefined, () => Infinity);
    m.gauge('x_minus_inf', 'h', undefined, () => -Infinity);
    m.gauge('x_nan', 'h', undefined, () => NaN);
    m.counter('x_read_total', 'h', { a: 'b' }, () => 7);
    const text = m.render();
    expect(text).toContain('\nx_inf +Inf\n');
    expect(text).toContain('\nx_minus_inf -Inf\n');
    expect(text).toContain('\nx_nan NaN\n');
    expect(text).toContain('# TYPE x_read_total counter\nx_read_total{a="b"} 7\n');
  });
});

describe('audit tags (market/audit.ts)', () => {
  it("a call's tag text gives back who, from where and when, whatever the name and address", () => {
    fc.assert(
      fc.property(
        fc.record({ userId: fc.option(fc.nat(), { nil: undefined }), username: fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined }), ip: fc.option(fc.string(), { nil: undefined }), via: fc.constantFrom('ws' as const, 'rest' as const) }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (origin, at) => {
          const tag = originTagger(origin, () => undefined)(at);
          expect(parseTag(tag.text)).toEqual({ origin, at });
          // journaled for a command the engine refused: the code too
          expect(parseTag(tag.refusedText('UNKNOWN_ORDER'))).toEqual({ origin, at, refused: 'UNKNOWN_ORDER' });
        },
      ),
    );
  });
  it('a text that is not a tag of a call is refused, not guessed at', () => {
    for (const text of ['', 'null', '[1,"a","b","ws"]', '[1,"a","b","ftp",5]', '["1","a","b","ws",5]', '[1,"a","b","ws",1.5]', '[1,2,"b","ws",5]', '{}', '[1,"a","b","ws",5,6]', '[1,"a","b","ws",5,"NOT_A_CODE"]', '[1,"a","b","ws",5,null]', '[1,"a","b","ws",5,"UNKNOWN_ORDER",7]'])
      expect(parseTag(text), text).toBeUndefined();
  });
  it('an entry from the journal says it was recovered; a live one says whether the engine refused it', () => {
    const origin = { userId: 3, username: 'ann', ip: '10.0.0.1', via: 'ws' as const };
    const place = { type: 'PlaceOrder', accountId: 7, orderId: 41, symbol: 'ACME', side: 'buy', orderType: 'limit', price: 100, qty: 5, tif: 'day', ts: 9 } as unknown as Command;
    expect(commandEntry(origin, place, 1_000, undefined)).toEqual({ ts: 1_000, userId: 3, username: 'ann', ip: '10.0.0.1', action: 'order.place', details: { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 5, price: 100, orderId: 41, via: 'ws', recovered: true } });
    const rejected = { seq: 5, ts: 9, events: [], orderIds: [41], rejected: { type: 'Rejected', ts: 9, command: 'PlaceOrder', code: 'INSUFFICIENT_FUNDS', message: 'no', orderId: 41 } } as unknown as Ack;
    expect(commandEntry(origin, place, 1_000, rejected)!.details).toEqual({ symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 5, price: 100, orderId: 41, via: 'ws', rejected: 'INSUFFICIENT_FUNDS' });
    expect(commandEntry(origin, { type: 'Deposit', accountId: 7, amount: 5 } as unknown as Command, 1, undefined)).toMatchObject({ action: 'admin.Deposit', details: { type: 'Deposit', accountId: 7, amount: 5 } });
    expect(commandEntry(origin, { type: 'EndSession' } as unknown as Command, 1, undefined)).toBeUndefined();
  });
});
