// The OHLCV CSV format: the good paths, exact decimals, and every error path with its line and code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CsvError, formatIso, formatOhlcvCsv, parseDecimal, parseOhlcvCsv, parseTimestamp, sampleCsv, type CsvIssueCode } from '../../sim/index.js';

const SAMPLE = new URL('../../sim/sample/SAMPLE.csv', import.meta.url);

function issues(text: string): { line: number; code: CsvIssueCode; column?: string }[] {
  try {
    parseOhlcvCsv(text);
  } catch (e) {
    expect(e).toBeInstanceOf(CsvError);
    return (e as CsvError).issues.map((i) => ({ line: i.line, code: i.code, ...(i.column ? { column: i.column } : {}) }));
  }
  throw new Error('expected a CsvError');
}

describe('the shipped sample', () => {
  it('is exactly what the project generates, and parses into a few hundred valid bars', () => {
    const text = readFileSync(SAMPLE, 'utf8');
    expect(text).toBe(sampleCsv());
    const bars = parseOhlcvCsv(text);
    expect(bars).toHaveLength(390);
    expect(bars[0]!.t).toBe(Date.UTC(2024, 2, 4, 14, 30));
    for (let i = 0; i < bars.length; i++) {
      const b = bars[i]!;
      expect(b.l <= Math.min(b.o, b.c) && b.h >= Math.max(b.o, b.c) && b.v > 0).toBe(true);
      if (i > 0) expect(b.t - bars[i - 1]!.t).toBe(60_000);
    }
    // format → parse round trip
    expect(parseOhlcvCsv(formatOhlcvCsv(bars))).toEqual(bars);
    expect(parseOhlcvCsv(formatOhlcvCsv(bars, { timestamps: 'ms' }))).toEqual(bars);
  });
});

describe('parsing', () => {
  it('reads ISO-8601 (Z, offsets, space, no seconds, fractions, dates) and epoch ms; header and comments optional', () => {
    const text = [
      '\uFEFF# a comment',
      '',
      '2024-03-04T14:30:00Z,1,1,1,1,0',
      '2024-03-04T09:31:00-05:00,1,1,1,1,0',
      '2024-03-04 14:32Z,1,1,1,1,0',
      '2024-03-04T14:33:00.250,1,1,1,1,0',
      '  "2024-03-04T15:34:00+01:00" , "2.5" ,3,2,2.50 , 7 ',
      '1709563200000,1,1,1,1,0',
      '2024-03-05,1,1,1,1,0',
    ].join('\r\n');
    const bars = parseOhlcvCsv(text);
    expect(bars.map((b) => b.t)).toEqual([
      Date.UTC(2024, 2, 4, 14, 30),
      Date.UTC(2024, 2, 4, 14, 31),
      Date.UTC(2024, 2, 4, 14, 32),
      Date.UTC(2024, 2, 4, 14, 33, 0, 250),
      Date.UTC(2024, 2, 4, 14, 34),
      1709563200000,
      Date.UTC(2024, 2, 5),
    ]);
    expect(bars[4]).toEqual({ t: Date.UTC(2024, 2, 4, 14, 34), o: 250, h: 300, l: 200, c: 250, v: 7 });
    expect(parseOhlcvCsv('TIMESTAMP,Open,HIGH,low,Close,volume\n1,1,1,1,1,1\n')).toHaveLength(1);
    expect(parseOhlcvCsv('Date,Open,High,Low,Close,Volume\n2024-03-04,1,1,1,1,1\n')).toHaveLength(1);
  });

  it('converts decimals to minor units exactly (no float rounding)', () => {
    expect(parseDecimal('0.29', 2, false)).toBe(29); // 0.29 * 100 = 28.999999999999996 in floats
    expect(parseDecimal('1.1', 2, false)).toBe(110);
    expect(parseDecimal('4.35', 2, false)).toBe(435); // 434.99999999999994
    expect(parseDecimal('123456789.01', 2, false)).toBe(12345678901);
    expect(parseDecimal('.5', 2, false)).toBe(50);
    expect(parseDecimal('7', 2, false)).toBe(700);
    expect(parseDecimal('7.', 2, false)).toBe(700);
    expect(parseDecimal('1.2300', 2, false)).toBe(123);
    expect(parseDecimal('1.234', 2, false)).toMatch(/More than 2 decimal places/);
    expect(parseDecimal('1.235', 2, true)).toBe(124);
    expect(parseDecimal('1.2349', 2, true)).toBe(123);
    expect(parseDecimal('1.005', 2, true)).toBe(101); // half away from zero, exactly
    expect(parseDecimal('1.005', 3, false)).toBe(1005);
    expect(parseDecimal('-1', 2, false)).toMatch(/Not a decimal/);
    expect(parseDecimal('1e3', 2, false)).toMatch(/Not a decimal/);
    expect(parseDecimal('1,5', 2, false)).toMatch(/Not a decimal/);
    expect(parseDecimal('', 2, false)).toMatch(/Not a decimal/);
    expect(parseOhlcvCsv('1,101.2345,101.2345,101.2345,101.2345,1', { round: true })[0]!.o).toBe(10123);
    expect(parseOhlcvCsv('1,101.2345,101.2345,101.2345,101.2345,1', { minorDigits: 4 })[0]!.o).toBe(1012345);
  });

  it('formats and parses ISO timestamps consistently', () => {
    for (const t of [0, 951782400000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 11, 31)]) {
      expect(parseTimestamp(formatIso(t))).toBe(t);
      expect(formatIso(t)).toBe(new Date(t).toISOString().replace('.000Z', 'Z'));
    }
  });
});

