import { TickMarkType, type Time } from 'lightweight-charts';
import { describe, expect, it } from 'vitest';
import { tickMarkLabel } from '../../../src/power/chartOverlays.js';

describe('time-axis labels', () => {
  const t = (iso: string) => (Date.parse(iso) / 1000) as Time;

  it('label each tick kind in UTC, as the chart times are', () => {
    const at = t('2026-12-05T04:05:09Z');
    expect(tickMarkLabel(at, TickMarkType.Year)).toBe('2026');
    expect(tickMarkLabel(at, TickMarkType.Month)).toBe('Dec');
    expect(tickMarkLabel(at, TickMarkType.DayOfMonth)).toBe('5');
    expect(tickMarkLabel(at, TickMarkType.Time)).toBe('04:05');
    expect(tickMarkLabel(at, TickMarkType.TimeWithSeconds)).toBe('04:05:09');
    expect(tickMarkLabel(t('2027-01-01T23:59:00Z'), TickMarkType.Time)).toBe('23:59');
  });

  it('match what the library would print by default (en-US, UTC fields), the midnight hour as 00 (its hour12: false prints 24)', () => {
    expect(tickMarkLabel(t('2026-03-01T00:00:00Z'), TickMarkType.Time)).toBe('00:00');
    expect(tickMarkLabel(t('2026-03-01T00:30:00Z'), TickMarkType.Time)).toBe('00:30');
    for (const iso of ['2026-03-01T00:01:00Z', '2026-07-15T13:07:45Z', '2025-12-31T23:59:59Z', '2026-02-28T09:30:00Z']) {
      const at = t(iso);
      const d = new Date(iso);
      const local = new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
      expect(tickMarkLabel(at, TickMarkType.Month)).toBe(local.toLocaleString('en-US', { month: 'short' }));
      expect(tickMarkLabel(at, TickMarkType.Time)).toBe(local.toLocaleString('en-US', { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }));
    }
  });

  it('leave non-numeric times to the library', () => {
    expect(tickMarkLabel('2026-12-05' as Time, TickMarkType.DayOfMonth)).toBeNull();
  });
});
