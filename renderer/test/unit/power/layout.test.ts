import { describe, expect, it } from 'vitest';
import {
  applyHubLinks,
  changeSymbol,
  deleteLayout,
  dockBack,
  freeCell,
  LayoutSchema,
  multiChartLayout,
  panelsInGroup,
  panelSymbol,
  panelTimeframe,
  parseLayout,
  parseStore,
  popOut,
  renameLayout,
  restorePopouts,
  saveLayout,
  serializeStore,
  setLink,
  type Layout,
} from '../../../src/power/layout.js';

const base = (): Layout => ({
  version: 2,
  name: 'Day',
  grid: { cols: 3, rows: 2 },
  panels: [
    { id: 'c1', kind: 'chart', params: { symbol: 'ACME', timeframe: '5m' }, cell: { col: 0, row: 0, colSpan: 2, rowSpan: 2 }, link: 'red', popout: null },
    { id: 'l1', kind: 'ladder', params: {}, cell: { col: 2, row: 0, colSpan: 1, rowSpan: 1 }, link: 'red', popout: null },
    { id: 't1', kind: 'ticket', params: { symbol: 'XYZ' }, cell: { col: 2, row: 1, colSpan: 1, rowSpan: 1 }, link: null, popout: null },
  ],
  groups: { red: { symbol: 'ACME', timeframe: '5m', syncTimeframe: true } },
  sync: { crosshair: false, time: false },
});

describe('validation', () => {
  it('accepts a good layout', () => {
    expect(parseLayout(base())).toMatchObject({ ok: true, migrated: false });
  });
  it('rejects overlaps, panels outside the grid, duplicate ids, bad colours and unknown versions', () => {
    const l = base();
    const overlap = { ...l, panels: [...l.panels, { ...l.panels[2]!, id: 'x', cell: { col: 1, row: 1, colSpan: 1, rowSpan: 1 } }] };
    expect(parseLayout(overlap)).toMatchObject({ ok: false, error: expect.stringContaining('overlap') });
    const outside = { ...l, panels: [{ ...l.panels[0]!, cell: { col: 2, row: 0, colSpan: 2, rowSpan: 1 } }] };
    expect(parseLayout(outside)).toMatchObject({ ok: false, error: expect.stringContaining('does not fit') });
    expect(parseLayout({ ...l, panels: [l.panels[1], l.panels[1]] })).toMatchObject({ ok: false, error: expect.stringContaining('Duplicate') });
    expect(parseLayout({ ...l, panels: [{ ...l.panels[1]!, link: 'pink' }] }).ok).toBe(false);
    expect(parseLayout({ ...l, version: 3 })).toMatchObject({ ok: false, error: 'Unknown layout version 3' });
    expect(parseLayout(null).ok).toBe(false);
  });
  it('a popped-out panel does not occupy its cell', () => {
    const l = popOut(base(), 'l1', { x: 0, y: 0, width: 400, height: 600 }, 'd2');
    const moved = { ...l, panels: [...l.panels, { ...l.panels[2]!, id: 'n', cell: { col: 2, row: 0, colSpan: 1, rowSpan: 1 } }] };
    expect(parseLayout(moved).ok).toBe(true);
  });
});

