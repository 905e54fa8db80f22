/**
 * Pop-out windows: any workspace panel can live in its own window and come back.
 * - Desktop (Electron): the hub opens a real window (`hub.window.open`) and tells it its panel and params
 *   through `hub.info`.
 * - Browser (headless host or exchange server): the workspace opens `<this app>?panel=<kind>&window=<id>&…`
 *   itself; the new window reads its panel from the URL (the headless host's hub takes `panel` and
 *   `window` from the same query).
 * The workspace keeps a popped panel in its layout (`popouts`, with the column and row it came from), so
 * the pop-outs persist with the layout and with named layouts. The windows of this origin talk over a
 * BroadcastChannel: a pop-out says hello and bye, asks to dock back, and reports its params.
 */
import { PanelKindSchema, WINDOW_BOUNDS_PARAMS, type PanelKind } from '../../../engine/protocol/index.js';
import { openChannel, type Channel } from '../links/groups.js';
import { panelKind, type PanelParams } from '../panels/registry.js';
import { readBounds, type Layout, type PanelInstance, type PoppedPanel, type WindowBounds } from '../workspace/layout.js';

/** What a pop-out window shows: the panel instance (its id in the workspace layout), kind and params. */
export interface PopoutTarget {
  readonly pid: string;
  readonly kind: string;
  readonly params: PanelParams;
}

/** Query keys the pop-out URL reserves (the rest are the panel's params). */
const RESERVED = new Set(['panel', 'window', 'kind']);
const PID = /^[A-Za-z0-9-]{1,40}$/;

/** The hub's name for a panel kind (registry kinds the hub does not list travel as `kind`; old kinds are read as their panel). */
export function hubPanelKind(kind: string): Exclude<PanelKind, 'workspace'> | undefined {
  const r = PanelKindSchema.safeParse(panelKind(kind));
  return r.success && r.data !== 'workspace' ? r.data : undefined;
}

const BOUNDS_KEYS = new Set<string>(Object.values(WINDOW_BOUNDS_PARAMS));

/**
 * What the desktop asks the hub for (`hub.window.open`): the instance id and registry kind ride in params,
 * and the window's outer bounds when the layout knows where it was.
 */
export function hubOpenRequest(t: PopoutTarget, bounds?: WindowBounds): { panel: Exclude<PanelKind, 'workspace'>; params: PanelParams } | undefined {
  const panel = hubPanelKind(t.kind);
  if (panel === undefined) return undefined;
  const kind = panelKind(t.kind);
  const at: PanelParams =
    bounds === undefined
      ? {}
      : { [WINDOW_BOUNDS_PARAMS.x]: bounds.x, [WINDOW_BOUNDS_PARAMS.y]: bounds.y, [WINDOW_BOUNDS_PARAMS.width]: bounds.width, [WINDOW_BOUNDS_PARAMS.height]: bounds.height };
  return { panel, params: { ...t.params, pid: t.pid, ...(panel !== kind ? { kind } : {}), ...at } };
}

export const canPopOut = (kind: string, id: string): boolean => hubPanelKind(kind) !== undefined && PID.test(id);

/** The URL of a browser pop-out: this app, with the panel, the instance id and the params in the query. */
export function popoutUrl(base: string, p: PopoutTarget): string {
  const u = new URL(base);
  u.hash = '';
  const q = new URLSearchParams();
  const kind = panelKind(p.kind);
  q.set('panel', hubPanelKind(kind) ?? kind);
  q.set('window', p.pid);
  if (hubPanelKind(kind) !== kind) q.set('kind', kind);
  for (const [k, v] of Object.entries(p.params)) if (!RESERVED.has(k)) q.set(k, String(v));
  u.search = q.toString();
  return u.toString();
}

const typed = (v: string): string | number | boolean => (v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) && v.length < 16 ? Number(v) : v);

/** A browser pop-out's target from its URL (undefined: the workspace window). */
export function targetFromUrl(search: string): PopoutTarget | undefined {
  const q = new URLSearchParams(search);
  const panel = q.get('panel');
  const pid = q.get('window');
  if (panel === null || panel === 'workspace' || pid === null || !PID.test(pid)) return undefined;
  const params: PanelParams = {};
  for (const [k, v] of q) if (!RESERVED.has(k) && /^[A-Za-z0-9_]{1,32}$/.test(k)) params[k] = typed(v);
  return { pid, kind: panelKind(q.get('kind') ?? panel), params };
}

