/** Chart panel: the linked symbol's candles with timeframe buttons (keys 1-5 while the chart has focus). */
import { useCallback, useRef } from 'react';
import { TIMEFRAMES } from '../../../engine/protocol/index.js';
import { PriceChart } from '../chart/PriceChart.js';
import { loadOlderCandles, useAccount, useCandleBook, useExecutions, useLive, useOrders, useQuote } from '../data/live.js';
import type { Timeframe } from '../data/types.js';
import { useLinkedTimeframe } from '../links/links.js';
import { useActiveSymbol } from '../ui/symbol.js';
import { useTheme } from '../ui/theme.js';
import type { PanelProps } from './registry.js';

const TF_LABEL: Record<Timeframe, string> = { '1m': '1m', '5m': '5m', '15m': '15m', '1h': '1H', '1d': '1D' };

export function ChartPanel({ params, setParams }: PanelProps) {
  const [symbol] = useActiveSymbol();
  const ownTf = (TIMEFRAMES as readonly string[]).includes(String(params.timeframe)) ? (params.timeframe as Timeframe) : '1m';
  const [tf, setTf] = useLinkedTimeframe(ownTf, (t) => setParams({ timeframe: t }));
  const live = useLive();
  const book = useCandleBook(symbol, tf);
  const orders = useOrders();
  const fills = useExecutions();
  const account = useAccount();
  const quote = useQuote(symbol);
  const [theme] = useTheme();
  const loading = useRef(false);
  const onNeedHistory = useCallback(() => {
    if (loading.current || symbol === '') return;
    loading.current = true;
    void loadOlderCandles(live, symbol, tf)
      .catch(() => false)
      .finally(() => {
        loading.current = false;
      });
  }, [live, symbol, tf]);
  const position = account.data?.positions.find((x) => x.symbol === symbol);
  return (
    <div
      className="chart-panel"
      tabIndex={0}
      onKeyDown={(e) => {
        const i = '12345'.indexOf(e.key);
        if (i >= 0 && !e.altKey && !e.ctrlKey && !e.metaKey) setTf(TIMEFRAMES[i]!);
      }}
    >
      <div className="toolbar">
        <span className="sym big">{symbol || '—'}</span>
        <div className="seg" role="group" aria-label="Timeframe">
          {TIMEFRAMES.map((t) => (
            <button key={t} type="button" className={t === tf ? 'on' : undefined} aria-pressed={t === tf} onClick={() => setTf(t)}>
              {TF_LABEL[t]}
            </button>
          ))}
        </div>
        {book.isError && <span className="field-error">Could not load candles: {book.error.message}</span>}
      </div>
      {symbol === '' ? (
        <div className="empty">Pick a symbol in the watchlist</div>
      ) : (
        <PriceChart
          symbol={symbol}
          timeframe={tf}
          book={book.data}
          orders={orders.data ?? []}
          fills={fills.data ?? []}
          position={position}
          quote={quote}
          theme={theme}
          onNeedHistory={onNeedHistory}
        />
      )}
    </div>
  );
}
