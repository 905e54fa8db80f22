import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDrawing,
  dragDrawing,
  drawingsKey,
  EMPTY_DRAWINGS,
  hitTest,
  hitTestDrawing,
  loadDrawings,
  makeDrawing,
  moveDrawing,
  parseDrawings,
  removeDrawing,
  removeSelected,
  saveDrawings,
  selectDrawing,
  serializeDrawings,
  type CoordinateMapper,
  type Drawing,
  type KeyValueStore,
} from '../../../src/power/drawings.js';

// 1 px = 1 minute horizontally, 1 px = 1 price unit vertically, price 10 000 at y = 0 (higher prices up).
const T0 = 1_700_000_000_000;
const MIN = 60_000;
const mapper: CoordinateMapper = {
  timeToX: (t) => (t - T0) / MIN,
  priceToY: (p) => 10_000 - p,
  xToTime: (x) => T0 + x * MIN,
  yToPrice: (y) => 10_000 - y,
};
const at = (x: number, y: number) => ({ t: T0 + x * MIN, p: 10_000 - y });

describe('hit-testing in pixels', () => {
  it('horizontal line: within tolerance of its y anywhere along x', () => {
    const d = makeDrawing('h', 'hline', at(0, 100));
    expect(hitTestDrawing(d, 500, 103, 4, mapper)).toEqual({ id: 'h', part: 'body', distance: 3 });
    expect(hitTestDrawing(d, -50, 96, 4, mapper)).toMatchObject({ part: 'body' });
    expect(hitTestDrawing(d, 0, 105, 4, mapper)).toBeNull();
  });

  it('trend line: the segment, its end handles, and not its extension', () => {
    const d = makeDrawing('t', 'trend', at(0, 0), at(100, 100));
    expect(hitTestDrawing(d, 50, 52, 3, mapper)).toMatchObject({ part: 'body' });
    expect(hitTestDrawing(d, 1, 1, 3, mapper)).toMatchObject({ part: 'a' });
    expect(hitTestDrawing(d, 99, 100, 3, mapper)).toMatchObject({ part: 'b' });
    expect(hitTestDrawing(d, 150, 150, 3, mapper)).toBeNull(); // on the line's extension, past the end
    expect(hitTestDrawing(d, 50, 60, 3, mapper)).toBeNull();
  });

  it('rectangle: inside, on the border within tolerance, corner handles; not outside', () => {
    const d = makeDrawing('r', 'rect', at(10, 10), at(50, 40));
    expect(hitTestDrawing(d, 30, 25, 3, mapper)).toEqual({ id: 'r', part: 'body', distance: 0 });
    expect(hitTestDrawing(d, 52, 25, 3, mapper)).toMatchObject({ part: 'body', distance: 2 });
    expect(hitTestDrawing(d, 11, 9, 3, mapper)).toMatchObject({ part: 'a' });
    expect(hitTestDrawing(d, 50, 41, 3, mapper)).toMatchObject({ part: 'b' });
    expect(hitTestDrawing(d, 60, 25, 3, mapper)).toBeNull();
  });

  it('text: its measured box above the anchor', () => {
    const d = makeDrawing('x', 'text', at(10, 50), undefined, { text: 'Breakout' });
    const m = { ...mapper, measureText: (s: string) => ({ width: s.length * 10, height: 20 }) };
    expect(hitTestDrawing(d, 85, 40, 2, m)).toMatchObject({ part: 'body' });
    expect(hitTestDrawing(d, 95, 40, 2, m)).toBeNull();
    expect(hitTestDrawing(d, 20, 25, 2, m)).toBeNull();
  });

  it('off-scale anchors are never hit', () => {
    const blind: CoordinateMapper = { ...mapper, timeToX: () => null };
    expect(hitTestDrawing(makeDrawing('t', 'trend', at(0, 0), at(9, 9)), 0, 0, 5, blind)).toBeNull();
  });

  it('picks the nearest drawing, the newest on ties, and the selected one first', () => {
    let s = addDrawing(EMPTY_DRAWINGS, makeDrawing('low', 'hline', at(0, 100)), false);
    s = addDrawing(s, makeDrawing('high', 'hline', at(0, 104)), false);
    expect(hitTest(s, 0, 101, 5, mapper)?.id).toBe('low');
    expect(hitTest(s, 0, 102, 5, mapper)?.id).toBe('high'); // tie: the newer one is on top
    s = selectDrawing(s, 'low');
    expect(hitTest(s, 0, 103, 5, mapper)?.id).toBe('low');
    expect(hitTest(s, 0, 200, 5, mapper)).toBeNull();
  });

  it('property: a point on a trend segment is always a hit, a point far from it never', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -500, max: 500 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (x0, y0, x1, y1, u) => {
          const d = makeDrawing('t', 'trend', at(x0, y0), at(x1, y1));
          const px = x0 + u * (x1 - x0);
          const py = y0 + u * (y1 - y0);
          expect(hitTestDrawing(d, px, py, 1, mapper)).not.toBeNull();
          // 10 px beyond the farther end along x (and both ends) is out of a 3 px tolerance.
          const far = Math.max(Math.abs(x0), Math.abs(x1)) + Math.max(Math.abs(y0), Math.abs(y1)) + 20;
          expect(hitTestDrawing(d, far, far, 3, mapper)).toBeNull();
        },
      ),
    );
  });
});

