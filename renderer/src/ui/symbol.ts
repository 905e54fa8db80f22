/**
 * The symbol a panel shows: picking a row in the watchlist points the chart, ticket and tape at it. A panel
 * in a link group (a colour) shares its group's symbol with the panels of that colour in every window; a
 * panel in none follows this window's selection.
 */
import { useLinkedSymbol } from '../links/links.js';
import { PREF, usePref } from '../workspace/prefs.js';

export function useActiveSymbol(): [string, (s: string) => void] {
  const own = usePref<string>(PREF.symbol, '');
  return useLinkedSymbol(own[0]) ?? own;
}
