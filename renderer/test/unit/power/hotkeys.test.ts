import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ACTIONS,
  actionToIntent,
  chordFromEvent,
  ChordError,
  cheatSheet,
  DEFAULT_KEYMAP,
  findConflicts,
  formatChord,
  intentForKey,
  parseChord,
  parseKeymap,
  platformOf,
  rebind,
  resolveChord,
  serializeKeymap,
  unbind,
  type KeyEventLike,
} from '../../../src/power/hotkeys.js';

const ev = (code: string, mods: Partial<KeyEventLike> = {}, key = ''): KeyEventLike => ({
  key,
  code,
  ctrlKey: false,
  altKey: false,
  shiftKey: false,
  metaKey: false,
  ...mods,
});

describe('chords', () => {
  it('parses modifiers in any order and case, and prints them canonically', () => {
    expect(parseChord('Shift+B', 'other')).toEqual({ ctrl: false, alt: false, shift: true, meta: false, key: 'B' });
    expect(formatChord(parseChord('x+alt+ctrl'.split('+').reverse().join('+'), 'other'), 'other')).toBe('Ctrl+Alt+X');
    expect(formatChord(parseChord('shift+control+f5', 'other'), 'other')).toBe('Ctrl+Shift+F5');
    expect(formatChord(parseChord('esc', 'other'), 'other')).toBe('Escape');
    expect(formatChord(parseChord('Alt+up', 'mac'), 'mac')).toBe('Option+ArrowUp');
  });

  it('maps CmdOrCtrl to Cmd on macOS and Ctrl elsewhere', () => {
    expect(parseChord('CmdOrCtrl+K', 'mac')).toMatchObject({ meta: true, ctrl: false, key: 'K' });
    expect(parseChord('CmdOrCtrl+K', 'other')).toMatchObject({ meta: false, ctrl: true, key: 'K' });
    expect(formatChord(parseChord('CmdOrCtrl+K', 'mac'), 'mac')).toBe('Cmd+K');
    expect(platformOf('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)')).toBe('mac');
    expect(platformOf('Mozilla/5.0 (X11; Linux x86_64)')).toBe('other');
  });

  it('refuses unknown keys and modifiers, repeats and empty parts', () => {
    for (const bad of ['Hyper+B', 'Shift+', 'Shift+Shift+B', 'Ctrl+Foo', '', 'Ctrl+Control+A', 'F25']) {
      expect(() => parseChord(bad, 'other'), bad).toThrow(ChordError);
    }
  });

  it('property: format then parse is the identity', () => {
    const chordArb = fc.record({
      ctrl: fc.boolean(),
      alt: fc.boolean(),
      shift: fc.boolean(),
      meta: fc.boolean(),
      key: fc.constantFrom('A', 'Z', '0', '9', 'F1', 'F12', 'Escape', 'ArrowUp', 'Space', 'Slash'),
    });
    fc.assert(
      fc.property(chordArb, fc.constantFrom('mac' as const, 'other' as const), (c, p) => {
        expect(parseChord(formatChord(c, p), p)).toEqual(c);
      }),
    );
  });

  it('reads the physical key from events: Shift+1 is "Shift+1", Option+B is "Alt+B"', () => {
    expect(chordFromEvent(ev('Digit1', { shiftKey: true }, '!'))).toMatchObject({ shift: true, key: '1' });
    expect(chordFromEvent(ev('KeyB', { altKey: true }, '∫'))).toMatchObject({ alt: true, key: 'B' });
    expect(chordFromEvent(ev('Numpad3', {}, '3'))).toMatchObject({ key: '3' });
    expect(chordFromEvent(ev('Escape', {}, 'Escape'))).toMatchObject({ key: 'Escape' });
    expect(chordFromEvent(ev('ShiftLeft', { shiftKey: true }, 'Shift'))).toBeNull();
  });
});

