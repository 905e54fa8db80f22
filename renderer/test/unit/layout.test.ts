import { describe, expect, it } from 'vitest';
import { allPanels, panelDef, registerPanel } from '../../src/panels/registry.js';
import { DEFAULT_LAYOUT, addPanel, findPanel, movePanel, parseLayout, removePanel, resize, type Layout } from '../../src/workspace/layout.js';

const ids = (l: Layout) => l.columns.map((c) => c.panels.map((p) => p.id));

describe('workspace layout', () => {
  it('moves a panel above, below, and into a new column beside another', () => {
    const below = movePanel(DEFAULT_LAYOUT, 'account-1', 'chart-1', 'bottom');
    expect(ids(below)[1]).toEqual(['chart-1', 'account-1', 'blotter-1', 'positions-1']);
    expect(ids(below)[2]).toEqual(['ticket-1']);
    const above = movePanel(DEFAULT_LAYOUT, 'tape-1', 'ticket-1', 'top');
    expect(ids(above)[2]).toEqual(['tape-1', 'ticket-1', 'account-1']);
    const left = movePanel(DEFAULT_LAYOUT, 'tape-1', 'watchlist-1', 'left');
    expect(ids(left)[0]).toEqual(['tape-1']);
    expect(ids(left)[1]).toEqual(['watchlist-1']);
    expect(left.columns.length).toBe(4);
  });

  it('drops a column that becomes empty', () => {
    let l = removePanel(DEFAULT_LAYOUT, 'watchlist-1');
    l = removePanel(l, 'tape-1');
    expect(l.columns.length).toBe(2);
    expect(findPanel(l, 'chart-1')).toEqual({ col: 0, row: 0 });
  });

  it('adds a panel that wants its height as a column of its own, right of the widest, at its share of the width', () => {
    const l = addPanel(DEFAULT_LAYOUT, { id: 'l', kind: 'ladder', h: 1, params: {} }, 22);
    // right of the chart's column (the widest), the others kept in order
    expect(l.columns.map((c) => c.panels.map((p) => p.id))).toEqual([['watchlist-1', 'tape-1'], ['chart-1', 'blotter-1', 'positions-1'], ['l'], ['ticket-1', 'account-1']]);
    // taken out of the chart's column: the watchlist and the ticket keep their width
    expect(l.columns.map((c) => c.w)).toEqual([23, 31, 22, 24]);
    expect(l.columns[2]!.panels[0]!.h).toBe(100);
    // and the layout is one that reads back
    expect(parseLayout(JSON.stringify(l), () => true)).toEqual(l);
    // a second one: the chart's column would keep under 25%, so every column gives in proportion
    const m = addPanel(l, { id: 'm', kind: 'ladder', h: 1, params: {} }, 22);
    const total = m.columns.reduce((s, c) => s + c.w, 0);
    expect(m.columns.map((c) => c.panels[0]!.id)).toEqual(['watchlist-1', 'chart-1', 'm', 'l', 'ticket-1']);
    expect(m.columns[2]!.w / total).toBeCloseTo(0.22, 5);
    expect(m.columns[0]!.w / m.columns[4]!.w).toBeCloseTo(23 / 24, 5);
  });

  it('adds to the shortest column and resizes within limits', () => {
    const l = addPanel(DEFAULT_LAYOUT, { id: 'x', kind: 'tape', h: 1, params: {} });
    expect(findPanel(l, 'x')?.col).toBe(0);
    const r = resize(DEFAULT_LAYOUT, 0, undefined, 90);
    const total = r.columns.reduce((s, c) => s + c.w, 0);
    expect(r.columns[1]!.w / total).toBeGreaterThanOrEqual(0.079);
    expect(r.columns[0]!.w + r.columns[1]!.w).toBeCloseTo(DEFAULT_LAYOUT.columns[0]!.w + DEFAULT_LAYOUT.columns[1]!.w);
  });

  it('reads back what it saved and refuses junk or unknown panels', () => {
    const known = (k: string) => k !== 'gone';
    expect(parseLayout(JSON.stringify(DEFAULT_LAYOUT), known)).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('{"v":2}', known)).toBeUndefined();
    expect(parseLayout('not json', known)).toBeUndefined();
    const withGone = { v: 1, columns: [{ w: 1, panels: [{ id: 'a', kind: 'gone', h: 1, params: {} }] }, { w: 1, panels: [{ id: 'b', kind: 'chart', h: 1, params: {} }] }] };
    expect(ids(parseLayout(JSON.stringify(withGone), known)!)).toEqual([['b']]);
  });

  it('loads a panel saved under an alias as the panel it now is (the old trading chart opens the chart)', () => {
    registerPanel({ kind: 'chart', title: 'Chart', component: () => null });
    const saved = { v: 1, columns: [{ w: 1, panels: [{ id: 'tradechart-1', kind: 'tradechart', h: 1, params: { timeframe: '5m', ind: 'sma20' } }] }] };
    const l = parseLayout(JSON.stringify(saved), (k) => panelDef(k) !== undefined)!;
    expect(l.columns[0]!.panels[0]).toEqual({ id: 'tradechart-1', kind: 'chart', h: 1, params: { timeframe: '5m', ind: 'sma20' } });
    expect(panelDef('tradechart')?.kind).toBe('chart');
    expect(allPanels().map((d) => d.kind)).not.toContain('tradechart');
  });
});
