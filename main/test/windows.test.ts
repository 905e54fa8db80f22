/** Window state (bounds and display clamped to the screens present), pop-out bookkeeping, single instance, menu. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CREDITS, aboutText, menuTemplate } from '../src/menu.js';
import { MAX_POP_OUTS, WindowRegistry, loadOpenPopOuts, saveOpenPopOuts } from '../src/windows/registry.js';
import { focusFirstInstance, type FocusableWindow } from '../src/windows/single-instance.js';
import { MIN_SIZES, WindowStateStore, boundsFromParams, clampToArea, minSizeOf, restoreWindowState, type DisplayLike } from '../src/windows/state.js';
import { tempDir } from './helpers.js';

const laptop: DisplayLike = { id: 1, workArea: { x: 0, y: 25, width: 1440, height: 875 } };
const monitor: DisplayLike = { id: 2, workArea: { x: 1440, y: 0, width: 2560, height: 1440 } };
const DEF = { width: 1200, height: 800 };

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

describe('window state', () => {
  it('takes the bounds a restored layout asks for out of the pop-out params', () => {
    expect(boundsFromParams({ pid: 'chart-1', link: 'red', winX: 2000, winY: 120, winW: 900, winH: 600 })).toEqual({
      bounds: { x: 2000, y: 120, width: 900, height: 600 },
      params: { pid: 'chart-1', link: 'red' },
    });
    // Not all four, or not a size: no bounds (the kind's last place is used), and the keys never reach the panel.
    expect(boundsFromParams({ pid: 'chart-1', winX: 10, winY: 10, winW: 900 })).toEqual({ bounds: undefined, params: { pid: 'chart-1' } });
    expect(boundsFromParams({ winX: 10, winY: 10, winW: 0, winH: 600 }).bounds).toBeUndefined();
    expect(boundsFromParams({ winX: '10', winY: 10, winW: 900, winH: 600 }).bounds).toBeUndefined();
    // Restored through the same clamping as a saved window: on the display it overlaps, fully visible.
    const b = boundsFromParams({ winX: 3800, winY: 1300, winW: 900, winH: 600 }).bounds!;
    expect(restoreWindowState({ bounds: b }, [laptop, monitor], DEF, 1).bounds).toEqual({ x: 3100, y: 840, width: 900, height: 600 });
  });

  it('restores a window on the display it was on', () => {
    const r = restoreWindowState({ bounds: { x: 2000, y: 100, width: 1600, height: 1000 }, displayId: 2, maximized: true }, [laptop, monitor], DEF, 1);
    expect(r).toEqual({ bounds: { x: 2000, y: 100, width: 1600, height: 1000 }, displayId: 2, maximized: true, fullScreen: false });
  });

  it('a window whose monitor was unplugged comes back on the primary display, same size if it fits', () => {
    const r = restoreWindowState({ bounds: { x: 2000, y: 100, width: 1000, height: 700 }, displayId: 2 }, [laptop], DEF, 1);
    expect(r.displayId).toBe(1);
    expect(r.bounds).toEqual({ x: 220, y: 113, width: 1000, height: 700 });
    // too large for the laptop: shrunk to its work area
    const big = restoreWindowState({ bounds: { x: 2000, y: 0, width: 2400, height: 1400 }, displayId: 2 }, [laptop], DEF, 1);
    expect(big.bounds).toEqual({ x: 0, y: 25, width: 1440, height: 875 });
  });

  it('a window hanging off a screen edge is pulled fully inside; a tiny one grows to the minimum', () => {
    expect(restoreWindowState({ bounds: { x: 1200, y: 700, width: 800, height: 600 }, displayId: 1 }, [laptop], DEF).bounds).toEqual({
      x: 640,
      y: 300,
      width: 800,
      height: 600,
    });
    expect(clampToArea({ x: 10, y: 30, width: 20, height: 10 }, laptop.workArea)).toEqual({ x: 10, y: 30, width: MIN_SIZES.popOut.width, height: MIN_SIZES.popOut.height });
  });

  it('the workspace has a minimum of its own, larger than a pop-out\'s, and no larger than a small screen', () => {
    expect(minSizeOf('workspace')).toEqual({ width: 1024, height: 680 });
    expect(minSizeOf('chart')).toEqual(MIN_SIZES.popOut);
    // a workspace saved small (an older version allowed 320 x 200) comes back at its minimum
    const ws = minSizeOf('workspace');
    expect(restoreWindowState({ bounds: { x: 100, y: 100, width: 320, height: 200 }, displayId: 1 }, [laptop], DEF, 1, ws).bounds).toEqual({ x: 100, y: 100, width: 1024, height: 680 });
    // and so does one opened at a default below it
    expect(restoreWindowState(undefined, [laptop], { width: 900, height: 500 }, 1, ws).bounds).toEqual({ x: 208, y: 123, width: 1024, height: 680 });
    // a pop-out keeps a small size
    expect(restoreWindowState({ bounds: { x: 100, y: 100, width: 400, height: 300 }, displayId: 1 }, [laptop], DEF, 1, minSizeOf('ticket')).bounds).toEqual({ x: 100, y: 100, width: 400, height: 300 });
    // a screen smaller than the minimum: the whole screen
    const small: DisplayLike = { id: 3, workArea: { x: 0, y: 0, width: 1000, height: 600 } };
    expect(restoreWindowState({ bounds: { x: 0, y: 0, width: 320, height: 200 }, displayId: 3 }, [small], DEF, 3, ws).bounds).toEqual({ x: 0, y: 0, width: 1000, height: 600 });
  });

  it('an unknown display id falls back to the display the bounds overlap most', () => {
    const r = restoreWindowState({ bounds: { x: 1500, y: 50, width: 800, height: 600 }, displayId: 42 }, [laptop, monitor], DEF, 1);
    expect(r.displayId).toBe(2);
    expect(r.bounds).toEqual({ x: 1500, y: 50, width: 800, height: 600 });
  });

  it('nothing saved, or garbage saved: centered on the primary display', () => {
    expect(restoreWindowState(undefined, [monitor, laptop], DEF, 1)).toEqual({
      bounds: { x: 120, y: 63, width: 1200, height: 800 },
      displayId: 1,
      maximized: false,
      fullScreen: false,
    });
    expect(restoreWindowState({ bounds: { x: NaN, y: 0, width: 10, height: 10 } }, [laptop], DEF).displayId).toBe(1);
    expect(() => restoreWindowState(undefined, [], DEF)).toThrow(RangeError);
  });

  it('persists per role and ignores a corrupt file', () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'window-state.json');
    const s = new WindowStateStore(file);
    s.set('workspace', { bounds: { x: 1, y: 2, width: 800, height: 600 }, displayId: 1, maximized: false });
    s.set('chart', { bounds: { x: 5, y: 6, width: 700, height: 500 }, displayId: 2 });
    const again = new WindowStateStore(file);
    expect(again.get('workspace')).toEqual({ bounds: { x: 1, y: 2, width: 800, height: 600 }, displayId: 1, maximized: false });
    expect(again.get('chart')?.displayId).toBe(2);
    expect(new WindowStateStore(join(tmp.dir, 'missing.json')).get('workspace')).toBeUndefined();
  });
});

describe('pop-out bookkeeping', () => {
  it('tracks windows by id and webContents, and remembers open pop-outs for the next start', () => {
    tmp = tempDir();
    const r = new WindowRegistry();
    const main = r.add('workspace');
    const chart = r.add('chart', { symbol: 'ACME' });
    const ticket = r.add('ticket', { symbol: 'ACME', side: 'buy' });
    expect(main.id).toBe('main');
    expect(chart.id).toMatch(/^chart-[0-9a-f]{8}$/);
    r.bind(main.id, 1);
    r.bind(chart.id, 2);
    expect(r.windowOf(2)).toBe(chart.id);
    expect(r.windowOf(3)).toBeUndefined(); // a webContents that is not ours
    expect(() => r.add('workspace')).toThrow();
    const file = join(tmp.dir, 'windows.json');
    saveOpenPopOuts(file, r.list());
    expect(loadOpenPopOuts(file)).toEqual([
      { panel: 'chart', params: { symbol: 'ACME' } },
      { panel: 'ticket', params: { symbol: 'ACME', side: 'buy' } },
    ]);
    r.remove(chart.id);
    expect(r.windowOf(2)).toBeUndefined();
    expect(r.popOuts().map((w) => w.id)).toEqual([ticket.id]);
    expect(loadOpenPopOuts(join(tmp.dir, 'none.json'))).toEqual([]);
  });

  it(`at most ${MAX_POP_OUTS} pop-outs open, saved and reopened; a file with more reopens the first ones`, () => {
    tmp = tempDir();
    const r = new WindowRegistry();
    r.add('workspace');
    for (let i = 0; i < MAX_POP_OUTS; i++) r.add('chart', { symbol: `S${i}` });
    expect(() => r.add('ticket')).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    const file = join(tmp.dir, 'windows.json');
    saveOpenPopOuts(file, r.list());
    expect(loadOpenPopOuts(file)).toHaveLength(MAX_POP_OUTS);
    writeFileSync(file, JSON.stringify({ popOuts: Array.from({ length: MAX_POP_OUTS + 5 }, (_, i) => ({ panel: 'chart', params: { symbol: `S${i}` } })) }));
    const back = loadOpenPopOuts(file);
    expect(back).toHaveLength(MAX_POP_OUTS);
    expect(back[0]).toEqual({ panel: 'chart', params: { symbol: 'S0' } });
  });
});

describe('single instance', () => {
  const win = (o: Partial<Record<'destroyed' | 'minimized' | 'visible', boolean>> = {}): FocusableWindow & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      isDestroyed: () => o.destroyed ?? false,
      isMinimized: () => o.minimized ?? false,
      isVisible: () => o.visible ?? true,
      restore: () => void calls.push('restore'),
      show: () => void calls.push('show'),
      focus: () => void calls.push('focus'),
    };
  };
  it('a second launch brings the workspace window forward (restored if minimized)', () => {
    const main = win({ minimized: true, visible: false });
    expect(focusFirstInstance(main)).toBe('focused');
    expect(main.calls).toEqual(['restore', 'show', 'focus']);
  });
  it('falls back to another window, or asks to reopen when none is left', () => {
    const pop = win();
    expect(focusFirstInstance(win({ destroyed: true }), [pop])).toBe('focused');
    expect(pop.calls).toEqual(['focus']);
    expect(focusFirstInstance(undefined, [])).toBe('reopen');
  });
});

describe('menu and About', () => {
  const actions = { openPanel: vi.fn(), about: vi.fn(), showUserData: vi.fn() };
  type Item = { role?: string; accelerator?: string; label?: string; submenu?: Item[]; click?: () => void };
  const flat = (items: Item[]): Item[] => items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);

  it('uses roles for standard items and CmdOrCtrl accelerators for ours', () => {
    for (const platform of ['darwin', 'win32', 'linux']) {
      const items = flat(menuTemplate({ appName: 'TradeDesk', platform, devTools: false }, actions) as Item[]);
      for (const role of ['copy', 'paste', 'undo', 'redo', 'selectAll', 'minimize', 'togglefullscreen']) expect(items.some((i) => i.role === role)).toBe(true);
      const accels = items.filter((i) => i.accelerator !== undefined).map((i) => i.accelerator!);
      expect(accels.length).toBeGreaterThanOrEqual(4);
      for (const a of accels) expect(a).toMatch(/^CmdOrCtrl\+/);
      expect(items.some((i) => i.role === 'toggleDevTools')).toBe(false);
      expect(items.some((i) => i.label === 'About TradeDesk')).toBe(true);
    }
    const mac = menuTemplate({ appName: 'TradeDesk', platform: 'darwin', devTools: true }, actions) as Item[];
    expect(mac[0]!.label).toBe('TradeDesk');
    expect(flat(mac).some((i) => i.role === 'toggleDevTools')).toBe(true);
    flat(mac).find((i) => i.label === 'New Chart Window')!.click!();
    expect(actions.openPanel).toHaveBeenCalledWith('chart');
  });

  it('the About box credits TradingView for lightweight-charts, with the link its licence asks for', () => {
    const a = aboutText('TradeDesk', '1.2.3', { electron: '45.0.0', chrome: '140', node: '22' });
    expect(a.message).toBe('TradeDesk 1.2.3');
    expect(a.detail).toContain('TradingView Lightweight Charts');
    expect(a.detail).toContain('TradingView, Inc.');
    expect(a.detail).toContain('https://www.tradingview.com/');
    expect(a.detail).toContain('Electron 45.0.0');
    expect(CREDITS.length).toBeGreaterThan(0);
  });
});
