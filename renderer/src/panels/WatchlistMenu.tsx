/**
 * The watchlist's row menu (right-click a row, or the context-menu key / Shift+F10 on the list): price
 * alerts above or below (a small form prefilled with the last price: Enter sets, Escape cancels), the
 * chart and the order ticket on that symbol, and removing the row. Arrow keys move between the items;
 * Escape or a click elsewhere closes it and gives the focus back to the list.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { createPortal } from 'react-dom';
import { formatPrice, parsePrice, priceInput } from '../format/num.js';
import './watchlistMenu.css';

export type AlertSide = 'above' | 'below';

export interface WatchlistMenuProps {
  symbol: string;
  /** Last traded price (minor units), the form's starting value. */
  last: number | null;
  /** Where it opens (viewport coordinates). */
  at: { x: number; y: number };
  /** Sets the alert; resolves true when the venue took it. */
  onAlert(direction: AlertSide, price: number): Promise<boolean>;
  onChart?(): void;
  onTicket?(): void;
  onRemove(): void;
  /** Closes it; `refocus` false when the trader clicked elsewhere (the focus goes there). */
  onClose(refocus?: boolean): void;
}

type Mode = { form: null } | { form: AlertSide };

export function WatchlistMenu(p: WatchlistMenuProps) {
  const box = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [mode, setMode] = useState<Mode>({ form: null });
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [pos, setPos] = useState(p.at);
  const { onClose } = p;

  // Keep it inside the window (a row near the bottom or right edge opens it upwards / leftwards).
  useLayoutEffect(() => {
    const el = box.current;
    if (el === null) return;
    const r = el.getBoundingClientRect();
    const x = Math.max(4, Math.min(p.at.x, window.innerWidth - r.width - 4));
    const y = p.at.y + r.height > window.innerHeight - 4 ? Math.max(4, p.at.y - r.height) : p.at.y;
    if (x !== pos.x || y !== pos.y) setPos({ x, y });
  }, [p.at, mode.form, pos.x, pos.y]);

  useEffect(() => {
    if (mode.form !== null) {
      input.current?.focus();
      input.current?.select();
    } else box.current?.querySelector<HTMLButtonElement>('[role=menuitem]')?.focus();
  }, [mode.form]);

  useEffect(() => {
    const away = (e: MouseEvent) => {
      if (box.current !== null && !box.current.contains(e.target as Node)) onClose(false);
    };
    const resized = () => onClose(false);
    document.addEventListener('mousedown', away, true);
    window.addEventListener('resize', resized);
    return () => {
      document.removeEventListener('mousedown', away, true);
      window.removeEventListener('resize', resized);
    };
  }, [onClose]);

  const openForm = (side: AlertSide) => {
    setText(p.last === null ? '' : priceInput(p.last));
    setError(null);
    setMode({ form: side });
  };

  const submit = async () => {
    if (mode.form === null || busy) return;
    const r = parsePrice(text);
    if (!r.ok || r.value <= 0) {
      setError(r.ok ? 'Enter a price above zero' : r.error);
      return;
    }
    setBusy(true);
    const ok = await p.onAlert(mode.form, r.value);
    setBusy(false);
    if (ok) onClose();
    else setError('The alert was not set');
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key === 'Tab') {
      e.preventDefault();
      if (mode.form === null) onClose();
      return;
    }
    if (mode.form !== null) {
      e.stopPropagation(); // typing a price: no list keys, no hotkeys
      return;
    }
    const items = [...(box.current?.querySelectorAll<HTMLButtonElement>('[role=menuitem]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    const go = (n: number) => items[(n + items.length) % items.length]?.focus();
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(items.length - 1);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  const item = (action: string, label: string, run: () => void, cls = '') => (
    <button type="button" role="menuitem" tabIndex={-1} className={`pw-menu-item ${cls}`} data-action={action} onClick={run}>
      {label}
    </button>
  );

  return createPortal(
    <div
      ref={box}
      className="pw-menu wl-menu"
      role={mode.form === null ? 'menu' : 'dialog'}
      aria-label={mode.form === null ? `${p.symbol} actions` : `Alert ${mode.form} for ${p.symbol}`}
      data-testid="watchlist-menu"
      data-symbol={p.symbol}
      style={{ left: pos.x, top: pos.y }}
      onKeyDown={onKeyDown}
      onContextMenu={(e) => e.preventDefault()}
    >
      <div className="pw-menu-head">
        {p.symbol}
        <span className="wl-menu-last">{p.last === null ? '' : `last ${formatPrice(p.last)}`}</span>
      </div>
      {mode.form === null ? (
        <>
          {item('alert-above', 'Alert above…', () => openForm('above'))}
          {item('alert-below', 'Alert below…', () => openForm('below'))}
          <div className="wl-menu-sep" role="separator" />
          {p.onChart !== undefined && item('chart', 'Open chart', p.onChart)}
          {p.onTicket !== undefined && item('ticket', 'Open order ticket', p.onTicket)}
          {(p.onChart !== undefined || p.onTicket !== undefined) && <div className="wl-menu-sep" role="separator" />}
          {item('remove', 'Remove from watchlist', p.onRemove, 'danger')}
        </>
      ) : (
        <form
          className="wl-alert-form"
          data-testid="watchlist-alert-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label className="wl-alert-label" htmlFor="wl-alert-price">
            Alert when {p.symbol} trades {mode.form === 'above' ? 'at or above' : 'at or below'}
          </label>
          <div className="wl-alert-row">
            <span className={`wl-alert-dir ${mode.form}`} aria-hidden="true">
              {mode.form === 'above' ? '≥' : '≤'}
            </span>
            <input
              id="wl-alert-price"
              ref={input}
              aria-label="Alert price"
              inputMode="decimal"
              value={text}
              size={9}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={error !== null}
              onChange={(e) => {
                setText(e.target.value);
                setError(null);
              }}
            />
            <button type="submit" className="btn small primary" disabled={busy}>
              Set
            </button>
          </div>
          {error !== null ? (
            <div className="field-error block" role="alert">
              {error}
            </div>
          ) : (
            <div className="muted wl-alert-hint">
              <kbd>Enter</kbd> sets · <kbd>Esc</kbd> cancels
            </div>
          )}
        </form>
      )}
    </div>,
    document.body,
  );
}
