/**
 * The workspace layout as data: columns (with width weights) of panels (with height weights). Pure
 * functions move, add, remove and resize panels; the workspace renders the result and saves it.
 */
import { panelKind, type PanelParams } from '../panels/registry.js';

export interface PanelInstance {
  id: string;
  kind: string;
  /** Height weight inside its column. */
  h: number;
  params: PanelParams;
}

export interface Column {
  /** Width weight. */
  w: number;
  panels: PanelInstance[];
}

/** Where a window sits on the screen (CSS pixels): its outer position and size, and its content size. */
export interface WindowBounds {
  x: number;
  y: number;
  width: number;
  height: number;
  innerWidth?: number;
  innerHeight?: number;
}

/** A panel living in its own window: where it sat (column and row) so it docks back there, and where its window is. */
export interface PoppedPanel extends PanelInstance {
  col: number;
  row: number;
  bounds?: WindowBounds;
}

const int = (v: unknown, min: number, max: number): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? Math.round(v) : undefined;

/** Window bounds read back from storage (undefined when missing or not plausible). */
export function readBounds(b: unknown): WindowBounds | undefined {
  if (typeof b !== 'object' || b === null) return undefined;
  const o = b as Record<string, unknown>;
  const x = int(o['x'], -100_000, 100_000);
  const y = int(o['y'], -100_000, 100_000);
  const width = int(o['width'], 50, 100_000);
  const height = int(o['height'], 50, 100_000);
  if (x === undefined || y === undefined || width === undefined || height === undefined) return undefined;
  const innerWidth = int(o['innerWidth'], 50, 100_000);
  const innerHeight = int(o['innerHeight'], 50, 100_000);
  return { x, y, width, height, ...(innerWidth !== undefined && innerHeight !== undefined ? { innerWidth, innerHeight } : {}) };
}

export interface Layout {
  v: 1;
  columns: Column[];
  /** Panels popped out into their own windows (absent: none). */
  popouts?: PoppedPanel[];
}

export type DropSide = 'top' | 'bottom' | 'left' | 'right';

let counter = 0;
export const newId = (kind: string): string => `${kind}-${Date.now().toString(36)}${(counter++).toString(36)}`;

export const DEFAULT_LAYOUT: Layout = {
  v: 1,
  columns: [
    {
      w: 23,
      panels: [
        { id: 'watchlist-1', kind: 'watchlist', h: 62, params: {} },
        { id: 'tape-1', kind: 'tape', h: 38, params: {} },
      ],
    },
    {
      w: 53,
      panels: [
        { id: 'chart-1', kind: 'chart', h: 58, params: { timeframe: '1m' } },
        { id: 'blotter-1', kind: 'blotter', h: 24, params: {} },
        { id: 'positions-1', kind: 'positions', h: 18, params: {} },
      ],
    },
    {
      w: 24,
      panels: [
        { id: 'ticket-1', kind: 'ticket', h: 64, params: {} },
        { id: 'account-1', kind: 'account', h: 36, params: {} },
      ],
    },
  ],
};

export function findPanel(l: Layout, id: string): { col: number; row: number } | undefined {
  for (let c = 0; c < l.columns.length; c++) {
    const r = l.columns[c]!.panels.findIndex((p) => p.id === id);
    if (r >= 0) return { col: c, row: r };
  }
  return undefined;
}

const withPopouts = (l: Layout, columns: Column[]): Layout =>
  l.popouts !== undefined && l.popouts.length > 0 ? { v: 1, columns, popouts: l.popouts.map((p) => ({ ...p, params: { ...p.params } })) } : { v: 1, columns };

function clone(l: Layout): Layout {
  return withPopouts(l, l.columns.map((c) => ({ w: c.w, panels: c.panels.map((p) => ({ ...p, params: { ...p.params } })) })));
}

/** Drops empty columns. */
function tidy(l: Layout): Layout {
  return withPopouts(l, l.columns.filter((c) => c.panels.length > 0));
}

export function removePanel(l: Layout, id: string): Layout {
  const out = clone(l);
  for (const c of out.columns) c.panels = c.panels.filter((p) => p.id !== id);
  return tidy(out);
}

/** The narrowest share (%) the widest column keeps when a column of its own is taken out of it. */
const KEEP_SHARE = 25;

/**
 * Adds a panel to the column with the fewest panels (or a new column when there is none). With `ownColumn`
 * (a share of the width, %), in a new column of that share right of the widest column, taken out of that
 * column while it keeps KEEP_SHARE% (the chart's, usually: the watchlist and the ticket keep their width),
 * else out of every column in proportion.
 */
