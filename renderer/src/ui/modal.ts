/**
 * A modal dialog keeps the keyboard while it is open: Tab and Shift+Tab cycle through its controls (from
 * outside it, Tab goes back in), Escape closes it wherever the focus is, and on close the focus goes back to
 * where it was when the dialog opened (unless its owner has already put it somewhere). Listeners sit on the
 * window in the capture phase, so they run before any panel's own key handling; only the dialog opened last
 * (the one on top) acts.
 */
import { useEffect, useRef, type RefObject } from 'react';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Open dialogs, the one opened last at the end. */
const open: object[] = [];

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((e) => e.tabIndex >= 0 && e.getClientRects().length > 0);
}

/**
 * Makes the element `ref` points at (the element with role="dialog") modal for the keyboard while the
 * calling component is mounted, and moves the focus to `initial` (else the dialog) when it opens, unless a
 * control of the dialog has it already; `onClose` runs on Escape. Every modal of the app uses it, so the one
 * on top is known (a sign-in that opens over an order's confirmation takes the keyboard from it).
 */
export function useModalKeys(ref: RefObject<HTMLElement | null>, onClose: () => void, initial?: RefObject<HTMLElement | null>): void {
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const me = {};
    open.push(me);
    const el = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // (a control inside that took the focus as it mounted, an autofocused field, keeps it)
    if (el === null || !el.contains(document.activeElement)) (initial?.current ?? el)?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (open[open.length - 1] !== me || el === null) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        close.current();
        return;
      }
      if (e.key !== 'Tab' || e.altKey || e.ctrlKey || e.metaKey) return;
      const list = focusables(el);
      const at = list.indexOf(document.activeElement as HTMLElement);
      const last = list.length - 1;
      // within the dialog and not at an end, the browser's own order is the dialog's
      if (at > 0 && at < last) return;
      if (at === 0 && !e.shiftKey && last > 0) return;
      if (at === last && e.shiftKey && last > 0) return;
      e.preventDefault();
      const next = list.length === 0 ? el : e.shiftKey ? (at <= 0 ? list[last] : list[at - 1]) : at === -1 || at === last ? list[0] : list[at + 1];
      (next ?? el).focus();
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      open.splice(open.indexOf(me), 1);
      // back to the opener, unless the owner moved the focus elsewhere already
      const now = document.activeElement;
      const lost = now === null || now === document.body || (el?.contains(now) ?? false);
      if (lost && opener?.isConnected === true) opener.focus();
    };
  }, [ref, initial]);
}