describe('migration from version 1', () => {
  it('maps x/y/w/h to cells, links to groups taking the first linked symbol, no pop-outs', () => {
    const v1 = {
      version: 1,
      name: 'Old',
      columns: 2,
      rows: 2,
      panels: [
        { id: 'a', kind: 'chart', x: 0, y: 0, w: 1, h: 2, symbol: 'ACME', linked: 'green' },
        { id: 'b', kind: 'ladder', x: 1, y: 0, w: 1, h: 1, linked: 'green' },
        { id: 'c', kind: 'blotter', x: 1, y: 1, w: 1, h: 1 },
      ],
    };
    const r = parseLayout(v1);
    expect(r).toMatchObject({ ok: true, migrated: true });
    if (!r.ok) return;
    expect(r.layout.version).toBe(2);
    expect(r.layout.grid).toEqual({ cols: 2, rows: 2 });
    expect(r.layout.panels[0]).toEqual({ id: 'a', kind: 'chart', params: { symbol: 'ACME' }, cell: { col: 0, row: 0, colSpan: 1, rowSpan: 2 }, link: 'green', popout: null });
    expect(r.layout.panels[2]).toMatchObject({ link: null, params: {} });
    expect(r.layout.groups).toEqual({ green: { symbol: 'ACME', syncTimeframe: false } });
    expect(panelSymbol(r.layout, 'b')).toBe('ACME');
    expect(LayoutSchema.safeParse(r.layout).success).toBe(true);
  });
  it('a v1 layout that is invalid after migration is refused', () => {
    const v1 = { version: 1, name: 'Bad', columns: 1, rows: 1, panels: [{ id: 'a', kind: 'chart', x: 0, y: 0, w: 2, h: 1 }] };
    expect(parseLayout(v1).ok).toBe(false);
  });
});

describe('link groups', () => {
  it('a linked panel changing symbol moves the whole group and says what to tell the hub', () => {
    const { layout, link } = changeSymbol(base(), 'l1', 'BOLT', '15m');
    expect(link).toEqual({ group: 'red', symbol: 'BOLT', timeframe: '15m' });
    expect(panelSymbol(layout, 'c1')).toBe('BOLT');
    expect(panelTimeframe(layout, 'c1')).toBe('15m');
    expect(panelSymbol(layout, 't1')).toBe('XYZ');
  });
  it('without timeframe sync only the symbol follows', () => {
    const l = { ...base(), groups: { red: { symbol: 'ACME', syncTimeframe: false } } };
    const { layout, link } = changeSymbol(l, 'l1', 'BOLT', '15m');
    expect(link).toEqual({ group: 'red', symbol: 'BOLT' });
    expect(panelTimeframe(layout, 'c1')).toBe('5m');
    expect(panelTimeframe(layout, 'l1')).toBe('15m');
  });
  it('an unlinked panel changes alone; linking adopts the group symbol; hub pushes apply', () => {
    const a = changeSymbol(base(), 't1', 'QQQ');
    expect(a.link).toBeNull();
    expect(panelSymbol(a.layout, 't1')).toBe('QQQ');
    expect(panelSymbol(a.layout, 'c1')).toBe('ACME');
    const linked = setLink(a.layout, 't1', 'red');
    expect(panelSymbol(linked, 't1')).toBe('ACME');
    expect(panelsInGroup(linked, 'red').map((p) => p.id)).toEqual(['c1', 'l1', 't1']);
    const pushed = applyHubLinks(linked, { red: { symbol: 'ZED' }, blue: { symbol: 'B' } });
    expect(panelSymbol(pushed, 't1')).toBe('ZED');
    expect(pushed.groups.blue).toEqual({ symbol: 'B', syncTimeframe: false });
    expect(() => changeSymbol(base(), 't1', 'bad symbol')).toThrow();
  });
});

