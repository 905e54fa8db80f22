/**
 * Short messages at the corner of the window (the outcome of an order from a hotkey, an alert set or hit):
 * a small store the PowerLayer renders, so any panel can tell the trader something.
 */
import { useSyncExternalStore } from 'react';

export type Toast = { id: number; text: string; kind: 'info' | 'error' };

let toastSeq = 0;
const toastListeners = new Set<() => void>();
let toasts: Toast[] = [];

export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const t = { id: ++toastSeq, text, kind };
  toasts = [...toasts, t].slice(-4);
  for (const l of toastListeners) l();
  setTimeout(() => {
    toasts = toasts.filter((x) => x !== t);
    for (const l of toastListeners) l();
  }, 6000);
}

/** A number that grows with each toast (unique keys for rejects reported with one). */
export const toastCount = (): number => toastSeq;

export function useToasts(): readonly Toast[] {
  return useSyncExternalStore(
    (cb) => {
      toastListeners.add(cb);
      return () => toastListeners.delete(cb);
    },
    () => toasts,
  );
}
