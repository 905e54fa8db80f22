/** Account: cash, reserved, buying power, equity and P&L (live marks), orders today and the risk limits. */
import { useAccount, useCachedLasts, useQuoteStream } from '../data/live.js';
import { formatMoney, formatQty } from '../format/num.js';
import { liveAccount } from './pnl.js';
import type { PanelProps } from './registry.js';

export function AccountPanel(_props: PanelProps) {
  const account = useAccount();
  const a = account.data;
  const held = (a?.positions ?? []).filter((p) => p.qty !== 0).map((p) => p.symbol);
  useQuoteStream(held);
  // Live marks: the last trades of the symbols held, read as the Positions panel reads them, so both redraw
  // in the same commit with the same figures (at most once per frame: quotes land in the cache per frame),
  // and only when a last trade changes.
  const lasts = useCachedLasts(held);
  if (account.isError) return <div className="empty">Could not load the account: {account.error.message}</div>;
  if (a === undefined) return <div className="empty">Loading…</div>;
  const la = liveAccount(a, (s) => (Object.hasOwn(lasts, s) ? { last: lasts[s]! } : undefined));
  const row = (label: string, value: string, cls = '', field?: string) => (
    <>
      <dt>{label}</dt>
      <dd className={cls} data-field={field}>
        {value}
      </dd>
    </>
  );
  const pnl = (v: number) => (v > 0 ? 'up' : v < 0 ? 'down' : '');
  return (
    <div className="account" data-testid="account">
      <dl className="kv">
        {row('Account', `#${a.accountId}`)}
        {row('Cash', formatMoney(a.cash), '', 'cash')}
        {row('Reserved by orders', formatMoney(a.reservedCash))}
        {row('Buying power', formatMoney(a.buyingPower), 'strong', 'buyingPower')}
        {row('Market value', formatMoney(la.marketValue))}
        {row('Equity', formatMoney(la.equity), 'strong', 'equity')}
        {row('Unrealized P&L', formatMoney(la.unrealized, { sign: true }), pnl(la.unrealized), 'unrealized')}
        {row('Realized P&L', formatMoney(a.realizedPnl, { sign: true }), pnl(a.realizedPnl), 'realized')}
        {row('Open orders', formatQty(a.openOrders) + (a.limits.maxOpenOrders !== undefined ? ` / ${formatQty(a.limits.maxOpenOrders)}` : ''), '', 'openOrders')}
        {row('Orders today', formatQty(a.dailyOrders) + (a.limits.maxDailyOrders !== undefined ? ` / ${formatQty(a.limits.maxDailyOrders)}` : ''))}
        {a.limits.maxOrderQty !== undefined && row('Max order size', formatQty(a.limits.maxOrderQty))}
        {a.limits.maxOrderNotional !== undefined && row('Max order value', formatMoney(a.limits.maxOrderNotional))}
        {row('Short selling', a.allowShort ? 'Allowed' : 'Not allowed')}
      </dl>
    </div>
  );
}