describe('keymap', () => {
  it('the defaults have no conflicts and bind every trading action', () => {
    expect(findConflicts(DEFAULT_KEYMAP, 'other')).toEqual([]);
    expect(findConflicts(DEFAULT_KEYMAP, 'mac')).toEqual([]);
    for (const a of ['buyAtAsk', 'sellAtBid', 'cancelAll', 'flatten', 'sizePreset1', 'sizePreset5'] as const) {
      expect(DEFAULT_KEYMAP.bindings.some((b) => b.action === a)).toBe(true);
    }
  });

  it('detects a chord used twice where scopes overlap, and only there', () => {
    const clash = rebind(DEFAULT_KEYMAP, 'flatten', 'shift+b', 'other');
    expect(clash.conflicts).toHaveLength(1);
    expect(clash.conflicts[0]).toMatchObject({ chord: 'Shift+B', a: { action: 'buyAtAsk' }, b: { action: 'flatten' } });
    // '1' is a size preset in the ladder (the chart uses 1-5 for timeframes); binding it in the blotter does not clash.
    expect(rebind(DEFAULT_KEYMAP, 'cancelAll', '1', 'other', ['blotter']).conflicts).toEqual([]);
    // ...but a global binding overlaps every panel.
    const g = rebind(DEFAULT_KEYMAP, 'cancelAll', '1', 'other', 'global');
    expect(g.conflicts.map((c) => c.where)).toEqual([['ladder']]);
  });

  it('CmdOrCtrl conflicts depend on the platform', () => {
    const km = { ...DEFAULT_KEYMAP, bindings: [
      { chord: 'CmdOrCtrl+B', action: 'buyAtAsk' as const, scope: 'global' as const },
      { chord: 'Ctrl+B', action: 'sellAtBid' as const, scope: 'global' as const },
    ] };
    expect(findConflicts(km, 'other')).toHaveLength(1);
    expect(findConflicts(km, 'mac')).toHaveLength(0);
  });

  it('rebind replaces the old chord, stores it canonically and keeps the scope', () => {
    const { keymap } = rebind(DEFAULT_KEYMAP, 'buyAtAsk', 'ctrl+shift+b', 'other');
    const b = keymap.bindings.filter((x) => x.action === 'buyAtAsk');
    expect(b).toEqual([{ chord: 'Ctrl+Shift+B', action: 'buyAtAsk', scope: DEFAULT_KEYMAP.bindings[0]!.scope }]);
    expect(resolveChord(keymap, parseChord('Shift+B', 'other'), 'ladder', 'other')).toBeNull();
    expect(unbind(keymap, 'buyAtAsk').bindings.some((x) => x.action === 'buyAtAsk')).toBe(false);
  });

  it('leaves Alt+B / Alt+S to the order ticket (its side keys)', () => {
    expect(resolveChord(DEFAULT_KEYMAP, parseChord('Alt+B', 'other'), 'ticket', 'other')).toBeNull();
    expect(resolveChord(DEFAULT_KEYMAP, parseChord('Alt+B', 'other'), 'ladder', 'other')?.action).toBe('buyAtBid');
    expect(resolveChord(DEFAULT_KEYMAP, parseChord('Shift+B', 'other'), 'ticket', 'other')?.action).toBe('buyAtAsk');
  });

  it('resolves by focused panel; a panel binding beats a global one', () => {
    const km = { ...DEFAULT_KEYMAP, bindings: [...DEFAULT_KEYMAP.bindings, { chord: '1', action: 'cheatSheet' as const, scope: 'global' as const }] };
    const one = parseChord('1', 'other');
    expect(resolveChord(km, one, 'ladder', 'other')?.action).toBe('sizePreset1');
    expect(resolveChord(km, one, 'blotter', 'other')?.action).toBe('cheatSheet');
    expect(resolveChord(DEFAULT_KEYMAP, one, 'blotter', 'other')).toBeNull();
    expect(resolveChord(DEFAULT_KEYMAP, parseChord('Shift+B', 'other'), null, 'other')).toBeNull();
    expect(resolveChord(DEFAULT_KEYMAP, parseChord('F1', 'other'), null, 'other')?.action).toBe('cheatSheet');
  });
});

