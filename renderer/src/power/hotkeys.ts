/**
 * Hotkeys: key chords, a user-configurable keymap scoped to the focused panel, conflict detection, and
 * the intent a key produces (`{ kind: 'buyAtAsk', qty }`). Turning an intent into a protocol request is
 * intents.ts.
 *
 * Chords are written like Electron accelerators: modifiers then one key, joined by "+": "Shift+B",
 * "Ctrl+Alt+X", "CmdOrCtrl+K", "F5", "Escape". `CmdOrCtrl` is Cmd on macOS and Ctrl elsewhere.
 */
import { z } from 'zod';
import { PanelKindSchema, type PanelKind } from '../../../engine/protocol/index.js';

export type Platform = 'mac' | 'other';

export interface Chord {
  readonly ctrl: boolean;
  readonly alt: boolean;
  readonly shift: boolean;
  readonly meta: boolean;
  /** Normalised key: "A".."Z", "0".."9", "F1".."F24", or a named key such as "Escape", "ArrowUp", "Space". */
  readonly key: string;
}

const NAMED_KEYS = [
  'Escape', 'Enter', 'Space', 'Tab', 'Backspace', 'Delete', 'Insert', 'Home', 'End', 'PageUp', 'PageDown',
  'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Minus', 'Equal', 'BracketLeft', 'BracketRight',
  'Semicolon', 'Quote', 'Comma', 'Period', 'Slash', 'Backslash', 'Backquote',
] as const;
const NAMED_BY_LOWER = new Map<string, string>(NAMED_KEYS.map((k) => [k.toLowerCase(), k]));
const ALIASES: Readonly<Record<string, string>> = {
  esc: 'Escape', return: 'Enter', del: 'Delete', up: 'ArrowUp', down: 'ArrowDown', left: 'ArrowLeft',
  right: 'ArrowRight', pgup: 'PageUp', pgdn: 'PageDown', ' ': 'Space', '-': 'Minus', '=': 'Equal',
  '[': 'BracketLeft', ']': 'BracketRight', ';': 'Semicolon', "'": 'Quote', ',': 'Comma', '.': 'Period',
  '/': 'Slash', '\\': 'Backslash', '`': 'Backquote',
};

function normaliseKey(raw: string): string | null {
  if (/^[a-z0-9]$/i.test(raw)) return raw.toUpperCase();
  const f = /^f([1-9]|1[0-9]|2[0-4])$/i.exec(raw);
  if (f !== null) return `F${f[1]}`;
  return NAMED_BY_LOWER.get(raw.toLowerCase()) ?? ALIASES[raw.toLowerCase()] ?? null;
}

export class ChordError extends Error {
  override readonly name = 'ChordError';
}

/** Parse "Shift+B", "ctrl+alt+x", "CmdOrCtrl+K" (for `platform`). Throws ChordError with a reason. */
export function parseChord(text: string, platform: Platform): Chord {
  const parts = text.trim().split('+');
  // "Shift++" means Shift and the "+" key: not supported (use "Shift+Equal").
  if (parts.some((p) => p.trim() === '')) throw new ChordError(`"${text}": empty part (use "Equal" for the + key)`);
  const mods = { ctrl: false, alt: false, shift: false, meta: false };
  const set = (m: keyof typeof mods) => {
    if (mods[m]) throw new ChordError(`"${text}": ${m} given twice`);
    mods[m] = true;
  };
  for (const raw of parts.slice(0, -1)) {
    switch (raw.trim().toLowerCase()) {
      case 'ctrl':
      case 'control':
        set('ctrl');
        break;
      case 'alt':
      case 'option':
        set('alt');
        break;
      case 'shift':
        set('shift');
        break;
      case 'cmd':
      case 'command':
      case 'meta':
      case 'super':
        set('meta');
        break;
      case 'cmdorctrl':
      case 'commandorcontrol':
        set(platform === 'mac' ? 'meta' : 'ctrl');
        break;
      default:
        throw new ChordError(`"${text}": unknown modifier "${raw.trim()}"`);
    }
  }
  const key = normaliseKey(parts[parts.length - 1]!.trim());
  if (key === null) throw new ChordError(`"${text}": unknown key "${parts[parts.length - 1]!.trim()}"`);
  return { ...mods, key };
}

