/**
 * Workspace layouts: which panels are open, where they sit in the grid, which are popped out into their
 * own windows (with bounds and display), and link groups by colour that keep the symbol (and optionally
 * the timeframe) of their panels in step. Saved by name, validated with zod, older versions migrated.
 */
import { z } from 'zod';
import {
  LINK_COLORS,
  LinkColorSchema,
  PanelKindSchema,
  PanelParamsSchema,
  SymbolSchema,
  TimeframeSchema,
  type LinkColor,
  type PanelKind,
  type Timeframe,
} from '../../../engine/protocol/index.js';

export const LAYOUT_VERSION = 2;

const CellSchema = z.object({
  col: z.int().nonnegative(),
  row: z.int().nonnegative(),
  colSpan: z.int().positive(),
  rowSpan: z.int().positive(),
});
export type Cell = z.output<typeof CellSchema>;

export const BoundsSchema = z.object({
  x: z.int(),
  y: z.int(),
  width: z.int().min(200).max(16_384),
  height: z.int().min(150).max(16_384),
});
export type Bounds = z.output<typeof BoundsSchema>;

/** A display as the desktop reports it (Electron `screen.getAllDisplays()`): id and work area. */
export interface DisplayInfo {
  readonly id: string;
  readonly bounds: Bounds;
  readonly primary?: boolean;
}

const PanelIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/);

const PanelSchema = z.object({
  id: PanelIdSchema,
  kind: PanelKindSchema,
  /** Panel settings (symbol of an unlinked panel, timeframe, ...): small, flat, JSON-safe. */
  params: PanelParamsSchema,
  cell: CellSchema,
  link: LinkColorSchema.nullable(),
  /** Set while the panel lives in its own window. */
  popout: z.object({ bounds: BoundsSchema, display: z.string().min(1).max(64) }).nullable(),
});
export type LayoutPanel = z.output<typeof PanelSchema>;

const GroupSchema = z.object({
  symbol: SymbolSchema.optional(),
  timeframe: TimeframeSchema.optional(),
  /** Whether linked panels also follow the timeframe (the symbol always follows). */
  syncTimeframe: z.boolean(),
});
export type LinkGroup = z.output<typeof GroupSchema>;

export const LayoutSchema = z
  .object({
    version: z.literal(LAYOUT_VERSION),
    name: z.string().trim().min(1).max(64),
    grid: z.object({ cols: z.int().min(1).max(12), rows: z.int().min(1).max(12) }),
    panels: z.array(PanelSchema).max(64),
    groups: z.partialRecord(LinkColorSchema, GroupSchema),
    /** Charts in the grid share the crosshair / visible time range. */
    sync: z.object({ crosshair: z.boolean(), time: z.boolean() }),
  })
  .superRefine((l, ctx) => {
    const ids = new Set<string>();
    const taken = new Map<string, string>();
    l.panels.forEach((p, i) => {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['panels', i, 'id'], message: `Duplicate panel id ${p.id}` });
      ids.add(p.id);
      if (p.popout !== null) return; // popped-out panels keep their cell for when they dock back, but do not occupy it
      const c = p.cell;
      if (c.col + c.colSpan > l.grid.cols || c.row + c.rowSpan > l.grid.rows) {
        ctx.addIssue({ code: 'custom', path: ['panels', i, 'cell'], message: `Panel ${p.id} does not fit the ${l.grid.cols}×${l.grid.rows} grid` });
        return;
      }
      for (let x = c.col; x < c.col + c.colSpan; x++)
        for (let y = c.row; y < c.row + c.rowSpan; y++) {
          const other = taken.get(`${x},${y}`);
          if (other !== undefined) {
            ctx.addIssue({ code: 'custom', path: ['panels', i, 'cell'], message: `Panels ${other} and ${p.id} overlap at column ${x}, row ${y}` });
            return;
          }
          taken.set(`${x},${y}`, p.id);
        }
    });
  });
export type Layout = z.output<typeof LayoutSchema>;

// ---------------------------------------------------------------- version 1 and migration

/**
 * Version 1 (the first saved format): panels with x/y/w/h in grid units and an optional link colour; the
 * symbol lived on each panel; no pop-outs, no groups, no sync flags.
 */
