/**
 * The hotkey cheat sheet, which is also where keys are changed: "Change" records the next key chord for
 * that action (Escape cancels); a chord another action already uses where both apply is refused with the
 * clash named. Confirmation of hotkey orders can be switched here; "Defaults" restores the standard keys.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { PanelKind } from '../../../engine/protocol/index.js';
import { ACTION_LABELS, DEFAULT_KEYMAP, chordFromEvent, cheatSheet, formatChord, rebind, type HotkeyAction, type Keymap, type Platform } from './hotkeys.js';

export interface HotkeyCheatSheetProps {
  keymap: Keymap;
  platform: Platform;
  focused?: PanelKind | null;
  /** Save a changed keymap (absent: the sheet is read-only). */
  onChange?(km: Keymap): void;
  onClose(): void;
}

export function HotkeyCheatSheet(p: HotkeyCheatSheetProps) {
  const rows = cheatSheet(p.keymap, p.platform, p.focused ?? null);
  const close = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const [recording, setRecording] = useState<HotkeyAction | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  useEffect(() => close.current?.focus(), []);
  useEffect(() => {
    if (recording !== null) dialog.current?.focus();
  }, [recording]);

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

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && p.onClose()}>
      <div ref={dialog} tabIndex={-1} className="modal pw-cheats" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="hotkey-cheatsheet" onKeyDown={onKeyDown}>
        <h3>Keyboard shortcuts{p.focused ? <span className="muted"> · {p.focused}</span> : null}</h3>
        <table className="pw-cheat-table">
          <tbody>
            {rows.map((r) => (
              <tr key={r.action} data-action={r.action} className={r.chords.length === 0 ? 'unbound' : undefined}>
                <td>{r.label}</td>
                <td className="keys">
                  {recording === r.action ? (
                    <span className="pw-recording">Press keys…</span>
                  ) : r.chords.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    r.chords.map((c) => <kbd key={c}>{c}</kbd>)
                  )}
                </td>
                {p.onChange !== undefined && (
                  <td className="keys">
                    <button type="button" className="btn tiny" aria-label={`Change the key for ${r.label}`} onClick={() => {
                      setMessage(null);
                      setRecording(r.action);
                    }}>
                      Change
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {message !== null && (
          <div className={message.error ? 'field-error block' : 'muted'} role={message.error ? 'alert' : 'status'} data-testid="hotkey-message">
            {message.text}
          </div>
        )}
        {p.onChange !== undefined ? (
          <label className="pw-dontask">
            <input type="checkbox" checked={p.keymap.confirm} onChange={(e) => p.onChange?.({ ...p.keymap, confirm: e.target.checked })} /> Preview orders from hotkeys (Enter sends)
          </label>
        ) : (
          <p className="muted pw-note">{p.keymap.confirm ? 'Orders from hotkeys show a preview first (Enter sends).' : 'Hotkeys send orders at once (confirmation is off).'}</p>
        )}
        <div className="modal-actions">
          {p.onChange !== undefined && (
            <button type="button" className="btn" onClick={() => {
              p.onChange?.({ ...DEFAULT_KEYMAP, sizePresets: p.keymap.sizePresets });
              setMessage({ text: 'Standard keys restored', error: false });
            }}>
              Defaults
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
