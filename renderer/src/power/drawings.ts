/**
 * Chart drawings: horizontal line, trend line, rectangle and text, anchored in (time, price) so they stay
 * put when the chart scrolls or zooms. Create, select, move (whole or by one anchor), delete; hit-testing
 * in pixels through a coordinate mapper; versioned JSON per symbol for storage.
 *
 * Times are ms since the epoch (as candles); prices are minor units (a drawing anchor can sit between
 * ticks: it is where the trader clicked, not an order price).
 */
import { z } from 'zod';

export interface Anchor {
  readonly t: number;
  readonly p: number;
}

export interface DrawingStyle {
  readonly color: string;
  readonly width: number;
}

export type Drawing =
  | { readonly id: string; readonly kind: 'hline'; readonly p: number; readonly style: DrawingStyle }
  | { readonly id: string; readonly kind: 'trend'; readonly a: Anchor; readonly b: Anchor; readonly style: DrawingStyle }
  | { readonly id: string; readonly kind: 'rect'; readonly a: Anchor; readonly b: Anchor; readonly style: DrawingStyle }
  | { readonly id: string; readonly kind: 'text'; readonly at: Anchor; readonly text: string; readonly style: DrawingStyle };

export type DrawingKind = Drawing['kind'];

/** Maps chart data space to pixels and back (a lightweight-charts adapter provides it). Null: off the scale. */
export interface CoordinateMapper {
  timeToX(t: number): number | null;
  priceToY(p: number): number | null;
  xToTime(x: number): number | null;
  yToPrice(y: number): number | null;
  /** Size of a text label in pixels (default: 7 px per character, 14 px high). */
  measureText?(text: string): { width: number; height: number };
}

/** Which part of a drawing a pointer is on: the whole body, or one anchor handle. */
export type DrawingPart = 'body' | 'a' | 'b';

export interface Hit {
  readonly id: string;
  readonly part: DrawingPart;
  /** Distance in pixels (0 inside a rectangle or a text box). */
  readonly distance: number;
}

export const DEFAULT_STYLE: DrawingStyle = { color: '#f0b90b', width: 1 };

// ---------------------------------------------------------------- geometry

interface Pt {
  x: number;
  y: number;
}

function distToSegment(p: Pt, a: Pt, b: Pt): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const u = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + u * dx), p.y - (a.y + u * dy));
}

function toPx(m: CoordinateMapper, a: Anchor): Pt | null {
  const x = m.timeToX(a.t);
  const y = m.priceToY(a.p);
  return x === null || y === null ? null : { x, y };
}

const measure = (m: CoordinateMapper, text: string) => m.measureText?.(text) ?? { width: 7 * text.length, height: 14 };

/** Hit-test one drawing at pixel (x, y) within `tolerance` pixels; null if not hit. */
export function hitTestDrawing(d: Drawing, x: number, y: number, tolerance: number, m: CoordinateMapper): Hit | null {
  const p = { x, y };
  switch (d.kind) {
    case 'hline': {
      const ly = m.priceToY(d.p);
      if (ly === null) return null;
      const dist = Math.abs(y - ly);
      return dist <= tolerance ? { id: d.id, part: 'body', distance: dist } : null;
    }
    case 'trend': {
      const a = toPx(m, d.a);
      const b = toPx(m, d.b);
      if (a === null || b === null) return null;
      const da = Math.hypot(x - a.x, y - a.y);
      const db = Math.hypot(x - b.x, y - b.y);
      if (da <= tolerance && da <= db) return { id: d.id, part: 'a', distance: da };
      if (db <= tolerance) return { id: d.id, part: 'b', distance: db };
      const dist = distToSegment(p, a, b);
      return dist <= tolerance ? { id: d.id, part: 'body', distance: dist } : null;
    }
    case 'rect': {
      const a = toPx(m, d.a);
      const b = toPx(m, d.b);
      if (a === null || b === null) return null;
      const da = Math.hypot(x - a.x, y - a.y);
      const db = Math.hypot(x - b.x, y - b.y);
      if (da <= tolerance && da <= db) return { id: d.id, part: 'a', distance: da };
      if (db <= tolerance) return { id: d.id, part: 'b', distance: db };
      const x0 = Math.min(a.x, b.x) - tolerance;
      const x1 = Math.max(a.x, b.x) + tolerance;
      const y0 = Math.min(a.y, b.y) - tolerance;
      const y1 = Math.max(a.y, b.y) + tolerance;
      if (x < x0 || x > x1 || y < y0 || y > y1) return null;
      // Inside (or on the border within tolerance): distance to the nearest edge, 0 inside.
      const inside = x >= x0 + tolerance && x <= x1 - tolerance && y >= y0 + tolerance && y <= y1 - tolerance;
      const edge = Math.min(Math.abs(x - (x0 + tolerance)), Math.abs(x - (x1 - tolerance)), Math.abs(y - (y0 + tolerance)), Math.abs(y - (y1 - tolerance)));
      return { id: d.id, part: 'body', distance: inside ? 0 : edge };
    }
    case 'text': {
      const at = toPx(m, d.at);
      if (at === null) return null;
      const { width, height } = measure(m, d.text);
      // The anchor is the text's left baseline; the box extends up by its height.
      const inX = x >= at.x - tolerance && x <= at.x + width + tolerance;
      const inY = y >= at.y - height - tolerance && y <= at.y + tolerance;
      return inX && inY ? { id: d.id, part: 'body', distance: 0 } : null;
    }
  }
}

