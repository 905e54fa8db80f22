/** Positions: quantity, average cost, last, market value, unrealized and realized P&L, live with each trade. */
import { useAccount, useCachedQuote, useQuoteStream } from '../data/live.js';
import { formatAvgPrice, formatMoney, formatPrice, formatQty } from '../format/num.js';
import { useActiveSymbol } from '../ui/symbol.js';
import { livePosition } from './pnl.js';
import type { PanelProps } from './registry.js';
import { GridHead } from '../ui/GridHead.js';

const pnlClass = (v: number) => (v > 0 ? 'up' : v < 0 ? 'down' : '');

export function Positions(_props: PanelProps) {
  const account = useAccount();
  const positions = (account.data?.positions ?? []).filter((p) => p.qty !== 0 || p.realizedPnl !== 0);
  useQuoteStream(positions.map((p) => p.symbol));
  const [, setSymbol] = useActiveSymbol();
  if (account.isError) return <div className="empty">Could not load positions: {account.error.message}</div>;
  if (positions.length === 0) return <div className="empty">No positions</div>;
  return (
    <div className="table-wrap positions" data-testid="positions">
      <table className="grid">
        <GridHead cols={[['Symbol', 'l'], ['Qty'], ['Avg cost'], ['Last'], ['Mkt value', 'opt'], ['Unrealized'], ['Realized']]} />
        <tbody>
          {positions.map((p) => (
            <PositionRow key={p.symbol} p={p} onPick={setSymbol} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PositionRow({ p, onPick }: { p: Parameters<typeof livePosition>[0]; onPick(s: string): void }) {
  const q = useCachedQuote(p.symbol);
  const lp = livePosition(p, q);
  return (
    <tr data-symbol={p.symbol} data-testid="position-row" onClick={() => onPick(p.symbol)}>
      <td className="l sym">{p.symbol}</td>
      <td className={`num ${p.qty > 0 ? 'buy' : p.qty < 0 ? 'sell' : ''}`} data-field="qty">
        {formatQty(p.qty, true)}
      </td>
      <td className="num" data-field="avg">{p.qty === 0 ? '—' : formatAvgPrice(p.avgPrice)}</td>
      <td className="num" data-field="last">{formatPrice(lp.liveMark)}</td>
      <td className="num opt">{formatMoney(lp.marketValue)}</td>
      <td className={`num ${pnlClass(lp.liveUnrealized)}`} data-field="unrealized">
        {formatMoney(lp.liveUnrealized, { sign: true })}
      </td>
      <td className={`num ${pnlClass(p.realizedPnl)}`} data-field="realized">
        {formatMoney(p.realizedPnl, { sign: true })}
      </td>
    </tr>
  );
}