/** A desktop pop-out's target from `hub.info` (the registry kind and the instance id travel in params). */
export function targetFromHubInfo(info: { windowId: string; panel: string; params: PanelParams }): PopoutTarget | undefined {
  if (info.panel === 'workspace') return undefined;
  const { kind, pid, ...rest } = info.params;
  const params = Object.fromEntries(Object.entries(rest).filter(([k]) => !BOUNDS_KEYS.has(k)));
  return { pid: typeof pid === 'string' && PID.test(pid) ? pid : info.windowId, kind: panelKind(typeof kind === 'string' ? kind : info.panel), params };
}

/**
 * Browser window features: where the window was (`bounds`, recorded from the pop-out: its content size,
 * as window.open sizes the content), or a window sized for the panel beside the opener.
 */
export function popoutFeatures(kind: string, at: { x: number; y: number }, bounds?: WindowBounds): string {
  if (bounds !== undefined) return `popup,width=${bounds.innerWidth ?? bounds.width},height=${bounds.innerHeight ?? bounds.height},left=${bounds.x},top=${bounds.y}`;
  const size: Record<string, [number, number]> = {
    chart: [980, 640],
    ticket: [380, 620],
    ladder: [420, 760],
    watchlist: [460, 620],
    blotter: [900, 420],
    positions: [640, 360],
    account: [420, 360],
    tape: [380, 600],
    alerts: [520, 420],
  };
  const [w, h] = size[panelKind(kind)] ?? [720, 520];
  return `popup,width=${w},height=${h},left=${Math.round(at.x)},top=${Math.round(at.y)}`;
}

export const windowName = (pid: string): string => `tradedesk-${pid}`;

// ---------------------------------------------------------------- the layout

const find = (l: Layout, id: string): { col: number; row: number } | undefined => {
  for (let c = 0; c < l.columns.length; c++) {
    const r = l.columns[c]!.panels.findIndex((p) => p.id === id);
    if (r >= 0) return { col: c, row: r };
  }
  return undefined;
};

/** Takes panel `id` out of the grid into `popouts`, remembering its column and row. */
export function popOutPanel(l: Layout, id: string): Layout {
  const at = find(l, id);
  if (at === undefined) return l;
  const panel = l.columns[at.col]!.panels[at.row]!;
  const columns = l.columns
    .map((c) => ({ w: c.w, panels: c.panels.filter((p) => p.id !== id).map((p) => ({ ...p, params: { ...p.params } })) }))
    .filter((c) => c.panels.length > 0);
  // its height kept as its share of the column (percent): the rest of the column grows into its place meanwhile
  const total = l.columns[at.col]!.panels.reduce((s, p) => s + p.h, 0);
  const h = total > 0 ? (panel.h * 100) / total : panel.h;
  const popped: PoppedPanel = { ...panel, h, params: { ...panel.params }, col: at.col, row: at.row };
  return { v: 1, columns, popouts: [...(l.popouts ?? []).filter((p) => p.id !== id), popped] };
}

/**
 * Puts a popped panel back where it was (its column, at its row; a new column at the end when that
 * column is gone), with the share of the column's height it had, the other panels keeping their
 * proportions. A panel the layout does not know (a window left over from another layout) is added.
 */
export function dockBackPanel(l: Layout, p: Pick<PanelInstance, 'id' | 'kind' | 'params'>): Layout {
  if (find(l, p.id) !== undefined) return { ...l, ...withoutPopout(l, p.id) };
  const popped = l.popouts?.find((x) => x.id === p.id);
  const panel: PanelInstance = { id: p.id, kind: p.kind, h: popped?.h ?? 50, params: { ...(popped?.params ?? {}), ...p.params } };
  const columns = l.columns.map((c) => ({ w: c.w, panels: c.panels.map((x) => ({ ...x, params: { ...x.params } })) }));
  const col = popped?.col ?? columns.length - 1;
  const target = columns[col];
  if (target !== undefined) {
    const rest = target.panels.reduce((s, x) => s + x.h, 0);
    const share = popped?.h;
    const h = share !== undefined && share > 0 && share < 100 && rest > 0 ? (share * rest) / (100 - share) : rest / Math.max(1, target.panels.length);
    target.panels.splice(Math.min(popped?.row ?? target.panels.length, target.panels.length), 0, { ...panel, h: h || 50 });
  } else {
    const w = columns.length === 0 ? 100 : columns.reduce((s, c) => s + c.w, 0) / columns.length;
    columns.push({ w, panels: [{ ...panel, h: 100 }] });
  }
  return { v: 1, columns, ...withoutPopout(l, p.id) };
}