/**
 * The drawing under the pointer: the selected one first (so a selected drawing stays grabbable where it
 * overlaps others), then the nearest, the most recently drawn winning ties (it is painted on top).
 */
export function hitTest(state: DrawingsState, x: number, y: number, tolerance: number, m: CoordinateMapper): Hit | null {
  let best: Hit | null = null;
  for (let i = state.drawings.length - 1; i >= 0; i--) {
    const d = state.drawings[i]!;
    const h = hitTestDrawing(d, x, y, tolerance, m);
    if (h === null) continue;
    if (d.id === state.selectedId) return h;
    if (best === null || h.distance < best.distance) best = h;
  }
  return best;
}

// ---------------------------------------------------------------- state

export interface DrawingsState {
  /** Oldest first (painted in this order). */
  readonly drawings: readonly Drawing[];
  readonly selectedId: string | null;
}

export const EMPTY_DRAWINGS: DrawingsState = { drawings: [], selectedId: null };

export function addDrawing(s: DrawingsState, d: Drawing, select = true): DrawingsState {
  if (s.drawings.some((x) => x.id === d.id)) throw new Error(`A drawing with id ${d.id} exists`);
  return { drawings: [...s.drawings, d], selectedId: select ? d.id : s.selectedId };
}

export function selectDrawing(s: DrawingsState, id: string | null): DrawingsState {
  if (id !== null && !s.drawings.some((d) => d.id === id)) return s;
  return id === s.selectedId ? s : { ...s, selectedId: id };
}

export function removeDrawing(s: DrawingsState, id: string): DrawingsState {
  const drawings = s.drawings.filter((d) => d.id !== id);
  if (drawings.length === s.drawings.length) return s;
  return { drawings, selectedId: s.selectedId === id ? null : s.selectedId };
}

/** Delete the selected drawing (the Delete key). */
export function removeSelected(s: DrawingsState): DrawingsState {
  return s.selectedId === null ? s : removeDrawing(s, s.selectedId);
}

export function updateDrawing(s: DrawingsState, id: string, f: (d: Drawing) => Drawing): DrawingsState {
  let changed = false;
  const drawings = s.drawings.map((d) => {
    if (d.id !== id) return d;
    const n = f(d);
    if (n !== d) changed = true;
    return n;
  });
  return changed ? { ...s, drawings } : s;
}

const shift = (a: Anchor, dt: number, dp: number): Anchor => ({ t: a.t + dt, p: a.p + dp });

/** Move a drawing, or one of its anchors, by (dt ms, dp price units). */
export function moveDrawing(d: Drawing, part: DrawingPart, dt: number, dp: number): Drawing {
  switch (d.kind) {
    case 'hline':
      return { ...d, p: d.p + dp };
    case 'text':
      return { ...d, at: shift(d.at, dt, dp) };
    case 'trend':
    case 'rect':
      return {
        ...d,
        a: part === 'b' ? d.a : shift(d.a, dt, dp),
        b: part === 'a' ? d.b : shift(d.b, dt, dp),
      };
  }
}

/**
 * A drag in progress: the pointer went down on `hit` at pixel `from`; each move maps both pixels to data
 * space and moves the drawing as it was at the start by the difference (no drift from accumulating deltas).
 */