export const LayoutV1Schema = z.object({
  version: z.literal(1),
  name: z.string().trim().min(1).max(64),
  columns: z.int().min(1).max(12),
  rows: z.int().min(1).max(12),
  panels: z.array(
    z.object({
      id: PanelIdSchema,
      kind: PanelKindSchema,
      x: z.int().nonnegative(),
      y: z.int().nonnegative(),
      w: z.int().positive(),
      h: z.int().positive(),
      symbol: SymbolSchema.optional(),
      linked: LinkColorSchema.optional(),
    }),
  ),
});
export type LayoutV1 = z.output<typeof LayoutV1Schema>;

export function migrateV1(v1: LayoutV1): Layout {
  const groups: Partial<Record<LinkColor, LinkGroup>> = {};
  for (const p of v1.panels) {
    if (p.linked === undefined) continue;
    // The group takes the symbol of its first panel that had one.
    const g = groups[p.linked] ?? { syncTimeframe: false };
    groups[p.linked] = g.symbol === undefined && p.symbol !== undefined ? { ...g, symbol: p.symbol } : g;
  }
  return {
    version: LAYOUT_VERSION,
    name: v1.name,
    grid: { cols: v1.columns, rows: v1.rows },
    panels: v1.panels.map((p): LayoutPanel => ({
      id: p.id,
      kind: p.kind,
      params: p.symbol === undefined ? {} : ({ symbol: p.symbol } as Record<string, string>),
      cell: { col: p.x, row: p.y, colSpan: p.w, rowSpan: p.h },
      link: p.linked ?? null,
      popout: null,
    })),
    groups,
    sync: { crosshair: false, time: false },
  };
}

export type LayoutResult = { readonly ok: true; readonly layout: Layout; readonly migrated: boolean } | { readonly ok: false; readonly error: string };

const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.') || '(layout)'}: ${i.message}`).join('; ');

/** Parse and validate a stored layout of any known version (older ones are migrated). */
export function parseLayout(raw: unknown): LayoutResult {
  const version = typeof raw === 'object' && raw !== null ? (raw as { version?: unknown }).version : undefined;
  if (version === 1) {
    const v1 = LayoutV1Schema.safeParse(raw);
    if (!v1.success) return { ok: false, error: issues(v1.error) };
    const r = LayoutSchema.safeParse(migrateV1(v1.data));
    return r.success ? { ok: true, layout: r.data, migrated: true } : { ok: false, error: issues(r.error) };
  }
  if (version !== LAYOUT_VERSION) return { ok: false, error: `Unknown layout version ${String(version)}` };
  const r = LayoutSchema.safeParse(raw);
  return r.success ? { ok: true, layout: r.data, migrated: false } : { ok: false, error: issues(r.error) };
}

// ---------------------------------------------------------------- the named collection

export const LayoutStoreSchema = z.object({
  version: z.literal(1),
  active: z.string().min(1).max(64).nullable(),
  layouts: z.array(z.unknown()).max(50),
});

export interface LayoutStore {
  readonly active: string | null;
  readonly layouts: readonly Layout[];
}

export function serializeStore(s: LayoutStore): string {
  return JSON.stringify({ version: 1, active: s.active, layouts: s.layouts });
}

/** Load the collection; unreadable layouts are dropped and reported, the rest kept. */
export function parseStore(json: string): { store: LayoutStore; errors: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { store: { active: null, layouts: [] }, errors: [`Not JSON: ${(e as Error).message}`] };
  }
  const r = LayoutStoreSchema.safeParse(raw);
  if (!r.success) return { store: { active: null, layouts: [] }, errors: [issues(r.error)] };
  const errors: string[] = [];
  const layouts: Layout[] = [];
  for (const l of r.data.layouts) {
    const p = parseLayout(l);
    if (p.ok) layouts.push(p.layout);
    else errors.push(p.error);
  }
  const active = layouts.some((l) => l.name === r.data.active) ? r.data.active : (layouts[0]?.name ?? null);
  return { store: { active, layouts }, errors };
}

/** Save (or overwrite by name) and make it active. */
export function saveLayout(s: LayoutStore, layout: Layout): LayoutStore {
  const checked = LayoutSchema.parse(layout);
  const exists = s.layouts.some((l) => l.name === checked.name);
  return {
    active: checked.name,
    layouts: exists ? s.layouts.map((l) => (l.name === checked.name ? checked : l)) : [...s.layouts, checked],
  };
}

