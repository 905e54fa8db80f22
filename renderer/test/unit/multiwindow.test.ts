import { afterEach, describe, expect, it, vi } from 'vitest';
import { LINKS_KEY, LinkStore, broadcastTransport, isLinkable, type KeyValueStore } from '../../src/links/groups.js';
import { panelDef, panelKind, registerPanel } from '../../src/panels/registry.js';
import { dockBackPanel, hubOpenRequest, popOutPanel, popoutFeatures, popoutUrl, setPoppedBounds, setPoppedParams, targetFromHubInfo, targetFromUrl, trackBounds } from '../../src/windows/popouts.js';
import { DEFAULT_LAYOUT, parseLayout, removePanel, setPanelParams, type Layout } from '../../src/workspace/layout.js';

const ids = (l: Layout) => l.columns.map((c) => c.panels.map((p) => p.id));

describe('a popped-out panel leaves the grid, persists with the layout and docks back where it was', () => {
  it('pops out and docks back into the same column and row', () => {
    const out = popOutPanel(DEFAULT_LAYOUT, 'chart-1');
    expect(ids(out)[1]).toEqual(['blotter-1', 'positions-1']);
    expect(out.popouts).toEqual([{ id: 'chart-1', kind: 'chart', h: 58, params: { timeframe: '1m' }, col: 1, row: 0 }]);
    const back = dockBackPanel(out, { id: 'chart-1', kind: 'chart', params: { timeframe: '5m', link: 'red' } });
    expect(ids(back)).toEqual(ids(DEFAULT_LAYOUT));
    expect(back.columns[1]!.panels[0]!.params).toEqual({ timeframe: '5m', link: 'red' });
    expect(back.popouts).toBeUndefined();
  });

  it('docks back at the height it had: its share of the column, the others keeping theirs', () => {
    const share = (l: Layout, col: number) => {
      const ps = l.columns[col]!.panels;
      const total = ps.reduce((s, p) => s + p.h, 0);
      return ps.map((p) => Math.round((p.h * 1000) / total) / 10);
    };
    expect(share(DEFAULT_LAYOUT, 1)).toEqual([58, 24, 18]);
    const back = dockBackPanel(popOutPanel(DEFAULT_LAYOUT, 'chart-1'), { id: 'chart-1', kind: 'chart', params: {} });
    expect(share(back, 1)).toEqual([58, 24, 18]);
    // a column whose heights do not add up to 100 (saved by an older version, or resized)
    const l: Layout = { v: 1, columns: [{ w: 100, panels: [{ id: 'a', kind: 'chart', h: 45, params: {} }, { id: 'b', kind: 'blotter', h: 15, params: {} }, { id: 'c', kind: 'positions', h: 30, params: {} }] }] };
    const out = popOutPanel(l, 'b');
    expect(share(dockBackPanel(out, { id: 'b', kind: 'blotter', params: {} }), 0)).toEqual([50, 16.7, 33.3]);
    // ... and the same after save + load
    expect(share(dockBackPanel(parseLayout(JSON.stringify(out), () => true)!, { id: 'b', kind: 'blotter', params: {} }), 0)).toEqual([50, 16.7, 33.3]);
  });

  it('keeps pop-outs through the other layout edits and through save + load', () => {
    let l = popOutPanel(DEFAULT_LAYOUT, 'ticket-1');
    l = removePanel(l, 'account-1'); // the ticket's whole column is now gone from the grid
    l = setPanelParams(l, 'watchlist-1', { link: 'blue' });
    expect(l.popouts?.map((p) => p.id)).toEqual(['ticket-1']);
    const loaded = parseLayout(JSON.stringify(l), () => true);
    expect(loaded).toEqual(l);
    // Its column is gone: it docks into a new column at the end.
    const back = dockBackPanel(loaded!, { id: 'ticket-1', kind: 'ticket', params: {} });
    expect(ids(back).at(-1)).toEqual(['ticket-1']);
  });

  it('a layout with every panel popped out still loads', () => {
    let l: Layout = { v: 1, columns: [{ w: 100, panels: [{ id: 'chart-1', kind: 'chart', h: 100, params: {} }] }] };
    l = popOutPanel(l, 'chart-1');
    expect(l.columns).toEqual([]);
    expect(parseLayout(JSON.stringify(l), () => true)).toEqual(l);
    expect(ids(dockBackPanel(l, { id: 'chart-1', kind: 'chart', params: {} }))).toEqual([['chart-1']]);
  });

  it('a dock request for a panel the layout does not know adds it; params reported by the window are kept', () => {
    const l = setPoppedParams(popOutPanel(DEFAULT_LAYOUT, 'tape-1'), 'tape-1', { link: 'green' });
    expect(l.popouts?.[0]?.params).toEqual({ link: 'green' });
    const added = dockBackPanel(DEFAULT_LAYOUT, { id: 'ladder-9', kind: 'ladder', params: {} });
    expect(added.columns.flatMap((c) => c.panels).some((p) => p.id === 'ladder-9')).toBe(true);
  });
});

