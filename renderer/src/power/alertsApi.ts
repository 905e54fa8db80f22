/**
 * Price alerts over the protocol, shared by every place that sets or lists them (the chart's right-click
 * menu, the watchlist's row menu, the Alerts panel): the list is fetched once and kept current by the
 * `alerts` channel (AlertWatcher in wiring.tsx writes its pushes into the same query).
 */
import { useQuery } from '@tanstack/react-query';
import { useLive, type Live } from '../data/live.js';
import { formatPrice } from '../format/num.js';
import { mergeAlert, type AlertDirection, type PriceAlert } from './alerts.js';
import { toast } from './toasts.js';

export const ALERTS_KEY = ['power', 'alerts'] as const;

const NO_ALERTS: PriceAlert[] = [];

/**
 * My alerts: listed once, then kept current by the `alerts` channel (one empty list while none are loaded,
 * so memos and effects keyed on it stay put).
 */
export function useAlerts(): PriceAlert[] {
  const live = useLive();
  const q = useQuery({ queryKey: ALERTS_KEY, queryFn: () => live.conn.call('alerts.list', {}) });
  return q.data ?? NO_ALERTS;
}

/** Sets an alert; the outcome is told in a toast. Resolves with the alert, or undefined when refused. */
export async function createAlert(live: Live, a: { symbol: string; direction: AlertDirection; price: number }): Promise<PriceAlert | undefined> {
  try {
    const created = await live.conn.call('alerts.create', a);
    live.qc.setQueryData<PriceAlert[]>(ALERTS_KEY, (prev) => mergeAlert(prev ?? [], created));
    toast(`Alert set: ${a.symbol} ${a.direction === 'above' ? '≥' : '≤'} ${formatPrice(a.price)}`);
    return created;
  } catch (e) {
    toast(`Could not set the alert: ${e instanceof Error ? e.message : String(e)}`, 'error');
    return undefined;
  }
}

export async function deleteAlert(live: Live, id: number): Promise<void> {
  try {
    await live.conn.call('alerts.delete', { id });
    live.qc.setQueryData<PriceAlert[]>(ALERTS_KEY, (prev) => (prev ?? []).filter((a) => a.id !== id));
  } catch (e) {
    toast(`Could not delete the alert: ${e instanceof Error ? e.message : String(e)}`, 'error');
  }
}
