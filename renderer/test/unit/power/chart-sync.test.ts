import { describe, expect, it } from 'vitest';
import { bucketOf, SyncBus, type SyncEvent } from '../../../src/power/chartSync.js';

describe('SyncBus', () => {
  it('delivers to the other members of the group only, never back to the sender or to other groups', () => {
    const bus = new SyncBus();
    const got: Record<string, SyncEvent[]> = { a: [], b: [], c: [], x: [] };
    const a = bus.join('g', (e) => got.a!.push(e));
    bus.join('g', (e) => got.b!.push(e));
    const c = bus.join('g', (e) => got.c!.push(e));
    bus.join('other', (e) => got.x!.push(e));
    a.publish({ kind: 'crosshair', time: 60_000, price: 100 });
    expect(got).toEqual({ a: [], b: [{ kind: 'crosshair', time: 60_000, price: 100 }], c: [{ kind: 'crosshair', time: 60_000, price: 100 }], x: [] });
    c.leave();
    a.publish({ kind: 'crosshairOff' });
    expect(got.c).toHaveLength(1);
    expect(got.b).toHaveLength(2);
    expect(bus.size('g')).toBe(2);
  });
  it('maps a time to the bar of another timeframe', () => {
    expect(bucketOf(3_725_000, 60_000)).toBe(3_720_000);
    expect(bucketOf(3_725_000, 3_600_000)).toBe(3_600_000);
  });
});
