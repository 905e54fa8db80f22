/**
 * Price alerts: armed ones first (nearest to triggering, or newest, or by symbol), then those that
 * triggered; each removable. A small form adds one (above/below is chosen from the last price).
 */
import { useState } from 'react';
import { directionFor, distanceBps, isArmed, sortAlerts, type AlertDirection, type AlertSort, type PriceAlert } from './alerts.js';
import { formatPrice as defaultFormatPrice } from './intents.js';

export interface AlertsListProps {
  alerts: readonly PriceAlert[];
  lastPrices: ReadonlyMap<string, number>;
  /** Symbol for the add form (the linked symbol). */
  symbol?: string;
  onCreate?(a: { symbol: string; direction: AlertDirection; price: number }): unknown;
  onDelete(id: number): unknown;
  formatPrice?(p: number): string;
  /** Parse a typed price into minor units (null: invalid). */
  parsePrice?(text: string): number | null;
  formatTime?(ts: number): string;
}

const defaultParse = (s: string): number | null => {
  const m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(s);
  return m === null ? null : Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
};

export function AlertsList(p: AlertsListProps) {
  const fmt = p.formatPrice ?? defaultFormatPrice;
  const parse = p.parsePrice ?? defaultParse;
  const time = p.formatTime ?? ((ts: number) => new Date(ts).toISOString().slice(11, 19));
  const [sort, setSort] = useState<AlertSort>('nearest');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const list = sortAlerts(p.alerts, sort, p.lastPrices);
  const last = p.symbol === undefined ? undefined : p.lastPrices.get(p.symbol);

  const add = () => {
    if (p.symbol === undefined || p.onCreate === undefined) return;
    const price = parse(text);
    if (price === null || price <= 0) {
      setError('Enter a price such as 101.25');
      return;
    }
    setError(null);
    p.onCreate({ symbol: p.symbol, direction: directionFor(price, last ?? null), price });
    setText('');
  };

  return (
    <div className="pw-alerts" data-testid="alerts-list">
      <div className="toolbar">
        {p.symbol !== undefined && p.onCreate !== undefined && (
          <form
            className="pw-alert-form"
            onSubmit={(e) => {
              e.preventDefault();
              add();
            }}
          >
            <span className="sym">{p.symbol}</span>
            <input aria-label="Alert price" placeholder={last === undefined ? 'Price' : fmt(last)} value={text} onChange={(e) => setText(e.target.value)} size={9} aria-invalid={error !== null} />
            <button type="submit" className="btn small">
              Add alert
            </button>
          </form>
        )}
        <span className="spacer" />
        <div className="seg" role="group" aria-label="Sort alerts">
          {(['nearest', 'newest', 'symbol'] as const).map((s) => (
            <button key={s} type="button" className={s === sort ? 'on' : undefined} aria-pressed={s === sort} onClick={() => setSort(s)}>
              {s[0]!.toUpperCase() + s.slice(1)}
            </button>
          ))}
        </div>
      </div>
      {error !== null && <div className="field-error block">{error}</div>}
      {list.length === 0 ? (
        <div className="empty">No alerts. Right-click the chart or a watchlist row, or add one above.</div>
      ) : (
        <table className="pw-alert-table">
          <thead>
            <tr>
              <th>Symbol</th>
              <th aria-label="Direction" />
              <th className="num">Price</th>
              <th className="num">Away</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((a) => {
              const lp = p.lastPrices.get(a.symbol);
              const armed = isArmed(a);
              return (
                <tr key={a.id} className={armed ? 'armed' : 'triggered'} data-alert-id={a.id}>
                  <td className="sym">{a.symbol}</td>
                  <td title={a.direction === 'above' ? 'At or above' : 'At or below'}>{a.direction === 'above' ? '≥' : '≤'}</td>
                  <td className="num">{fmt(a.price)}</td>
                  <td className="num">{armed && lp !== undefined ? `${(distanceBps(a, lp) / 100).toFixed(2)}%` : ''}</td>
                  <td>{armed ? <span className="muted">Armed</span> : <span className="pw-fired" title={a.triggeredAt !== undefined ? time(a.triggeredAt) : undefined}>Hit {a.triggerPrice !== undefined ? fmt(a.triggerPrice) : ''}</span>}</td>
                  <td>
                    <button type="button" className="btn tiny danger" aria-label={`Delete alert ${a.symbol} ${a.direction} ${fmt(a.price)}`} onClick={() => p.onDelete(a.id)}>
                      ×
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