describe('the pop-out window learns its panel from its URL (browser) or hub.info (desktop)', () => {
  it('round-trips panel, instance id and params through the URL the hub also reads', () => {
    const url = popoutUrl('http://127.0.0.1:4000/?x=1#frag', { pid: 'chart-7', kind: 'chart', params: { timeframe: '5m', sync: true, link: 'red', n: 3 } });
    const u = new URL(url);
    expect(u.searchParams.get('panel')).toBe('chart'); // the hub's panel kinds
    expect(u.searchParams.get('window')).toBe('chart-7');
    expect(u.searchParams.has('kind')).toBe(false);
    expect(u.hash).toBe('');
    expect(targetFromUrl(u.search)).toEqual({ pid: 'chart-7', kind: 'chart', params: { timeframe: '5m', sync: true, link: 'red', n: 3 } });
    // A registry kind the hub does not list rides in `kind`.
    const layouts = new URL(popoutUrl('http://127.0.0.1:4000/', { pid: 'layouts-1', kind: 'layouts', params: {} }));
    expect(layouts.searchParams.get('kind')).toBe('layouts');
    expect(targetFromUrl('')).toBeUndefined();
    expect(targetFromUrl('?window=main')).toBeUndefined();
  });

  it('reads a desktop pop-out from hub.info', () => {
    expect(targetFromHubInfo({ windowId: 'chart-ab12', panel: 'chart', params: { pid: 'chart-1', timeframe: '1h' } })).toEqual({ pid: 'chart-1', kind: 'chart', params: { timeframe: '1h' } });
    expect(targetFromHubInfo({ windowId: 'main', panel: 'workspace', params: {} })).toBeUndefined();
  });
});

describe('link groups without a hub: tabs of one origin stay in step over a BroadcastChannel', () => {
  const stores: LinkStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });

  const memoryStorage = (): KeyValueStore => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  };

  it('a symbol set in one tab reaches the other; a tab opened later starts from the stored state', async () => {
    const storage = memoryStorage();
    const a = new LinkStore(storage);
    const b = new LinkStore(storage);
    stores.push(a, b);
    a.attach(broadcastTransport(a, storage));
    b.attach(broadcastTransport(b, storage));
    a.set('red', { symbol: 'ACME' });
    expect(a.snapshot.groups.red?.symbol).toBe('ACME');
    await expect.poll(() => b.snapshot.groups.red?.symbol).toBe('ACME');
    b.set('red', { timeframe: '5m' });
    await expect.poll(() => a.snapshot.groups.red).toEqual({ symbol: 'ACME', timeframe: '5m' });
    expect(a.snapshot.groups.blue).toBeUndefined();
    expect(JSON.parse(storage.getItem(LINKS_KEY)!)).toEqual({ red: { symbol: 'ACME', timeframe: '5m' } });
    const later = new LinkStore(storage);
    stores.push(later);
    later.attach(broadcastTransport(later, storage));
    expect(later.snapshot.groups.red).toEqual({ symbol: 'ACME', timeframe: '5m' });
  });

  it('whether a group follows the interval is shared by the tabs too', async () => {
    const storage = memoryStorage();
    const a = new LinkStore(storage);
    const b = new LinkStore(storage);
    stores.push(a, b);
    a.setSyncTimeframe('blue', true);
    await expect.poll(() => b.snapshot.syncTimeframe.blue).toBe(true);
    a.setSyncTimeframe('blue', false);
    await expect.poll(() => b.snapshot.syncTimeframe.blue).toBeUndefined();
  });
});

describe('on the desktop a pop-out is a real window opened by the hub', () => {
  it('asks the hub (hub.window.open) for the panel, with the instance id and the registry kind in its params', () => {
    expect(hubOpenRequest({ pid: 'chart-1', kind: 'chart', params: { timeframe: '5m', link: 'red' } })).toEqual({ panel: 'chart', params: { timeframe: '5m', link: 'red', pid: 'chart-1' } });
    expect(hubOpenRequest({ pid: 'layouts-1', kind: 'layouts', params: {} })).toBeUndefined();
    // What the new window reads back from hub.info.
    expect(targetFromHubInfo({ windowId: 'w1', panel: 'chart', params: { pid: 'chart-2' } })).toEqual({ pid: 'chart-2', kind: 'chart', params: {} });
  });
});