describe('pop-outs', () => {
  const displays = [
    { id: 'd1', bounds: { x: 0, y: 0, width: 1920, height: 1080 }, primary: true },
    { id: 'd2', bounds: { x: 1920, y: 0, width: 1280, height: 1024 } },
  ];
  it('restore on the same display, clamped inside it', () => {
    let l = popOut(base(), 'l1', { x: 2900, y: 900, width: 400, height: 600 }, 'd2');
    l = popOut(l, 'c1', { x: 100, y: 100, width: 800, height: 500 }, 'd1');
    expect(restorePopouts(l, displays)).toEqual([
      { panel: l.panels[0], display: 'd1', bounds: { x: 100, y: 100, width: 800, height: 500 } },
      { panel: l.panels[1], display: 'd2', bounds: { x: 2800, y: 424, width: 400, height: 600 } },
    ]);
  });
  it('a vanished display falls back to the primary one, never off screen', () => {
    const l = popOut(base(), 'l1', { x: 5000, y: 3000, width: 4000, height: 600 }, 'gone');
    const [r] = restorePopouts(l, displays);
    expect(r).toMatchObject({ display: 'd1', bounds: { x: 0, y: 480, width: 1920, height: 600 } });
    expect(restorePopouts(l, [])).toEqual([]);
  });
  it('dock back into the old cell, or the first free one, or refuse', () => {
    const out = popOut(base(), 'l1', { x: 0, y: 0, width: 400, height: 600 }, 'd1');
    expect(dockBack(out, 'l1').panels[1]).toMatchObject({ popout: null, cell: { col: 2, row: 0 } });
    expect(dockBack(base(), 'l1')).toEqual(base());
    // Something took its cell meanwhile; the grid grows by a row so there is room elsewhere.
    const taken: Layout = { ...out, grid: { cols: 3, rows: 3 }, panels: [...out.panels, { ...out.panels[2]!, id: 'n', cell: { col: 2, row: 0, colSpan: 1, rowSpan: 1 } }] };
    expect(dockBack(taken, 'l1').panels[1]!.cell).toEqual({ col: 0, row: 2, colSpan: 1, rowSpan: 1 });
    const full: Layout = { ...taken, grid: { cols: 3, rows: 2 } };
    expect(() => dockBack(full, 'l1')).toThrow(/No free cell/);
    expect(freeCell(base(), 1, 1)).toBeNull();
  });
});

describe('named layouts', () => {
  it('save, overwrite, rename, delete, and survive a round trip', () => {
    let s = saveLayout({ active: null, layouts: [] }, base());
    s = saveLayout(s, multiChartLayout('Four', 4, 'ACME'));
    expect(s.active).toBe('Four');
    s = saveLayout(s, { ...base(), grid: { cols: 4, rows: 2 } });
    expect(s.layouts.map((l) => l.name)).toEqual(['Day', 'Four']);
    expect(s.layouts[0]!.grid.cols).toBe(4);
    s = renameLayout(s, 'Four', 'Grid');
    expect(() => renameLayout(s, 'Grid', 'Day')).toThrow();
    const { store, errors } = parseStore(serializeStore(s));
    expect(errors).toEqual([]);
    expect(store).toEqual(s);
    s = deleteLayout(s, 'Day');
    expect(s).toMatchObject({ active: 'Grid', layouts: [{ name: 'Grid' }] });
    expect(() => saveLayout(s, { ...base(), name: '' })).toThrow();
  });
  it('a stored collection keeps readable layouts and reports the rest', () => {
    const json = JSON.stringify({ version: 1, active: 'Bad', layouts: [base(), { version: 2, name: 'Bad' }] });
    const { store, errors } = parseStore(json);
    expect(store.layouts.map((l) => l.name)).toEqual(['Day']);
    expect(store.active).toBe('Day');
    expect(errors).toHaveLength(1);
    expect(parseStore('nope').errors[0]).toMatch(/Not JSON/);
  });
  it('multi-chart presets: 2 side by side or 2×2, linked, crosshair and time synced', () => {
    const two = multiChartLayout('Two', 2, 'ACME');
    expect(two.grid).toEqual({ cols: 2, rows: 1 });
    const four = multiChartLayout('Four', 4, 'ACME');
    expect(four.panels.map((p) => [p.cell.col, p.cell.row])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
    expect(four.panels.every((p) => panelSymbol(four, p.id) === 'ACME')).toBe(true);
    expect(four.panels.map((p) => panelTimeframe(four, p.id))).toEqual(['1m', '5m', '15m', '1h']);
    expect(four.sync).toEqual({ crosshair: true, time: true });
  });
});
