/** Account: cash, reserved, buying power, equity and P&L (live marks), orders today and the risk limits. */
import { useQueryClient } from '@tanstack/react-query';
import { useAccount, useLive, useQuoteStream, keys } from '../data/live.js';
import type { Quote } from '../data/types.js';
import { formatMoney, formatQty } from '../format/num.js';
import { liveAccount } from './pnl.js';
import type { PanelProps } from './registry.js';
import { useEffect, useReducer } from 'react';

export function AccountPanel(_props: PanelProps) {
  const account = useAccount();
  const qc = useQueryClient();
  const live = useLive();
  const a = account.data;
  useQuoteStream((a?.positions ?? []).filter((p) => p.qty !== 0).map((p) => p.symbol));
  const [, bump] = useReducer((n: number) => n + 1, 0);
  // Live marks: re-render at most four times a second, however fast quotes arrive.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = live.onQuotes(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        bump();
      }, 250);
    });
    return () => {
      off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [live]);
  if (account.isError) return <div className="empty">Could not load the account: {account.error.message}</div>;
  if (a === undefined) return <div className="empty">Loading…</div>;
  const la = liveAccount(a, (s) => qc.getQueryData<Quote>(keys.quote(s)));
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
        {row('Open orders', formatQty(a.openOrders) + (a.limits.maxOpenOrders !== undefined ? ` / ${formatQty(a.limits.maxOpenOrders)}` : ''))}
        {row('Orders today', formatQty(a.dailyOrders) + (a.limits.maxDailyOrders !== undefined ? ` / ${formatQty(a.limits.maxDailyOrders)}` : ''))}
        {a.limits.maxOrderQty !== undefined && row('Max order size', formatQty(a.limits.maxOrderQty))}
        {a.limits.maxOrderNotional !== undefined && row('Max order value', formatMoney(a.limits.maxOrderNotional))}
        {row('Short selling', a.allowShort ? 'Allowed' : 'Not allowed')}
      </dl>
    </div>
  );
}
