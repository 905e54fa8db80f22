/** Small persisted preferences (localStorage; nothing secret is ever stored). */
import { useCallback, useSyncExternalStore } from 'react';

const listeners = new Map<string, Set<() => void>>();

function read<T>(key: string, fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : (JSON.parse(v) as T);
  } catch {
    return fallback;
  }
}

const cache = new Map<string, unknown>();

export const PREF = {
  layout: 'tradedesk.layout.v1',
  theme: 'tradedesk.theme',
  symbol: 'tradedesk.symbol',
  watchlist: 'tradedesk.watchlist',
  confirmOrders: 'tradedesk.confirmOrders',
  qtyPresets: 'tradedesk.qtyPresets',
} as const;

/**
 * Kept per window: the window's own symbol selection (a panel in no link group follows its window's; the
 * stored value only seeds the next start). Every other preference is the same in every window.
 */
const WINDOW_LOCAL: ReadonlySet<string> = new Set([PREF.symbol]);

/**
 * Another window (same origin) changed a preference: localStorage tells the others with a `storage` event.
 * The cached value goes and the subscribers read the stored one, so a confirmation switched on in one
 * window is honoured at once by every open window. A clear (key null) drops every cached preference.
 */
function onStorage(e: StorageEvent): void {
  if (e.storageArea !== null && e.storageArea !== localStorage) return;
  const keys = e.key === null ? [...cache.keys()] : [e.key];
  for (const key of keys) {
    if (WINDOW_LOCAL.has(key)) continue;
    cache.delete(key);
    for (const l of listeners.get(key) ?? []) l();
  }
}
if (typeof window !== 'undefined') window.addEventListener('storage', onStorage);

export function getPref<T>(key: string, fallback: T): T {
  if (!cache.has(key)) cache.set(key, read(key, fallback));
  return cache.get(key) as T;
}

export function setPref<T>(key: string, value: T): void {
  cache.set(key, value);
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the preference lasts for this session
  }
  for (const l of listeners.get(key) ?? []) l();
}

export function usePref<T>(key: string, fallback: T): [T, (v: T) => void] {
  const value = useSyncExternalStore(
    (cb) => {
      let s = listeners.get(key);
      if (s === undefined) listeners.set(key, (s = new Set()));
      s.add(cb);
      return () => s.delete(cb);
    },
    () => getPref(key, fallback),
  );
  const set = useCallback((v: T) => setPref(key, v), [key]);
  return [value, set];
}

