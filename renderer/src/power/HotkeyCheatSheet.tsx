/** The hotkey cheat sheet: every action with its keys (in the focused panel when given). Escape closes. */
import { useEffect, useRef } from 'react';
import type { PanelKind } from '../../../engine/protocol/index.js';
import { cheatSheet, type Keymap, type Platform } from './hotkeys.js';

export interface HotkeyCheatSheetProps {
  keymap: Keymap;
  platform: Platform;
  focused?: PanelKind | null;
  onClose(): void;
}

export function HotkeyCheatSheet(p: HotkeyCheatSheetProps) {
  const rows = cheatSheet(p.keymap, p.platform, p.focused ?? null);
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && p.onClose()}>
      <div
        className="modal pw-cheats"
        role="dialog"
        aria-modal="true"
        aria-label="Keyboard shortcuts"
        data-testid="hotkey-cheatsheet"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            p.onClose();
          }
        }}
      >
        <h3>Keyboard shortcuts{p.focused ? <span className="muted"> · {p.focused}</span> : null}</h3>
        <table className="pw-cheat-table">
          <tbody>
            {rows.map((r) => (
              <tr key={r.action} className={r.chords.length === 0 ? 'unbound' : undefined}>
                <td>{r.label}</td>
                <td className="keys">
                  {r.chords.length === 0 ? <span className="muted">—</span> : r.chords.map((c) => <kbd key={c}>{c}</kbd>)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted pw-note">
          {p.keymap.confirm ? 'Orders from hotkeys show a preview first (Enter sends).' : 'Hotkeys send orders at once (confirmation is off).'}
        </p>
        <div className="modal-actions">
          <button ref={close} type="button" className="btn" onClick={p.onClose}>
            Close <kbd>Esc</kbd>
          </button>
        </div>
      </div>
    </div>
  );
}