describe('every error path names the line, the column and a stable code', () => {
  it.each<[string, string, { line: number; code: CsvIssueCode; column?: string }[]]>([
    ['empty file', '', [{ line: 1, code: 'EMPTY' }]],
    ['only comments and a header', '# x\ntimestamp,open,high,low,close,volume\n', [{ line: 1, code: 'EMPTY' }]],
    ['wrong header', 'when,open,high,low,close,volume\n1,1,1,1,1,1', [{ line: 1, code: 'BAD_HEADER' }]],
    ['header in another order', 'timestamp,open,low,high,close,volume\n1,1,1,1,1,1', [{ line: 1, code: 'BAD_HEADER' }]],
    ['header with a missing column', 'timestamp,open,high,low,close\n', [{ line: 1, code: 'BAD_HEADER' }]],
    ['too few fields', '1,1,1,1,1', [{ line: 1, code: 'FIELD_COUNT' }]],
    ['too many fields', '1,1,1,1,1,1,1', [{ line: 1, code: 'FIELD_COUNT' }]],
    ['bad timestamp', 'yesterday,1,1,1,1,1', [{ line: 1, code: 'BAD_TIMESTAMP', column: 'timestamp' }]],
    ['impossible date', '2023-02-29T10:00:00Z,1,1,1,1,1', [{ line: 1, code: 'BAD_TIMESTAMP', column: 'timestamp' }]],
    ['impossible time', '2023-02-28T24:00:00Z,1,1,1,1,1', [{ line: 1, code: 'BAD_TIMESTAMP', column: 'timestamp' }]],
    ['bad zone', '2023-02-28T10:00:00+25:00,1,1,1,1,1', [{ line: 1, code: 'BAD_TIMESTAMP', column: 'timestamp' }]],
    ['negative epoch', '-5,1,1,1,1,1', [{ line: 1, code: 'BAD_TIMESTAMP', column: 'timestamp' }]],
    ['bad price', '1,abc,1,1,1,1', [{ line: 1, code: 'BAD_NUMBER', column: 'open' }]],
    ['too precise price', '1,1,1.001,1,1,1', [{ line: 1, code: 'TOO_PRECISE', column: 'high' }]],
    ['zero price', '1,1,1,0,1,1', [{ line: 1, code: 'OUT_OF_RANGE', column: 'low' }]],
    ['huge price', '1,1,1,1,99999999999999,1', [{ line: 1, code: 'OUT_OF_RANGE', column: 'close' }]],
    ['fractional volume', '1,1,1,1,1,2.5', [{ line: 1, code: 'BAD_NUMBER', column: 'volume' }]],
    ['negative volume', '1,1,1,1,1,-2', [{ line: 1, code: 'BAD_NUMBER', column: 'volume' }]],
    ['low above open', '1,1,2,1.5,2,1', [{ line: 1, code: 'INCONSISTENT_OHLC' }]],
    ['close above high', '1,1,2,1,3,1', [{ line: 1, code: 'INCONSISTENT_OHLC' }]],
    ['same timestamp twice', '60000,1,1,1,1,1\n60000,1,1,1,1,1', [{ line: 2, code: 'NOT_INCREASING', column: 'timestamp' }]],
    ['time going backwards', '60000,1,1,1,1,1\n# c\n0,1,1,1,1,1', [{ line: 3, code: 'NOT_INCREASING', column: 'timestamp' }]],
  ])('%s', (_name, text, want) => {
    expect(issues(text)).toEqual(want);
  });

  it('collects every bad line (and the message says where)', () => {
    const text = 'timestamp,open,high,low,close,volume\n1,1,1,1,1,1\n2,x,1,1,1,1\n3,1,1,1,1\n4,1,1,1,1,1\n5,1,2,3,1,1\n';
    let err: CsvError | undefined;
    try {
      parseOhlcvCsv(text);
    } catch (e) {
      err = e as CsvError;
    }
    expect(err).toBeInstanceOf(CsvError);
    expect(err!.issues.map((i) => [i.line, i.code])).toEqual([
      [3, 'BAD_NUMBER'],
      [4, 'FIELD_COUNT'],
      [6, 'INCONSISTENT_OHLC'],
    ]);
    expect(err!.first.line).toBe(3);
    expect(err!.message).toMatch(/^line 3 \(open\): Not a decimal number: "x"; line 4: Expected 6 fields/);
  });
});