/** Canonical text of a chord: "Ctrl+Alt+Shift+B" (macOS: "Cmd+…" for meta, "Option" for Alt). */
export function formatChord(c: Chord, platform: Platform): string {
  const out: string[] = [];
  if (c.ctrl) out.push('Ctrl');
  if (c.alt) out.push(platform === 'mac' ? 'Option' : 'Alt');
  if (c.shift) out.push('Shift');
  if (c.meta) out.push(platform === 'mac' ? 'Cmd' : 'Meta');
  out.push(c.key);
  return out.join('+');
}

/** A string that equal chords share (platform-neutral). */
export const chordId = (c: Chord): string =>
  `${c.ctrl ? 'C' : ''}${c.alt ? 'A' : ''}${c.shift ? 'S' : ''}${c.meta ? 'M' : ''}:${c.key}`;

/** The fields of a KeyboardEvent we need (so tests and non-DOM code can build one). */
export interface KeyEventLike {
  readonly key: string;
  readonly code: string;
  readonly ctrlKey: boolean;
  readonly altKey: boolean;
  readonly shiftKey: boolean;
  readonly metaKey: boolean;
}

/**
 * The chord of a key event, or null for a lone modifier. Letters and digits come from `code` (the
 * physical key), so Shift+1 is "Shift+1" and not "!", and Option+B on a Mac is not "∫".
 */
export function chordFromEvent(e: KeyEventLike): Chord | null {
  if (['Shift', 'Control', 'Alt', 'Meta', 'OS', 'AltGraph', 'CapsLock'].includes(e.key)) return null;
  let key: string | null = null;
  const letter = /^Key([A-Z])$/.exec(e.code);
  const digit = /^(?:Digit|Numpad)([0-9])$/.exec(e.code);
  if (letter !== null) key = letter[1]!;
  else if (digit !== null) key = digit[1]!;
  else key = normaliseKey(e.code) ?? normaliseKey(e.key === ' ' ? 'Space' : e.key);
  if (key === null) return null;
  return { ctrl: e.ctrlKey, alt: e.altKey, shift: e.shiftKey, meta: e.metaKey, key };
}

/** Keys typed into a text field belong to the field, unless they carry Ctrl/Cmd/Alt or are Escape/F-keys. */
export function belongsToTextField(c: Chord): boolean {
  if (c.ctrl || c.meta || c.alt) return false;
  return !(c.key === 'Escape' || /^F\d+$/.test(c.key));
}

// ---------------------------------------------------------------- actions and keymap

export const ACTIONS = [
  'buyAtAsk',
  'sellAtBid',
  'buyAtBid',
  'sellAtAsk',
  'cancelAll',
  'flatten',
  'sizePreset1',
  'sizePreset2',
  'sizePreset3',
  'sizePreset4',
  'sizePreset5',
  'recenter',
  'cheatSheet',
] as const;
export type HotkeyAction = (typeof ACTIONS)[number];
export const HotkeyActionSchema = z.enum(ACTIONS);

export const ACTION_LABELS: Readonly<Record<HotkeyAction, string>> = {
  buyAtAsk: 'Buy at the ask',
  sellAtBid: 'Sell at the bid',
  buyAtBid: 'Buy at the bid (join)',
  sellAtAsk: 'Sell at the ask (join)',
  cancelAll: 'Cancel all orders in the symbol',
  flatten: 'Flatten the position',
  sizePreset1: 'Size preset 1',
  sizePreset2: 'Size preset 2',
  sizePreset3: 'Size preset 3',
  sizePreset4: 'Size preset 4',
  sizePreset5: 'Size preset 5',
  recenter: 'Re-centre the ladder',
  cheatSheet: 'Show these shortcuts',
};

/** Where a binding works: everywhere, or only when one of these panels has focus. */
export type Scope = 'global' | readonly PanelKind[];

export interface Binding {
  readonly chord: string;
  readonly action: HotkeyAction;
  readonly scope: Scope;
}

export interface Keymap {
  readonly bindings: readonly Binding[];
  /** Quantities for size presets 1-5 (shares; multiples of the lot are checked when an order is built). */
  readonly sizePresets: readonly [number, number, number, number, number];
  /** Show an order preview and wait for Enter before a hotkey sends an order. */
  readonly confirm: boolean;
}

const TRADING_PANELS: readonly PanelKind[] = ['ladder', 'chart', 'ticket', 'watchlist', 'positions', 'blotter'];

