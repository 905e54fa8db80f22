/** Dark and light themes: a data-theme attribute on <html> drives the CSS variables. */
import { useCallback, useEffect } from 'react';
import { PREF, usePref } from '../workspace/prefs.js';

export type Theme = 'dark' | 'light';

export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const [t, set] = usePref<Theme>(PREF.theme, 'dark');
  const setTheme = useCallback(
    (next: Theme) => {
      applyTheme(next); // before React re-renders, so the chart reads the new colours
      set(next);
    },
    [set],
  );
  return [t === 'light' ? 'light' : 'dark', setTheme];
}

/** Applies the theme to the document (call once, in the app shell). */
export function useApplyTheme(): void {
  const [t] = useTheme();
  useEffect(() => {
    applyTheme(t);
  }, [t]);
}
