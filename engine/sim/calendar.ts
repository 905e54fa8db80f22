/**
 * The simulated exchange's trading calendar: one session per weekday, between fixed UTC times of day.
 * Pure arithmetic on epoch milliseconds (no Date, no time zones): 1970-01-01 was a Thursday.
 *
 * The default session is 14:30-21:00 UTC (6.5 hours, 390 one-minute bars; 09:30-16:00 in New York in
 * winter). A session must not cross midnight UTC so that the engine's daily candle (a UTC day) is exactly
 * one session.
 */
import type { Timestamp } from '../core/types.js';

export const MS_PER_DAY = 86_400_000;
export const MS_PER_MINUTE = 60_000;

export interface CalendarSpec {
  /** Session open, ms after midnight UTC. Default 14:30. */
  openMs?: number;
  /** Session close, ms after midnight UTC (after openMs, at most 24:00). Default 21:00. */
  closeMs?: number;
  /** Trading weekdays, 0 = Sunday ... 6 = Saturday. Default Monday to Friday. */
  weekdays?: readonly number[];
}

export class Calendar {
  readonly openMs: number;
  readonly closeMs: number;
  readonly sessionMs: number;
  private readonly days: boolean[];

  constructor(spec: CalendarSpec = {}) {
    this.openMs = spec.openMs ?? 14.5 * 3_600_000;
    this.closeMs = spec.closeMs ?? 21 * 3_600_000;
    if (!Number.isSafeInteger(this.openMs) || !Number.isSafeInteger(this.closeMs) || this.openMs < 0 || this.closeMs > MS_PER_DAY || this.closeMs <= this.openMs)
      throw new RangeError('Calendar: need 0 <= openMs < closeMs <= 24h, whole milliseconds');
    if (this.openMs % MS_PER_MINUTE !== 0 || this.closeMs % MS_PER_MINUTE !== 0)
      throw new RangeError('Calendar: open and close must be on whole minutes');
    this.sessionMs = this.closeMs - this.openMs;
    const wd = spec.weekdays ?? [1, 2, 3, 4, 5];
    this.days = [0, 1, 2, 3, 4, 5, 6].map((d) => wd.includes(d));
    if (!this.days.some((x) => x)) throw new RangeError('Calendar: no trading weekdays');
  }

  /** Day number (days since the epoch) of a timestamp. */
  static dayOf(ts: Timestamp): number {
    return Math.floor(ts / MS_PER_DAY);
  }

  /** Weekday of a day number, 0 = Sunday. */
  static weekday(day: number): number {
    return (((day + 4) % 7) + 7) % 7;
  }

  isTradingDay(day: number): boolean {
    return this.days[Calendar.weekday(day)]!;
  }

  /** Open time of the session on a day number (whether or not the day trades). */
  openOf(day: number): Timestamp {
    return day * MS_PER_DAY + this.openMs;
  }

  closeOf(day: number): Timestamp {
    return day * MS_PER_DAY + this.closeMs;
  }

  /** True when ts is inside a session: open <= ts < close on a trading day. */
  isOpen(ts: Timestamp): boolean {
    const day = Calendar.dayOf(ts);
    const t = ts - day * MS_PER_DAY;
    return this.isTradingDay(day) && t >= this.openMs && t < this.closeMs;
  }

  /** The open of the first session whose open is at or after ts. */
  nextOpen(ts: Timestamp): Timestamp {
    let day = Calendar.dayOf(ts);
    if (ts > this.openOf(day)) day++;
    while (!this.isTradingDay(day)) day++;
    return this.openOf(day);
  }

  /** The open of the last session whose open is strictly before ts. */
  prevOpen(ts: Timestamp): Timestamp {
    let day = Calendar.dayOf(ts);
    if (ts <= this.openOf(day)) day--;
    while (!this.isTradingDay(day)) day--;
    return this.openOf(day);
  }

  /** The opens of the `n` sessions before the session containing or following ts, oldest first. */
  sessionsBefore(ts: Timestamp, n: number): Timestamp[] {
    const out: Timestamp[] = [];
    let t = this.isOpen(ts) ? this.prevOpen(ts + 1) : this.nextOpen(ts);
    for (let i = 0; i < n; i++) {
      t = this.prevOpen(t);
      out.push(t);
    }
    return out.reverse();
  }
}