describe('intents', () => {
  const ctx = { focused: 'ladder' as const, inTextField: false, currentQty: 300, platform: 'other' as const };
  it('a key gives the intent with the current size; presets give their size', () => {
    expect(intentForKey(DEFAULT_KEYMAP, ev('KeyB', { shiftKey: true }, 'B'), ctx)?.intent).toEqual({ kind: 'buyAtAsk', qty: 300 });
    expect(intentForKey(DEFAULT_KEYMAP, ev('KeyS', { shiftKey: true }, 'S'), ctx)?.intent).toEqual({ kind: 'sellAtBid', qty: 300 });
    expect(intentForKey(DEFAULT_KEYMAP, ev('Digit3', {}, '3'), ctx)?.intent).toEqual({ kind: 'setSize', qty: 500, preset: 3 });
    expect(intentForKey(DEFAULT_KEYMAP, ev('KeyX', { shiftKey: true }, 'X'), ctx)?.intent).toEqual({ kind: 'cancelAll' });
    expect(actionToIntent('sizePreset5', DEFAULT_KEYMAP, 1)).toEqual({ kind: 'setSize', qty: 5000, preset: 5 });
  });

  it('plain keys typed into a field stay in the field; modified ones and F-keys do not', () => {
    const typing = { ...ctx, inTextField: true };
    expect(intentForKey(DEFAULT_KEYMAP, ev('Digit3', {}, '3'), typing)).toBeNull();
    expect(intentForKey(DEFAULT_KEYMAP, ev('KeyB', { shiftKey: true }, 'B'), typing)).toBeNull();
    expect(intentForKey(DEFAULT_KEYMAP, ev('KeyB', { altKey: true }, 'b'), typing)?.intent).toEqual({ kind: 'buyAtBid', qty: 300 });
    expect(intentForKey(DEFAULT_KEYMAP, ev('F1', {}, 'F1'), typing)?.intent).toEqual({ kind: 'cheatSheet' });
  });

  it('the cheat sheet lists every action with its chords in the focused panel', () => {
    const rows = cheatSheet(DEFAULT_KEYMAP, 'other', 'blotter');
    expect(rows.map((r) => r.action)).toEqual([...ACTIONS]);
    expect(rows.find((r) => r.action === 'buyAtAsk')!.chords).toEqual(['Shift+B']);
    expect(rows.find((r) => r.action === 'sizePreset1')!.chords).toEqual([]); // not in the blotter
    expect(rows.find((r) => r.action === 'sizePreset2')!.label).toBe('Size preset 2 (200)');
  });
});

describe('keymap storage', () => {
  it('round-trips and rejects bad data', () => {
    const { keymap } = rebind({ ...DEFAULT_KEYMAP, confirm: false }, 'flatten', 'Ctrl+Alt+F', 'other');
    expect(parseKeymap(serializeKeymap(keymap), 'other')).toEqual({ ok: true, keymap });
    expect(parseKeymap('{', 'other').ok).toBe(false);
    const bad = JSON.parse(serializeKeymap(keymap)) as { bindings: { chord: string }[]; sizePresets: number[] };
    bad.bindings[0]!.chord = 'Hyper+Q';
    expect(parseKeymap(JSON.stringify(bad), 'other')).toMatchObject({ ok: false, error: expect.stringContaining('Hyper') });
    const bad2 = JSON.parse(serializeKeymap(keymap)) as { sizePresets: number[] };
    bad2.sizePresets[0] = 0;
    expect(parseKeymap(JSON.stringify(bad2), 'other').ok).toBe(false);
  });
});

describe('hotkey settings', () => {
  it('says where a binding works in words', async () => {
    const { scopeText } = await import('../../../src/power/hotkeys.js');
    expect(scopeText('global')).toBe('Everywhere');
    expect(scopeText(['ladder'])).toBe('Ladder');
    expect(scopeText(['ladder', 'chart'])).toBe('Ladder, Chart');
    expect(scopeText(['ladder', 'chart', 'ticket', 'watchlist', 'positions', 'blotter'])).toBe('Trading panels');
    expect(scopeText(['ladder', 'chart', 'watchlist', 'positions', 'blotter'])).toBe('Trading panels (not the ticket)');
  });
});
