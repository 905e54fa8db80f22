/**
 * The hotkey settings (F1, or "Hotkeys" in the top bar): every action with its keys and where they work.
 * "Change" records the next key chord for that action (Escape cancels); a chord another action already
 * uses where both apply is refused with the clash named. The order size presets (the quantities keys 1-5
 * pick in the ladder) are edited here too, and confirmation of hotkey orders is switched here. "Default
 * keys" and "Default sizes" put back the standard ones. Every change is saved at once.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { PanelKind } from '../../../engine/protocol/index.js';
import { formatQty, parseQty } from '../format/num.js';
import { ACTION_LABELS, DEFAULT_KEYMAP, chordFromEvent, cheatSheet, formatChord, rebind, type HotkeyAction, type Keymap, type Platform, scopeText } from './hotkeys.js';

export interface HotkeyCheatSheetProps {
  keymap: Keymap;
  platform: Platform;
  focused?: PanelKind | null;
  /** Save a changed keymap (absent: the sheet is read-only). */
  onChange?(km: Keymap): void;
  onClose(): void;
}

/** The largest size a preset may hold (a typo guard, not a risk limit: the venue checks those). */
export const MAX_PRESET = 10_000_000;

export function HotkeyCheatSheet(p: HotkeyCheatSheetProps) {
  const rows = cheatSheet(p.keymap, p.platform, p.focused ?? null);
  const close = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const [recording, setRecording] = useState<HotkeyAction | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [sizes, setSizes] = useState<string[]>(() => p.keymap.sizePresets.map(String));
  useEffect(() => close.current?.focus(), []);
  useEffect(() => {
    if (recording !== null) dialog.current?.focus();
  }, [recording]);
  const presetsKey = p.keymap.sizePresets.join(',');
  useEffect(() => setSizes(presetsKey.split(',')), [presetsKey]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (recording !== null) {
      e.preventDefault();
      e.stopPropagation();
      if (e.key === 'Escape') {
        setRecording(null);
        setMessage(null);
        return;
      }
      const chord = chordFromEvent(e.nativeEvent);
      if (chord === null) return; // a lone modifier: keep listening
      const text = formatChord(chord, p.platform);
      const r = rebind(p.keymap, recording, text, p.platform);
      setRecording(null);
      if (r.conflicts.length > 0) {
        const other = r.conflicts[0]!;
        const clash = other.a.action === recording ? other.b.action : other.a.action;
        setMessage({ text: `${text} is already “${ACTION_LABELS[clash]}” there. Change that one first.`, error: true });
        return;
      }
      p.onChange?.(r.keymap);
      setMessage({ text: `${ACTION_LABELS[recording]}: ${text}`, error: false });
      return;
    }
    if (e.key === 'Escape') {
      e.stopPropagation();
      p.onClose();
    }
  };

  /** Saves preset `i` from its field (a whole, positive number of shares), or says why not. */
  const commitSize = (i: number) => {
    const text = sizes[i] ?? '';
    if (text === String(p.keymap.sizePresets[i])) return;
    const r = parseQty(text);
    if (!r.ok || r.value <= 0 || r.value > MAX_PRESET) {
      setMessage({ text: `Size preset ${i + 1}: ${r.ok ? `enter 1 to ${formatQty(MAX_PRESET)} shares` : r.error}`, error: true });
      setSizes(p.keymap.sizePresets.map(String));
      return;
    }
    const next = [...p.keymap.sizePresets] as [number, number, number, number, number];
    next[i] = r.value;
    p.onChange?.({ ...p.keymap, sizePresets: next });
    setMessage({ text: `Size preset ${i + 1}: ${formatQty(r.value)}`, error: false });
  };

  const editable = p.onChange !== undefined;
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && p.onClose()}>
      <div ref={dialog} tabIndex={-1} className="modal pw-cheats" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="hotkey-cheatsheet" onKeyDown={onKeyDown}>
        <div className="pw-cheat-head">
          <h3>
            Keyboard shortcuts{p.focused ? <span className="muted"> · {p.focused}</span> : null}
          </h3>
          {editable && <p className="muted pw-cheat-sub">To change a key, click Change and press the new keys.</p>}
        </div>
        <table className="pw-cheat-table">
          <tbody>
            {rows.map((r) => (
              <tr key={r.action} data-action={r.action} className={`${r.chords.length === 0 ? 'unbound' : ''}${recording === r.action ? ' recording' : ''}`.trim() || undefined}>
                <td>{r.label}</td>
                <td className="muted where">{r.chords.length === 0 ? '' : scopeText(r.scope)}</td>
                <td className="keys">
                  {recording === r.action ? (
                    <span className="pw-recording">Press keys… (Esc cancels)</span>
                  ) : r.chords.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    r.chords.map((c) => <kbd key={c}>{c}</kbd>)
                  )}
                </td>
                {editable && (
                  <td className="keys">
                    <button
                      type="button"
                      className="btn tiny"
                      aria-label={`Change the key for ${r.label}`}
                      onClick={() => {
                        setMessage(null);
                        setRecording(r.action);
                      }}
                    >
                      Change
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {editable && (
          <fieldset className="pw-presets" data-testid="size-presets">
            <legend>Order size presets</legend>
            {sizes.map((v, i) => (
              <label key={i} className="pw-preset">
                <span className="muted">{i + 1}</span>
                <input
                  aria-label={`Size preset ${i + 1}`}
                  inputMode="numeric"
                  value={v}
                  size={7}
                  onChange={(e) => setSizes((s) => s.map((x, j) => (j === i ? e.target.value : x)))}
                  onBlur={() => commitSize(i)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      commitSize(i);
                    }
                  }}
                />
              </label>
            ))}
            <button
              type="button"
              className="btn tiny"
              onClick={() => {
                p.onChange?.({ ...p.keymap, sizePresets: DEFAULT_KEYMAP.sizePresets });
                setMessage({ text: 'Standard sizes restored', error: false });
              }}
            >
              Default sizes
            </button>
          </fieldset>
        )}
        {message !== null && (
          <div className={message.error ? 'field-error block' : 'muted'} role={message.error ? 'alert' : 'status'} data-testid="hotkey-message">
            {message.text}
          </div>
        )}
        {editable ? (
          <label className="pw-dontask">
            <input type="checkbox" checked={p.keymap.confirm} onChange={(e) => p.onChange?.({ ...p.keymap, confirm: e.target.checked })} /> Preview orders from hotkeys (Enter sends)
          </label>
        ) : (
          <p className="muted pw-note">{p.keymap.confirm ? 'Orders from hotkeys show a preview first (Enter sends).' : 'Hotkeys send orders at once (confirmation is off).'}</p>
        )}
        <div className="modal-actions">
          {editable && (
            <button
              type="button"
              className="btn"
              onClick={() => {
                p.onChange?.({ ...DEFAULT_KEYMAP, sizePresets: p.keymap.sizePresets, confirm: p.keymap.confirm });
                setMessage({ text: 'Standard keys restored', error: false });
              }}
            >
              Default keys
            </button>
          )}
          <button ref={close} type="button" className="btn" onClick={p.onClose}>
            Close <kbd>Esc</kbd>
          </button>
        </div>
      </div>
    </div>
  );
}