describe('editing', () => {
  it('create selects, select ignores unknown ids, delete clears the selection', () => {
    let s = addDrawing(EMPTY_DRAWINGS, makeDrawing('a', 'hline', at(0, 1)));
    expect(s.selectedId).toBe('a');
    s = addDrawing(s, makeDrawing('b', 'rect', at(0, 0), at(5, 5)));
    expect(selectDrawing(s, 'nope')).toBe(s);
    expect(() => addDrawing(s, makeDrawing('a', 'hline', at(0, 1)))).toThrow();
    s = removeSelected(s);
    expect(s.drawings.map((d) => d.id)).toEqual(['a']);
    expect(s.selectedId).toBeNull();
    expect(removeDrawing(s, 'zzz')).toBe(s);
    expect(removeSelected(s)).toBe(s);
  });

  it('moves a whole drawing or one anchor', () => {
    const t = makeDrawing('t', 'trend', { t: 1000, p: 100 }, { t: 2000, p: 200 });
    expect(moveDrawing(t, 'body', 10, 5)).toMatchObject({ a: { t: 1010, p: 105 }, b: { t: 2010, p: 205 } });
    expect(moveDrawing(t, 'b', 10, 5)).toMatchObject({ a: { t: 1000, p: 100 }, b: { t: 2010, p: 205 } });
    expect(moveDrawing(t, 'a', -10, -5)).toMatchObject({ a: { t: 990, p: 95 }, b: { t: 2000, p: 200 } });
    expect(moveDrawing(makeDrawing('h', 'hline', { t: 0, p: 50 }), 'body', 999, 7)).toMatchObject({ p: 57 });
  });

  it('a drag moves by the pixel difference mapped to data space, relative to the start', () => {
    const s = addDrawing(EMPTY_DRAWINGS, makeDrawing('r', 'rect', at(10, 10), at(50, 40)));
    const hit = hitTest(s, 30, 25, 3, mapper)!;
    const moved = dragDrawing(s, hit, { x: 30, y: 25 }, { x: 35, y: 15 }, mapper);
    expect(moved.drawings[0]).toMatchObject({ a: at(15, 0), b: at(55, 30) });
    // Dragging further from the same start does not accumulate error.
    const again = dragDrawing(s, hit, { x: 30, y: 25 }, { x: 30, y: 25 }, mapper);
    expect(again).toBe(s);
  });
});

describe('storage per symbol', () => {
  class MemStore implements KeyValueStore {
    m = new Map<string, string>();
    getItem = (k: string) => this.m.get(k) ?? null;
    setItem = (k: string, v: string) => void this.m.set(k, v);
    removeItem = (k: string) => void this.m.delete(k);
  }
  const all: Drawing[] = [
    makeDrawing('1', 'hline', { t: 0, p: 10_050.5 }),
    makeDrawing('2', 'trend', { t: 1, p: 2 }, { t: 3, p: 4 }),
    makeDrawing('3', 'rect', { t: 5, p: 6 }, { t: 7, p: 8 }, { style: { color: '#00ff00', width: 2 } }),
    makeDrawing('4', 'text', { t: 9, p: 10 }, undefined, { text: 'Gap fill' }),
  ];

  it('round-trips every kind through versioned JSON, per symbol', () => {
    const store = new MemStore();
    let s = EMPTY_DRAWINGS;
    for (const d of all) s = addDrawing(s, d);
    saveDrawings(store, 'ACME', s);
    expect(JSON.parse(store.getItem(drawingsKey('ACME'))!)).toMatchObject({ version: 1, symbol: 'ACME' });
    expect(loadDrawings(store, 'ACME')).toEqual({ drawings: all, selectedId: null });
    expect(loadDrawings(store, 'OTHER')).toEqual(EMPTY_DRAWINGS);
    saveDrawings(store, 'ACME', EMPTY_DRAWINGS);
    expect(store.m.size).toBe(0);
  });

  it('refuses malformed, foreign-symbol, wrong-version and duplicate-id data with a reason', () => {
    expect(parseDrawings('ACME', '{nope')).toMatchObject({ ok: false, error: expect.stringContaining('Not JSON') });
    expect(parseDrawings('ACME', serializeDrawings('XYZ', { drawings: all, selectedId: null }))).toMatchObject({ ok: false });
    expect(parseDrawings('ACME', JSON.stringify({ version: 2, symbol: 'ACME', drawings: [] })).ok).toBe(false);
    const dup = JSON.stringify({ version: 1, symbol: 'ACME', drawings: [all[0], all[0]] });
    expect(parseDrawings('ACME', dup)).toMatchObject({ ok: false, error: expect.stringContaining('unique') });
    const bad = JSON.stringify({ version: 1, symbol: 'ACME', drawings: [{ ...all[1], a: { t: 1, p: 'x' } }] });
    expect(parseDrawings('ACME', bad).ok).toBe(false);
    const errors: string[] = [];
    const store = new MemStore();
    store.setItem(drawingsKey('ACME'), '[]');
    expect(loadDrawings(store, 'ACME', (e) => errors.push(e))).toEqual(EMPTY_DRAWINGS);
    expect(errors).toHaveLength(1);
  });
});
