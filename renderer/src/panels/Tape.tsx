/** Time & sales: every print of the linked symbol, newest first, coloured by the aggressor. */
import { useTrades } from '../data/live.js';
import { formatPrice, formatQty, formatTime } from '../format/num.js';
import { useActiveSymbol } from '../ui/symbol.js';
import type { PanelProps } from './registry.js';
import { GridHead } from '../ui/GridHead.js';

export function Tape(_props: PanelProps) {
  const [symbol] = useActiveSymbol();
  const trades = useTrades(symbol);
  const list = trades.data ?? [];
  return (
    <div className="tape" data-testid="tape">
      <div className="toolbar">
        <span className="sym">{symbol || '—'}</span>
        <span className="muted">{list.length} prints</span>
      </div>
      <div className="table-wrap">
        <table className="grid">
          <GridHead cols={[['Time', 'l'], ['Price'], ['Size']]} />
          <tbody>
            {list.map((t) => (
              <tr key={t.tradeId} className={t.aggressor === 'buy' ? 'buy' : 'sell'}>
                <td className="l muted">{formatTime(t.ts)}</td>
                <td className="num">{formatPrice(t.price)}</td>
                <td className={`num ${t.qty >= 1000 ? 'strong' : ''}`}>{formatQty(t.qty)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.length === 0 && <div className="empty">No prints yet</div>}
      </div>
    </div>
  );
}