export const DEFAULT_KEYMAP: Keymap = {
  bindings: [
    { chord: 'Shift+B', action: 'buyAtAsk', scope: TRADING_PANELS },
    { chord: 'Shift+S', action: 'sellAtBid', scope: TRADING_PANELS },
    // Not in the order ticket: there Alt+B / Alt+S choose the ticket's side.
    { chord: 'Alt+B', action: 'buyAtBid', scope: TRADING_PANELS.filter((k) => k !== 'ticket') },
    { chord: 'Alt+S', action: 'sellAtAsk', scope: TRADING_PANELS.filter((k) => k !== 'ticket') },
    { chord: 'Shift+X', action: 'cancelAll', scope: TRADING_PANELS },
    { chord: 'Shift+F', action: 'flatten', scope: TRADING_PANELS },
    { chord: '1', action: 'sizePreset1', scope: ['ladder'] },
    { chord: '2', action: 'sizePreset2', scope: ['ladder'] },
    { chord: '3', action: 'sizePreset3', scope: ['ladder'] },
    { chord: '4', action: 'sizePreset4', scope: ['ladder'] },
    { chord: '5', action: 'sizePreset5', scope: ['ladder'] },
    { chord: 'C', action: 'recenter', scope: ['ladder'] },
    { chord: 'F1', action: 'cheatSheet', scope: 'global' },
  ],
  sizePresets: [100, 200, 500, 1000, 5000],
  confirm: true,
};

const scopesOverlap = (a: Scope, b: Scope): boolean =>
  a === 'global' || b === 'global' || a.some((k) => b.includes(k));

export interface Conflict {
  /** The canonical chord both use. */
  readonly chord: string;
  readonly a: Binding;
  readonly b: Binding;
  /** Panels where both apply ('global' when both are global). */
  readonly where: Scope;
}

const PANEL_NAMES: Partial<Record<PanelKind, string>> = { ladder: 'Ladder', chart: 'Chart', ticket: 'Ticket', watchlist: 'Watchlist', positions: 'Positions', blotter: 'Blotter' };

/** Where a binding works, in words (the hotkey settings show it beside each action). */
export function scopeText(s: Scope): string {
  if (s === 'global') return 'Everywhere';
  if (s.length >= 4) return s.includes('ticket') ? 'Trading panels' : 'Trading panels (not the ticket)';
  return s.map((k) => PANEL_NAMES[k] ?? k).join(', ');
}

/** Pairs of bindings with the same chord whose scopes overlap (a key would be ambiguous). */
export function findConflicts(km: Keymap, platform: Platform): Conflict[] {
  const out: Conflict[] = [];
  const parsed = km.bindings.map((b) => ({ b, id: chordId(parseChord(b.chord, platform)) }));
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const x = parsed[i]!;
      const y = parsed[j]!;
      if (x.id !== y.id || !scopesOverlap(x.b.scope, y.b.scope)) continue;
      const where: Scope =
        x.b.scope === 'global' ? y.b.scope : y.b.scope === 'global' ? x.b.scope : x.b.scope.filter((k) => (y.b.scope as readonly PanelKind[]).includes(k));
      out.push({ chord: formatChord(parseChord(x.b.chord, platform), platform), a: x.b, b: y.b, where });
    }
  }
  return out;
}

/**
 * Rebind an action: every binding of `action` is replaced by one with `chord` (kept scope, or the given
 * one). Returns the new keymap and the conflicts it would create; the caller decides whether to keep it.
 */
export function rebind(
  km: Keymap,
  action: HotkeyAction,
  chord: string,
  platform: Platform,
  scope?: Scope,
): { keymap: Keymap; conflicts: Conflict[] } {
  const canonical = formatChord(parseChord(chord, platform), platform);
  const old = km.bindings.find((b) => b.action === action);
  const binding: Binding = { chord: canonical, action, scope: scope ?? old?.scope ?? 'global' };
  const keymap = { ...km, bindings: [...km.bindings.filter((b) => b.action !== action), binding] };
  const conflicts = findConflicts(keymap, platform).filter((c) => c.a === binding || c.b === binding);
  return { keymap, conflicts };
}

/** Remove every binding of an action. */
export function unbind(km: Keymap, action: HotkeyAction): Keymap {
  return { ...km, bindings: km.bindings.filter((b) => b.action !== action) };
}

/**
 * The binding a chord triggers in the focused panel (null focus: no panel, only global bindings). A
 * binding scoped to the panel wins over a global one with the same chord.
 */
