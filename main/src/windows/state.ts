/**
 * Window bounds and display, restored at the next start and clamped to the screens present: a window saved
 * on a monitor that is gone (or whose resolution shrank) comes back fully visible on the primary screen.
 * Pure functions plus a small JSON store (`window-state.json`, keyed by window role: `workspace`, `chart`,
 * ...). Electron's `screen.getAllDisplays()` fits DisplayLike.
 */
import { z } from 'zod';
import { WINDOW_BOUNDS_PARAMS } from '../../../engine/protocol/index.js';
import { readJsonFile, writeJsonFileAtomic } from '../json-file.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DisplayLike {
  id: number;
  /** The display minus taskbar/dock/menu bar. */
  workArea: Rect;
}

export interface SavedWindowState {
  bounds: Rect;
  displayId?: number | undefined;
  maximized?: boolean | undefined;
  fullScreen?: boolean | undefined;
}

export interface RestoredWindowState {
  bounds: Rect;
  displayId: number;
  maximized: boolean;
  fullScreen: boolean;
}

/**
 * The smallest a window may be made (outer size, as its bounds). The workspace holds the whole layout:
 * below 1024 × 640 of page its top bar wraps and the ticket's selects lose their text (screenshots at
 * 960 × 600 and 800 × 560), and a title bar takes some 30 px of the height. A pop-out holds one panel.
 */
export const MIN_SIZES = { workspace: { width: 1024, height: 680 }, popOut: { width: 360, height: 240 } } as const;

/** The smallest size of a window showing `panel` (a PanelKind: 'workspace' or a pop-out's panel). */
export function minSizeOf(panel: string): { width: number; height: number } {
  return panel === 'workspace' ? MIN_SIZES.workspace : MIN_SIZES.popOut;
}

const RectSchema = z.object({ x: z.number().finite(), y: z.number().finite(), width: z.number().finite(), height: z.number().finite() });
const SavedSchema = z.object({
  bounds: RectSchema,
  displayId: z.number().optional(),
  maximized: z.boolean().optional(),
  fullScreen: z.boolean().optional(),
});

function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Fits `r` inside `area`: no larger than the area (but at least `min` when the area allows), fully inside. */
export function clampToArea(r: Rect, area: Rect, min: { width: number; height: number } = MIN_SIZES.popOut): Rect {
  const width = Math.round(Math.min(Math.max(r.width, Math.min(min.width, area.width)), area.width));
  const height = Math.round(Math.min(Math.max(r.height, Math.min(min.height, area.height)), area.height));
  const x = Math.round(Math.min(Math.max(r.x, area.x), area.x + area.width - width));
  const y = Math.round(Math.min(Math.max(r.y, area.y), area.y + area.height - height));
  return { x, y, width, height };
}

function centered(size: { width: number; height: number }, area: Rect, min: { width: number; height: number }): Rect {
  const width = Math.max(size.width, Math.min(min.width, area.width));
  const height = Math.max(size.height, Math.min(min.height, area.height));
  return clampToArea({ x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }, area, min);
}

/**
 * Where a window opens. The saved display when it is still there; otherwise the display the saved bounds
 * overlap most; otherwise the primary display, centered. Always fully inside a work area.
 * `displays` must not be empty; `primaryId` names the primary one (default: the first). At least `min` where
 * the work area allows (minSizeOf the window's panel).
 */
export function restoreWindowState(
  saved: SavedWindowState | undefined,
  displays: readonly DisplayLike[],
  defaults: { width: number; height: number },
  primaryId?: number,
  min: { width: number; height: number } = MIN_SIZES.popOut,
): RestoredWindowState {
  if (displays.length === 0) throw new RangeError('No displays');
  const primary = displays.find((d) => d.id === primaryId) ?? displays[0]!;
  const valid =
    saved !== undefined &&
    [saved.bounds.x, saved.bounds.y, saved.bounds.width, saved.bounds.height].every(Number.isFinite) &&
    saved.bounds.width > 0 &&
    saved.bounds.height > 0;
  if (!valid) {
    return { bounds: centered(defaults, primary.workArea, min), displayId: primary.id, maximized: false, fullScreen: false };
  }
  const s = saved;
  let display = displays.find((d) => d.id === s.displayId && overlapArea(s.bounds, d.workArea) > 0);
  if (display === undefined) {
    let best = 0;
    for (const d of displays) {
      const a = overlapArea(s.bounds, d.workArea);
      if (a > best) {
        best = a;
        display = d;
      }
    }
  }
  const flags = { maximized: s.maximized === true, fullScreen: s.fullScreen === true };
  if (display === undefined) {
    // The screen it was on is gone: same size, centered on the primary screen.
    return { bounds: centered(s.bounds, primary.workArea, min), displayId: primary.id, ...flags };
  }
  return { bounds: clampToArea(s.bounds, display.workArea, min), displayId: display.id, ...flags };
}

/**
 * The bounds a `hub.window.open` asks for (a restored layout's pop-out: WINDOW_BOUNDS_PARAMS, all four
 * finite numbers with a positive size) and the params without them (what the window's panel gets).
 */
export function boundsFromParams<V>(params: Readonly<Record<string, V>>): { bounds: Rect | undefined; params: Record<string, V> } {
  const keys = Object.values(WINDOW_BOUNDS_PARAMS) as string[];
  const rest = Object.fromEntries(Object.entries(params).filter(([k]) => !keys.includes(k)));
  const n = (k: string): number | undefined => {
    const v = params[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const [x, y, width, height] = [n(WINDOW_BOUNDS_PARAMS.x), n(WINDOW_BOUNDS_PARAMS.y), n(WINDOW_BOUNDS_PARAMS.width), n(WINDOW_BOUNDS_PARAMS.height)];
  const bounds = x !== undefined && y !== undefined && width !== undefined && height !== undefined && width > 0 && height > 0 ? { x, y, width, height } : undefined;
  return { bounds, params: rest };
}

/** Saved window states by role, in `<userData>/window-state.json`. */
export class WindowStateStore {
  readonly #file: string | undefined;
  readonly #states = new Map<string, SavedWindowState>();

  constructor(file?: string) {
    this.#file = file;
    if (file === undefined) return;
    const j = readJsonFile(file);
    if (typeof j !== 'object' || j === null) return;
    for (const [k, v] of Object.entries(j)) {
      const p = SavedSchema.safeParse(v);
      if (p.success) this.#states.set(k, p.data);
    }
  }

  get(role: string): SavedWindowState | undefined {
    return this.#states.get(role);
  }

  set(role: string, state: SavedWindowState): void {
    this.#states.set(role, state);
    if (this.#file !== undefined) writeJsonFileAtomic(this.#file, Object.fromEntries(this.#states));
  }
}