describe('the old trading-chart kind ("tradechart") is only an alias of the chart', () => {
  it('a saved layout, a pop-out URL, a desktop pop-out and a pop-out request with it all mean the chart', () => {
    registerPanel({ kind: 'chart', title: 'Chart', component: () => null });
    const saved = {
      v: 1,
      columns: [{ w: 1, panels: [{ id: 'tradechart-1', kind: 'tradechart', h: 1, params: { timeframe: '5m' } }] }],
      popouts: [{ id: 'tradechart-2', kind: 'tradechart', h: 1, col: 0, row: 1, params: { link: 'red' } }],
    };
    const l = parseLayout(JSON.stringify(saved), (k) => panelDef(k) !== undefined)!;
    expect(l.columns[0]!.panels[0]!.kind).toBe('chart');
    expect(l.popouts?.[0]?.kind).toBe('chart');
    expect(panelKind('tradechart')).toBe('chart');
    expect(isLinkable('tradechart')).toBe(true);
    expect(targetFromUrl('?panel=chart&window=tradechart-7&kind=tradechart&timeframe=5m')).toEqual({ pid: 'tradechart-7', kind: 'chart', params: { timeframe: '5m' } });
    expect(targetFromHubInfo({ windowId: 'w1', panel: 'chart', params: { pid: 'tradechart-2', kind: 'tradechart' } })).toEqual({ pid: 'tradechart-2', kind: 'chart', params: {} });
    expect(hubOpenRequest({ pid: 'tradechart-2', kind: 'tradechart', params: {} })).toEqual({ panel: 'chart', params: { pid: 'tradechart-2' } });
    const u = new URL(popoutUrl('http://127.0.0.1:4000/', { pid: 'tradechart-2', kind: 'tradechart', params: {} }));
    expect([u.searchParams.get('panel'), u.searchParams.has('kind')]).toEqual(['chart', false]);
  });
});

describe('a pop-out window reopens where it was', () => {
  const at = { x: 1700, y: 120, width: 916, height: 668, innerWidth: 900, innerHeight: 600 };

  it('keeps its bounds in the layout, through save + load (junk bounds are dropped)', () => {
    const l = setPoppedBounds(popOutPanel(DEFAULT_LAYOUT, 'chart-1'), 'chart-1', at);
    expect(l.popouts?.[0]?.bounds).toEqual(at);
    expect(setPoppedBounds(l, 'chart-1', { ...at })).toBe(l); // unchanged: the same layout (no save)
    expect(setPoppedBounds(l, 'ticket-1', at)).toBe(l); // not popped out
    expect(parseLayout(JSON.stringify(l), () => true)?.popouts?.[0]?.bounds).toEqual(at);
    const junk = { ...l, popouts: [{ ...l.popouts![0]!, bounds: { x: 'a', y: 0, width: 10, height: 10 } }] };
    expect(parseLayout(JSON.stringify(junk), () => true)?.popouts?.[0]).not.toHaveProperty('bounds');
    // Docked back and popped again: a fresh window, no old place.
    expect(dockBackPanel(l, { id: 'chart-1', kind: 'chart', params: {} }).popouts).toBeUndefined();
  });

  it('a browser opens it with window.open features at its place and content size; the desktop asks the hub with its outer bounds', () => {
    expect(popoutFeatures('chart', { x: 80, y: 80 }, at)).toBe('popup,width=900,height=600,left=1700,top=120');
    expect(popoutFeatures('chart', { x: 80, y: 90 })).toBe('popup,width=980,height=640,left=80,top=90');
    expect(popoutFeatures('tradechart', { x: 80, y: 90 })).toBe('popup,width=980,height=640,left=80,top=90');
    expect(hubOpenRequest({ pid: 'chart-1', kind: 'chart', params: { link: 'red' } }, at)).toEqual({
      panel: 'chart',
      params: { link: 'red', pid: 'chart-1', winX: 1700, winY: 120, winW: 916, winH: 668 },
    });
    // The window's panel never sees them.
    expect(targetFromHubInfo({ windowId: 'w1', panel: 'chart', params: { pid: 'chart-1', link: 'red', winX: 1700, winY: 120, winW: 916, winH: 668 } })).toEqual({
      pid: 'chart-1',
      kind: 'chart',
      params: { link: 'red' },
    });
  });

  it('the pop-out reports where it is: at once, after a resize (throttled), when moved (polled), and once more when it stops', () => {
    vi.useFakeTimers();
    try {
      const listeners = new Map<string, () => void>();
      const win = {
        screenX: 100,
        screenY: 50,
        outerWidth: 500,
        outerHeight: 420,
        innerWidth: 500,
        innerHeight: 400,
        addEventListener: (t: string, f: () => void) => void listeners.set(t, f),
        removeEventListener: (t: string) => void listeners.delete(t),
      };
      const seen: object[] = [];
      const stop = trackBounds(win as never, (b) => seen.push(b), { throttleMs: 500, pollMs: 1000 });
      expect(seen).toEqual([{ x: 100, y: 50, width: 500, height: 420, innerWidth: 500, innerHeight: 400 }]);
      win.outerWidth = 600;
      win.innerWidth = 600;
      listeners.get('resize')!();
      listeners.get('resize')!();
      vi.advanceTimersByTime(499);
      expect(seen).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(seen).toHaveLength(2);
      expect(seen[1]).toMatchObject({ width: 600, innerWidth: 600 });
      vi.advanceTimersByTime(3000); // nothing moved: nothing reported
      expect(seen).toHaveLength(2);
      win.screenX = 1800; // moved to the other screen (no event)
      vi.advanceTimersByTime(1000);
      expect(seen[2]).toMatchObject({ x: 1800, y: 50 });
      win.screenY = 60;
      stop();
      expect(seen[3]).toMatchObject({ x: 1800, y: 60 });
      expect(listeners.size).toBe(0);
      vi.advanceTimersByTime(5000);
      expect(seen).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