export function resolveChord(km: Keymap, chord: Chord, focused: PanelKind | null, platform: Platform): Binding | null {
  const id = chordId(chord);
  let global: Binding | null = null;
  for (const b of km.bindings) {
    let bid: string;
    try {
      bid = chordId(parseChord(b.chord, platform));
    } catch {
      continue;
    }
    if (bid !== id) continue;
    if (b.scope === 'global') global ??= b;
    else if (focused !== null && b.scope.includes(focused)) return b;
  }
  return global;
}

// ---------------------------------------------------------------- intents

export type Intent =
  | { readonly kind: 'buyAtAsk' | 'sellAtBid' | 'buyAtBid' | 'sellAtAsk'; readonly qty: number }
  | { readonly kind: 'cancelAll' }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'setSize'; readonly qty: number; readonly preset: number }
  | { readonly kind: 'recenter' }
  | { readonly kind: 'cheatSheet' };

/** What an action means with the current order size. */
export function actionToIntent(action: HotkeyAction, km: Keymap, currentQty: number): Intent {
  switch (action) {
    case 'buyAtAsk':
    case 'sellAtBid':
    case 'buyAtBid':
    case 'sellAtAsk':
      return { kind: action, qty: currentQty };
    case 'sizePreset1':
    case 'sizePreset2':
    case 'sizePreset3':
    case 'sizePreset4':
    case 'sizePreset5': {
      const preset = Number(action.slice(-1));
      return { kind: 'setSize', qty: km.sizePresets[preset - 1]!, preset };
    }
    case 'cancelAll':
    case 'flatten':
    case 'recenter':
    case 'cheatSheet':
      return { kind: action };
  }
}

export interface KeyContext {
  readonly focused: PanelKind | null;
  /** Whether focus is in a text input (plain keys then belong to the input). */
  readonly inTextField: boolean;
  readonly currentQty: number;
  readonly platform: Platform;
}

/** A key event → the intent it triggers, or null (not bound here, or typed into a field). */
export function intentForKey(km: Keymap, e: KeyEventLike, ctx: KeyContext): { intent: Intent; binding: Binding } | null {
  const chord = chordFromEvent(e);
  if (chord === null) return null;
  if (ctx.inTextField && belongsToTextField(chord)) return null;
  const binding = resolveChord(km, chord, ctx.focused, ctx.platform);
  return binding === null ? null : { intent: actionToIntent(binding.action, km, ctx.currentQty), binding };
}

/** The cheat-sheet rows: every action with its chords in the focused panel (or all, with null). */
export function cheatSheet(km: Keymap, platform: Platform, focused: PanelKind | null = null): { action: HotkeyAction; label: string; chords: string[]; scope: Scope }[] {
  return ACTIONS.map((action) => {
    const bs = km.bindings.filter((b) => b.action === action && (focused === null || b.scope === 'global' || b.scope.includes(focused)));
    return {
      action,
      label: action.startsWith('sizePreset') ? `${ACTION_LABELS[action]} (${km.sizePresets[Number(action.slice(-1)) - 1]})` : ACTION_LABELS[action],
      chords: bs.map((b) => formatChord(parseChord(b.chord, platform), platform)),
      scope: bs[0]?.scope ?? 'global',
    };
  });
}

// ---------------------------------------------------------------- storage

export const KEYMAP_VERSION = 1;
const ChordTextSchema = z.string().min(1).max(40);
export const StoredKeymapSchema = z.object({
  version: z.literal(KEYMAP_VERSION),
  bindings: z
    .array(z.object({ chord: ChordTextSchema, action: HotkeyActionSchema, scope: z.union([z.literal('global'), z.array(PanelKindSchema).min(1)]) }))
    .max(100),
  sizePresets: z.tuple([z.int().positive(), z.int().positive(), z.int().positive(), z.int().positive(), z.int().positive()]),
  confirm: z.boolean(),
});

export function serializeKeymap(km: Keymap): string {
  return JSON.stringify({ version: KEYMAP_VERSION, ...km });
}

/** Parse a stored keymap; every chord must parse on this platform. */
export function parseKeymap(json: string, platform: Platform): { ok: true; keymap: Keymap } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { ok: false, error: `Not JSON: ${(e as Error).message}` };
  }
  const r = StoredKeymapSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  for (const b of r.data.bindings) {
    try {
      parseChord(b.chord, platform);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }
  const { bindings, sizePresets, confirm } = r.data;
  return { ok: true, keymap: { bindings, sizePresets, confirm } };
}

/** The platform from a user agent / navigator.platform string. */
export const platformOf = (ua: string): Platform => (/Mac|iPhone|iPad/.test(ua) ? 'mac' : 'other');
