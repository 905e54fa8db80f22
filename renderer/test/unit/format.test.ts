import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatAvgPrice,
  formatBps,
  formatMoney,
  formatPrice,
  formatPriceChange,
  formatQty,
  formatVolume,
  parsePrice,
  parseQty,
  priceInput,
} from '../../src/format/num.js';

describe('prices and money are formatted exactly from integer minor units', () => {
  it('formats prices with two decimals and grouping', () => {
    expect(formatPrice(10050)).toBe('100.50');
    expect(formatPrice(5)).toBe('0.05');
    expect(formatPrice(0)).toBe('0.00');
    expect(formatPrice(123456789)).toBe('1,234,567.89');
    expect(formatPrice(-101)).toBe('-1.01');
    expect(formatPrice(null)).toBe('—');
  });

  it('formats money with sign options, including values a float would garble', () => {
    expect(formatMoney(-5)).toBe('-0.05');
    expect(formatMoney(1200, { sign: true })).toBe('+12.00');
    expect(formatMoney(0, { sign: true })).toBe('0.00');
    expect(formatMoney(-123456, { sign: true })).toBe('-1,234.56');
    // 0.1 + 0.2 style traps: 30 minor units is exactly 0.30
    expect(formatMoney(10 + 20)).toBe('0.30');
    // the largest safe integer keeps every digit
    expect(formatMoney(Number.MAX_SAFE_INTEGER)).toBe('90,071,992,547,409.91');
    expect(() => formatMoney(1.5)).toThrow(RangeError);
  });

  it('round-trips every safe price through the text the ticket shows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const r = parsePrice(priceInput(n));
        expect(r).toEqual({ ok: true, value: n });
        expect(formatPrice(n).replace(/,/g, '')).toBe(priceInput(n));
      }),
    );
  });

  it('formats changes, basis points, quantities and volume', () => {
    expect(formatPriceChange(50)).toBe('+0.50');
    expect(formatPriceChange(-125)).toBe('-1.25');
    expect(formatPriceChange(0)).toBe('0.00');
    expect(formatBps(123)).toBe('+1.23%');
    expect(formatBps(-5)).toBe('-0.05%');
    expect(formatBps(0)).toBe('0.00%');
    expect(formatQty(12500)).toBe('12,500');
    expect(formatQty(-300, true)).toBe('-300');
    expect(formatQty(300, true)).toBe('+300');
    expect(formatVolume(950)).toBe('950');
    expect(formatVolume(9_999)).toBe('9,999');
    expect(formatVolume(12_345)).toBe('12.3K');
    expect(formatVolume(4_569_999)).toBe('4.56M');
    expect(formatVolume(123_456_789)).toBe('123M');
    expect(formatVolume(2_000_000_000)).toBe('2.00B');
  });

  it('shows display-only average prices to the cent, or to 4 decimals when not exact', () => {
    expect(formatAvgPrice(10050)).toBe('100.50');
    expect(formatAvgPrice(10050.25)).toBe('100.5025');
    expect(formatAvgPrice(10000 + 1 / 3)).toBe('100.0033');
  });
});

describe('typed text becomes integers without floats', () => {
  it('parses prices', () => {
    expect(parsePrice('100.5')).toEqual({ ok: true, value: 10050 });
    expect(parsePrice('1,000')).toEqual({ ok: true, value: 100000 });
    expect(parsePrice('.07')).toEqual({ ok: true, value: 7 });
    expect(parsePrice('0.29')).toEqual({ ok: true, value: 29 }); // 0.29 * 100 = 28.999999999999996 as a float
    expect(parsePrice('100.500')).toEqual({ ok: true, value: 10050 });
    expect(parsePrice('100.505').ok).toBe(false);
    expect(parsePrice('-1').ok).toBe(false);
    expect(parsePrice('1e3').ok).toBe(false);
    expect(parsePrice('').ok).toBe(false);
    expect(parsePrice('.').ok).toBe(false);
  });

  it('parses whole-share quantities only', () => {
    expect(parseQty('1,500')).toEqual({ ok: true, value: 1500 });
    expect(parseQty('1.5').ok).toBe(false);
    expect(parseQty('-3').ok).toBe(false);
    expect(parseQty('99999999999999999999').ok).toBe(false);
  });

  it('accepts commas only as thousands separators', () => {
    // a decimal comma or a misplaced one is refused, not read as digits ("1,5" was 1.500,00)
    for (const t of ['1,5', '0,50', '12,34,5', '1,,000', ',100', '100,', '1,000,', '1,0000', '0,500', '1,000,00', '1.000,5', '1,5.5', '.5,0']) {
      expect(parsePrice(t), t).toEqual({ ok: false, error: 'Not a number' });
    }
    for (const t of ['1,5', '1,,0', ',100', '15,00', '1,000,0', '0,100', '100,']) {
      expect(parseQty(t), t).toEqual({ ok: false, error: 'Whole shares only' });
    }
    expect(parsePrice('1,000')).toEqual({ ok: true, value: 100000 });
    expect(parsePrice('1,000.5')).toEqual({ ok: true, value: 100050 });
    expect(parsePrice('12,345,678.90')).toEqual({ ok: true, value: 1234567890 });
    expect(parsePrice(' 1,000. ')).toEqual({ ok: true, value: 100000 });
    expect(parseQty('1,500')).toEqual({ ok: true, value: 1500 });
    expect(parseQty('12,500,000')).toEqual({ ok: true, value: 12500000 });
    expect(parseQty('007')).toEqual({ ok: true, value: 7 });
  });

  it('round-trips grouped prices, money and quantities (format, then parse, gives the same integer)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parsePrice(formatPrice(n))).toEqual({ ok: true, value: n });
        expect(parsePrice(formatMoney(n))).toEqual({ ok: true, value: n });
        expect(parseQty(formatQty(n))).toEqual({ ok: true, value: n });
      }),
    );
  });

  it('refuses any text with a comma that is not thousands grouping', () => {
    const grouped = /^(?:\d+|[1-9]\d{0,2}(?:,\d{3})+)(?:\.\d*)?$|^\.\d+$/;
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9,.]{1,12}$/), (t) => {
        if (!t.includes(',')) return;
        const p = parsePrice(t);
        if (p.ok) expect(t).toMatch(grouped);
        const q = parseQty(t);
        if (q.ok) expect(t).toMatch(/^[1-9]\d{0,2}(?:,\d{3})+$/);
      }),
    );
  });
});