export function addPanel(l: Layout, p: PanelInstance, ownColumn?: number): Layout {
  const out = clone(l);
  if (out.columns.length === 0) return withPopouts(out, [{ w: 100, panels: [p] }]);
  if (ownColumn !== undefined && ownColumn > 0 && ownColumn < 100) {
    const total = out.columns.reduce((s, c) => s + c.w, 0);
    let widest = 0;
    for (let i = 1; i < out.columns.length; i++) if (out.columns[i]!.w > out.columns[widest]!.w) widest = i;
    const from = out.columns[widest]!;
    let w = (total * ownColumn) / 100;
    if (from.w - w >= (total * KEEP_SHARE) / 100) from.w -= w;
    else w = (total * ownColumn) / (100 - ownColumn);
    out.columns.splice(widest + 1, 0, { w, panels: [{ ...p, h: 100 }] });
    return out;
  }
  let best = out.columns[0]!;
  for (const c of out.columns) if (c.panels.length < best.panels.length) best = c;
  const h = best.panels.reduce((s, x) => s + x.h, 0) / Math.max(1, best.panels.length);
  best.panels.push({ ...p, h: h || 50 });
  return out;
}

/** Moves panel `id` next to `target`: above/below it, or into a new column left/right of its column. */
export function movePanel(l: Layout, id: string, target: string, side: DropSide): Layout {
  if (id === target) return l;
  const from = findPanel(l, id);
  if (from === undefined || findPanel(l, target) === undefined) return l;
  const out = clone(l);
  const [moving] = out.columns[from.col]!.panels.splice(from.row, 1);
  if (moving === undefined) return l;
  const to = findPanel(out, target)!;
  const col = out.columns[to.col]!;
  if (side === 'top' || side === 'bottom') {
    const t = col.panels[to.row]!;
    moving.h = t.h / 2;
    t.h = t.h / 2;
    col.panels.splice(side === 'top' ? to.row : to.row + 1, 0, moving);
  } else {
    moving.h = 100;
    const w = col.w / 2;
    col.w = w;
    out.columns.splice(side === 'left' ? to.col : to.col + 1, 0, { w, panels: [moving] });
  }
  return tidy(out);
}

/** Moves weight between two neighbours (columns when `row` is undefined), keeping each above `min` percent. */
export function resize(l: Layout, col: number, row: number | undefined, deltaPct: number, min = 8): Layout {
  const out = clone(l);
  if (row === undefined) {
    const a = out.columns[col];
    const b = out.columns[col + 1];
    if (a === undefined || b === undefined) return l;
    const total = out.columns.reduce((s, c) => s + c.w, 0);
    const d = (deltaPct / 100) * total;
    const floor = (min / 100) * total;
    const na = Math.max(floor, Math.min(a.w + b.w - floor, a.w + d));
    b.w = a.w + b.w - na;
    a.w = na;
    return out;
  }
  const c = out.columns[col];
  const a = c?.panels[row];
  const b = c?.panels[row + 1];
  if (c === undefined || a === undefined || b === undefined) return l;
  const total = c.panels.reduce((s, p) => s + p.h, 0);
  const d = (deltaPct / 100) * total;
  const floor = (min / 100) * total;
  const na = Math.max(floor, Math.min(a.h + b.h - floor, a.h + d));
  b.h = a.h + b.h - na;
  a.h = na;
  return out;
}

export function setPanelParams(l: Layout, id: string, patch: PanelParams): Layout {
  const at = findPanel(l, id);
  if (at === undefined) return l;
  const out = clone(l);
  const p = out.columns[at.col]!.panels[at.row]!;
  p.params = { ...p.params, ...patch };
  return out;
}

/** Reads a saved layout, refusing anything malformed (then the default is used). */
export function parseLayout(text: string | null, known: (kind: string) => boolean): Layout | undefined {
  if (text === null) return undefined;
  try {
    const j = JSON.parse(text) as Layout;
    if (j?.v !== 1 || !Array.isArray(j.columns)) return undefined;
    const cols: Column[] = [];
    for (const c of j.columns) {
      if (typeof c?.w !== 'number' || !(c.w > 0) || !Array.isArray(c.panels)) return undefined;
      const panels = c.panels.filter(
        (p) => typeof p?.id === 'string' && typeof p.kind === 'string' && known(p.kind) && typeof p.h === 'number' && p.h > 0,
      );
      const clean = panels.map((p) => ({ id: p.id, kind: panelKind(p.kind), h: p.h, params: typeof p.params === 'object' && p.params !== null ? p.params : {} }));
      if (clean.length > 0) cols.push({ w: c.w, panels: clean });
    }
    const popouts: PoppedPanel[] = (Array.isArray(j.popouts) ? j.popouts : [])
      .filter((p) => typeof p?.id === 'string' && typeof p.kind === 'string' && known(p.kind) && typeof p.col === 'number' && typeof p.row === 'number')
      .map((p) => {
        const bounds = readBounds(p.bounds);
        return { id: p.id, kind: panelKind(p.kind), h: typeof p.h === 'number' && p.h > 0 ? p.h : 50, col: p.col, row: p.row, params: typeof p.params === 'object' && p.params !== null ? p.params : {}, ...(bounds === undefined ? {} : { bounds }) };
      });
    if (cols.length === 0 && popouts.length === 0) return undefined;
    return popouts.length > 0 ? { v: 1, columns: cols, popouts } : { v: 1, columns: cols };
  } catch {
    return undefined;
  }
}
