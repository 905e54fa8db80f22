/**
 * Keys that press a focused button (Enter, Space) and are held down: the OS repeats the keydown (with
 * `repeat` set) for as long as the key is down. A dialog that focuses its Send button when it opens would
 * otherwise be sent by the repeats of the very key that opened it (Enter acts on keydown, Space on keyup
 * after a keydown on the button). The guard lets a button act only on a fresh press made inside the dialog.
 */
import { useRef, type KeyboardEvent } from 'react';

const PRESSING = new Set(['Enter', ' ']);

/**
 * Capture handlers for a dialog's root: a repeated Enter/Space keydown does nothing, and a Space keyup
 * whose keydown did not start in the dialog presses nothing.
 */
export function useFreshPressOnly(): { onKeyDownCapture(e: KeyboardEvent): void; onKeyUpCapture(e: KeyboardEvent): void } {
  const down = useRef(new Set<string>());
  return {
    onKeyDownCapture(e) {
      if (!PRESSING.has(e.key)) return;
      if (e.repeat) {
        e.preventDefault();
        e.stopPropagation();
      } else down.current.add(e.key);
    },
    onKeyUpCapture(e) {
      if (!PRESSING.has(e.key)) return;
      if (!down.current.delete(e.key)) {
        e.preventDefault();
        e.stopPropagation();
      }
    },
  };
}