export function deleteLayout(s: LayoutStore, name: string): LayoutStore {
  const layouts = s.layouts.filter((l) => l.name !== name);
  return { layouts, active: s.active === name ? (layouts[0]?.name ?? null) : s.active };
}

export function renameLayout(s: LayoutStore, from: string, to: string): LayoutStore {
  const name = to.trim();
  if (name === '' || s.layouts.some((l) => l.name === name && name !== from)) throw new Error(`A layout named "${name}" exists or the name is empty`);
  return {
    layouts: s.layouts.map((l) => (l.name === from ? { ...l, name } : l)),
    active: s.active === from ? name : s.active,
  };
}

// ---------------------------------------------------------------- editing a layout

const mapPanel = (l: Layout, id: string, f: (p: LayoutPanel) => LayoutPanel): Layout => {
  if (!l.panels.some((p) => p.id === id)) throw new Error(`No panel ${id}`);
  return { ...l, panels: l.panels.map((p) => (p.id === id ? f(p) : p)) };
};

export function popOut(l: Layout, id: string, bounds: Bounds, display: string): Layout {
  return mapPanel(l, id, (p) => ({ ...p, popout: { bounds, display } }));
}

/** Dock a popped-out panel back: into its old cell if free, else the first free cell, else fail. */
export function dockBack(l: Layout, id: string): Layout {
  const panel = l.panels.find((p) => p.id === id);
  if (panel === undefined) throw new Error(`No panel ${id}`);
  if (panel.popout === null) return l;
  const docked = mapPanel(l, id, (p) => ({ ...p, popout: null }));
  if (LayoutSchema.safeParse(docked).success) return docked;
  const cell = freeCell(l, panel.cell.colSpan, panel.cell.rowSpan) ?? freeCell(l, 1, 1);
  if (cell === null) throw new Error('No free cell to dock the panel into: close or pop out another panel first');
  return mapPanel(l, id, (p) => ({ ...p, popout: null, cell }));
}

/** The first free cell of the given size, scanning rows then columns. */
export function freeCell(l: Layout, colSpan: number, rowSpan: number): Cell | null {
  const busy = new Set<string>();
  for (const p of l.panels) {
    if (p.popout !== null) continue;
    for (let x = p.cell.col; x < p.cell.col + p.cell.colSpan; x++)
      for (let y = p.cell.row; y < p.cell.row + p.cell.rowSpan; y++) busy.add(`${x},${y}`);
  }
  for (let row = 0; row + rowSpan <= l.grid.rows; row++)
    for (let col = 0; col + colSpan <= l.grid.cols; col++) {
      let free = true;
      for (let x = col; x < col + colSpan && free; x++) for (let y = row; y < row + rowSpan && free; y++) free = !busy.has(`${x},${y}`);
      if (free) return { col, row, colSpan, rowSpan };
    }
  return null;
}

/** Put a panel in a link group (null: unlink). Joining a group with a symbol adopts it. */
export function setLink(l: Layout, id: string, color: LinkColor | null): Layout {
  return mapPanel(l, id, (p) => ({ ...p, link: color }));
}

/** The symbol a panel shows: its group's when linked and the group has one, else its own. */
export function panelSymbol(l: Layout, id: string): string | undefined {
  const p = l.panels.find((x) => x.id === id);
  if (p === undefined) return undefined;
  const own = typeof p.params['symbol'] === 'string' ? p.params['symbol'] : undefined;
  return (p.link !== null ? l.groups[p.link]?.symbol : undefined) ?? own;
}

/** The timeframe a panel shows: its group's when linked with timeframe sync, else its own. */
export function panelTimeframe(l: Layout, id: string): Timeframe | undefined {
  const p = l.panels.find((x) => x.id === id);
  if (p === undefined) return undefined;
  const own = TimeframeSchema.safeParse(p.params['timeframe']);
  const g = p.link !== null ? l.groups[p.link] : undefined;
  if (g?.syncTimeframe === true && g.timeframe !== undefined) return g.timeframe;
  return own.success ? own.data : undefined;
}

/**
 * A panel changes symbol (and maybe timeframe). Linked: the group changes, so every panel in it follows;
 * the returned `link` is what to send to the hub (`hub.link.set`) so other windows follow too.
 * Unlinked: only the panel changes.
 */