export function dragDrawing(
  start: DrawingsState,
  hit: Hit,
  from: { x: number; y: number },
  to: { x: number; y: number },
  m: CoordinateMapper,
): DrawingsState {
  const t0 = m.xToTime(from.x);
  const t1 = m.xToTime(to.x);
  const p0 = m.yToPrice(from.y);
  const p1 = m.yToPrice(to.y);
  if (p0 === null || p1 === null) return start;
  const dt = t0 === null || t1 === null ? 0 : t1 - t0;
  if (dt === 0 && p1 === p0) return start;
  return updateDrawing(start, hit.id, (d) => moveDrawing(d, hit.part, dt, p1 - p0));
}

/** A new drawing of a kind from one or two clicks (text needs its text). */
export function makeDrawing(
  id: string,
  kind: DrawingKind,
  a: Anchor,
  b: Anchor = a,
  opts: { text?: string; style?: DrawingStyle } = {},
): Drawing {
  const style = opts.style ?? DEFAULT_STYLE;
  switch (kind) {
    case 'hline':
      return { id, kind, p: a.p, style };
    case 'trend':
    case 'rect':
      return { id, kind, a, b, style };
    case 'text':
      return { id, kind, at: a, text: opts.text ?? 'Text', style };
  }
}

/** How many clicks a tool needs to place its drawing. */
export const CLICKS_TO_PLACE: Readonly<Record<DrawingKind, 1 | 2>> = { hline: 1, text: 1, trend: 2, rect: 2 };

// ---------------------------------------------------------------- storage

export const DRAWINGS_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const AnchorSchema = z.object({ t: z.int().nonnegative(), p: finite });
const StyleSchema = z.object({ color: z.string().regex(/^#[0-9a-fA-F]{3,8}$/), width: z.number().min(0.5).max(10) });
const IdSchema = z.string().min(1).max(64);
export const DrawingSchema = z.discriminatedUnion('kind', [
  z.object({ id: IdSchema, kind: z.literal('hline'), p: finite, style: StyleSchema }),
  z.object({ id: IdSchema, kind: z.literal('trend'), a: AnchorSchema, b: AnchorSchema, style: StyleSchema }),
  z.object({ id: IdSchema, kind: z.literal('rect'), a: AnchorSchema, b: AnchorSchema, style: StyleSchema }),
  z.object({ id: IdSchema, kind: z.literal('text'), at: AnchorSchema, text: z.string().min(1).max(200), style: StyleSchema }),
]);
export const StoredDrawingsSchema = z
  .object({
    version: z.literal(DRAWINGS_VERSION),
    symbol: z.string().min(1).max(16),
    drawings: z.array(DrawingSchema).max(500),
  })
  .refine((s) => new Set(s.drawings.map((d) => d.id)).size === s.drawings.length, { error: 'Drawing ids must be unique' });

/** The storage key for one symbol's drawings. */
export const drawingsKey = (symbol: string): string => `tradedesk.drawings.v${DRAWINGS_VERSION}.${symbol}`;

export function serializeDrawings(symbol: string, s: DrawingsState): string {
  return JSON.stringify({ version: DRAWINGS_VERSION, symbol, drawings: s.drawings });
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Parse stored drawings for `symbol`; anything malformed, of another version or another symbol is an error. */
export function parseDrawings(symbol: string, json: string): ParseResult<DrawingsState> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { ok: false, error: `Not JSON: ${(e as Error).message}` };
  }
  const r = StoredDrawingsSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  if (r.data.symbol !== symbol) return { ok: false, error: `These drawings are for ${r.data.symbol}, not ${symbol}` };
  return { ok: true, value: { drawings: r.data.drawings, selectedId: null } };
}

/** Minimal key-value storage (window.localStorage fits). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function saveDrawings(store: KeyValueStore, symbol: string, s: DrawingsState): void {
  if (s.drawings.length === 0) store.removeItem(drawingsKey(symbol));
  else store.setItem(drawingsKey(symbol), serializeDrawings(symbol, s));
}

/** Load a symbol's drawings; nothing stored or unreadable → empty (an unreadable entry is reported). */
export function loadDrawings(store: KeyValueStore, symbol: string, onError?: (message: string) => void): DrawingsState {
  const json = store.getItem(drawingsKey(symbol));
  if (json === null) return EMPTY_DRAWINGS;
  const r = parseDrawings(symbol, json);
  if (r.ok) return r.value;
  onError?.(r.error);
  return EMPTY_DRAWINGS;
}
