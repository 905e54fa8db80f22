/** The workspace's linked symbol: picking a row in the watchlist points the chart, ticket and tape at it. */
import { PREF, usePref } from '../workspace/prefs.js';

export function useActiveSymbol(): [string, (s: string) => void] {
  return usePref<string>(PREF.symbol, '');
}