export function changeSymbol(
  l: Layout,
  id: string,
  symbol: string,
  timeframe?: Timeframe,
): { layout: Layout; link: { group: LinkColor; symbol: string; timeframe?: Timeframe } | null } {
  SymbolSchema.parse(symbol);
  const p = l.panels.find((x) => x.id === id);
  if (p === undefined) throw new Error(`No panel ${id}`);
  const ownParams = { ...p.params, symbol, ...(timeframe === undefined ? {} : { timeframe }) };
  if (p.link === null) return { layout: mapPanel(l, id, (x) => ({ ...x, params: ownParams })), link: null };
  const g = l.groups[p.link] ?? { syncTimeframe: false };
  const syncTf = g.syncTimeframe && timeframe !== undefined;
  const group: LinkGroup = { ...g, symbol, ...(syncTf ? { timeframe } : {}) };
  const layout = mapPanel({ ...l, groups: { ...l.groups, [p.link]: group } }, id, (x) => ({ ...x, params: ownParams }));
  return { layout, link: { group: p.link, symbol, ...(syncTf ? { timeframe } : {}) } };
}

/** Apply a link-group change from the hub (`hub.links` channel). */
export function applyHubLinks(l: Layout, groups: Partial<Record<LinkColor, { symbol?: string | undefined; timeframe?: Timeframe | undefined }>>): Layout {
  const next: Partial<Record<LinkColor, LinkGroup>> = { ...l.groups };
  for (const c of LINK_COLORS) {
    const h = groups[c];
    if (h === undefined) continue;
    const g = next[c] ?? { syncTimeframe: false };
    next[c] = { ...g, ...(h.symbol === undefined ? {} : { symbol: h.symbol }), ...(h.timeframe === undefined ? {} : { timeframe: h.timeframe }) };
  }
  return { ...l, groups: next };
}

/** Panels of a group (to show their colour, or to notify them). */
export const panelsInGroup = (l: Layout, color: LinkColor): readonly LayoutPanel[] => l.panels.filter((p) => p.link === color);

// ---------------------------------------------------------------- restoring pop-outs

/**
 * Where to reopen each popped-out panel: on its display if it still exists, else on the primary display;
 * bounds are clamped inside the display's work area (a window is never restored off screen).
 */
export function restorePopouts(l: Layout, displays: readonly DisplayInfo[]): { panel: LayoutPanel; display: string; bounds: Bounds }[] {
  if (displays.length === 0) return [];
  const primary = displays.find((d) => d.primary === true) ?? displays[0]!;
  return l.panels.flatMap((panel) => {
    if (panel.popout === null) return [];
    const d = displays.find((x) => x.id === panel.popout!.display);
    const target = d ?? primary;
    const want = panel.popout.bounds;
    const area = target.bounds;
    const width = Math.min(want.width, area.width);
    const height = Math.min(want.height, area.height);
    // On a vanished display, keep the offset within the old display's frame by placing it at the same
    // relative spot only if that fits; clamping does that.
    const x = Math.min(Math.max(want.x, area.x), area.x + area.width - width);
    const y = Math.min(Math.max(want.y, area.y), area.y + area.height - height);
    return [{ panel, display: target.id, bounds: { x, y, width, height } }];
  });
}

// ---------------------------------------------------------------- presets

let seq = 0;
const newId = (kind: PanelKind): string => `${kind}-${(++seq).toString(36)}`;

/**
 * A multi-chart grid: 2 charts side by side or 4 in a 2×2 grid, all in one link group (symbol follows;
 * each keeps its own timeframe) with the crosshair and time synced.
 */
export function multiChartLayout(name: string, count: 2 | 4, symbol: string, timeframes: readonly Timeframe[] = ['1m', '5m', '15m', '1h']): Layout {
  const cols = 2;
  const rows = count === 2 ? 1 : 2;
  const panels: LayoutPanel[] = Array.from({ length: count }, (_, i) => ({
    id: newId('chart'),
    kind: 'chart' as const,
    params: { timeframe: timeframes[i % timeframes.length]! },
    cell: { col: i % cols, row: Math.floor(i / cols), colSpan: 1, rowSpan: 1 },
    link: 'blue' as const,
    popout: null,
  }));
  return LayoutSchema.parse({
    version: LAYOUT_VERSION,
    name,
    grid: { cols, rows },
    panels,
    groups: { blue: { symbol, syncTimeframe: false } },
    sync: { crosshair: true, time: true },
  });
}