function withoutPopout(l: Layout, id: string): { popouts?: PoppedPanel[] } {
  const rest = (l.popouts ?? []).filter((x) => x.id !== id);
  return rest.length > 0 ? { popouts: rest } : {};
}

/** A pop-out window changed its params (interval, link colour...): kept in the layout. */
export function setPoppedParams(l: Layout, id: string, patch: PanelParams): Layout {
  if (l.popouts?.some((p) => p.id === id) !== true) return l;
  return { ...l, popouts: l.popouts.map((p) => (p.id === id ? { ...p, params: { ...p.params, ...patch } } : p)) };
}

/** A pop-out window moved or was resized: where it is now is kept in the layout (and in named layouts). */
export function setPoppedBounds(l: Layout, id: string, bounds: WindowBounds): Layout {
  const b = readBounds(bounds);
  const popped = l.popouts?.find((p) => p.id === id);
  if (b === undefined || popped === undefined || sameBounds(popped.bounds, b)) return l;
  return { ...l, popouts: l.popouts!.map((p) => (p.id === id ? { ...p, bounds: b } : p)) };
}

export const sameBounds = (a: WindowBounds | undefined, b: WindowBounds | undefined): boolean =>
  a === b ||
  (a !== undefined && b !== undefined && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height && a.innerWidth === b.innerWidth && a.innerHeight === b.innerHeight);

/** The fields of a window its bounds are read from. */
export interface WindowLike {
  readonly screenX: number;
  readonly screenY: number;
  readonly outerWidth: number;
  readonly outerHeight: number;
  readonly innerWidth: number;
  readonly innerHeight: number;
}

export const boundsOf = (w: WindowLike): WindowBounds | undefined =>
  readBounds({ x: w.screenX, y: w.screenY, width: w.outerWidth, height: w.outerHeight, innerWidth: w.innerWidth, innerHeight: w.innerHeight });

/**
 * Reports where a window is: at once, after a resize (at most every `throttleMs`), and when it moved (there
 * is no move event: the position is looked at every `pollMs`). Only changes are reported. Returns a stop
 * function.
 */
export function trackBounds(
  win: WindowLike & { addEventListener(type: 'resize', f: () => void): void; removeEventListener(type: 'resize', f: () => void): void },
  report: (b: WindowBounds) => void,
  { throttleMs = 500, pollMs = 1000 }: { throttleMs?: number; pollMs?: number } = {},
): () => void {
  let last: WindowBounds | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    timer = undefined;
    const b = boundsOf(win);
    if (b === undefined || sameBounds(b, last)) return;
    last = b;
    report(b);
  };
  const soon = () => {
    timer ??= setTimeout(check, throttleMs);
  };
  check();
  win.addEventListener('resize', soon);
  const poll = setInterval(check, pollMs);
  return () => {
    win.removeEventListener('resize', soon);
    clearInterval(poll);
    if (timer !== undefined) clearTimeout(timer);
    check(); // where it was last
  };
}

// ---------------------------------------------------------------- the windows' channel

export const WINDOWS_CHANNEL = 'tradedesk.windows';

export type WindowMsg =
  /** A pop-out is open (also the answer to `who`). */
  | { type: 'hello'; pid: string }
  /** A pop-out is closing. */
  | { type: 'bye'; pid: string }
  /** The workspace asks which pop-outs are open. */
  | { type: 'who' }
  /** A pop-out asks to go back into the workspace. */
  | { type: 'dock'; pid: string; kind: string; params: PanelParams }
  /** The workspace took it back: the pop-out closes. */
  | { type: 'docked'; pid: string }
  /** A pop-out's params changed. */
  | { type: 'params'; pid: string; patch: PanelParams }
  /** A pop-out window moved or was resized. */
  | { type: 'bounds'; pid: string; bounds: WindowBounds }
  /** The workspace asks a pop-out to come to the front, or to close (a restored layout without it). */
  | { type: 'focus'; pid: string }
  | { type: 'close'; pid: string };

export function windowsChannel(): Channel<WindowMsg> | undefined {
  return openChannel<WindowMsg>(WINDOWS_CHANNEL);
}
