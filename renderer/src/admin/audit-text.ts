import { formatMoney } from '../format/num.js';

/**
 * Detail keys the server records in minor units (cents): prices of orders, amounts of cash moved. The audit
 * log stores them as the engine does (integers); the admin reads them as money.
 */
const MINOR_UNITS = new Set(['price', 'stopPrice', 'trailAmount', 'amount', 'tickSize', 'referencePrice']);

/** An audit entry's details as "key value" pairs, in the order the server wrote them; money as money. */
export function detailsText(d: Record<string, unknown>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k} ${MINOR_UNITS.has(k) && Number.isSafeInteger(v) ? formatMoney(v as number) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

/** The action filter's suggestions: the actions of the entries shown and the groups above them (admin, admin.user). */
export function actionSuggestions(entries: readonly { action: string }[]): string[] {
  const out = new Set<string>();
  for (const e of entries) {
    const parts = e.action.split('.');
    for (let k = 1; k <= parts.length; k++) out.add(parts.slice(0, k).join('.'));
  }
  return [...out].sort();
}
