/**
 * The order preview shown before something sends an order (a ladder click on first use, a hotkey while
 * confirmation is on). A fresh press of Enter sends (not the repeats of a key held since before it opened), Escape cancels; "Don't ask again" switches the confirmation off.
 * Tab stays inside it and Escape cancels wherever the focus is (useModalKeys).
 */
import { useRef, useState } from 'react';
import { useFreshPressOnly } from '../ui/heldKeys.js';
import { useModalKeys } from '../ui/modal.js';

export interface ConfirmOrderProps {
  title: string;
  /** One line per request, e.g. "Buy 100 ACME limit 100.05 DAY". */
  lines: readonly string[];
  side?: 'buy' | 'sell' | undefined;
  /** A warning shown above the buttons (e.g. "This limit trades at once"). */
  warning?: string | undefined;
  /** Offer "Don't ask again" (switches the confirmation off when sending). */
  offerDontAsk?: boolean;
  onSend(dontAskAgain: boolean): void;
  onCancel(): void;
}

export function ConfirmOrder(p: ConfirmOrderProps) {
  const [dontAsk, setDontAsk] = useState(false);
  const send = useRef<HTMLButtonElement>(null);
  // the Send button has the focus: the held key that opened the preview must not press it
  const fresh = useFreshPressOnly();
  // Send has the focus; Tab stays inside, Escape cancels wherever the focus is, the focus goes back on close
  const dialog = useRef<HTMLDivElement>(null);
  useModalKeys(dialog, p.onCancel, send);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && p.onCancel()}>
      <div ref={dialog} tabIndex={-1} className="modal pw-confirm" role="dialog" aria-modal="true" aria-label={p.title} data-testid="order-preview" {...fresh}>
        <h3>{p.title}</h3>
        {p.lines.map((l) => (
          <p key={l} className={`confirm-summary ${p.side ?? ''}`}>
            {l}
          </p>
        ))}
        {p.warning !== undefined && <div className="field-error block">{p.warning}</div>}
        {p.offerDontAsk === true && (
          <label className="pw-dontask">
            <input type="checkbox" checked={dontAsk} onChange={(e) => setDontAsk(e.target.checked)} /> Don&apos;t ask again
          </label>
        )}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={p.onCancel}>
            Cancel <kbd>Esc</kbd>
          </button>
          <button ref={send} type="button" className={`btn send ${p.side ?? 'primary'}`} data-testid="order-preview-send" onClick={() => p.onSend(dontAsk)}>
            Send <kbd>Enter</kbd>
          </button>
        </div>
      </div>
    </div>
  );
}
