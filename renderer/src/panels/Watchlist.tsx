/**
 * Watchlist: live last / change % / bid / ask / volume per symbol with a flash on each price change, the
 * index on top, add (type a symbol, Enter) and remove (× or Delete). Click or arrow keys pick the linked
 * symbol for the chart, ticket and tape.
 */
import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useCachedQuote, useIndex, useInstruments, useQuoteStream } from '../data/live.js';
import { formatBps, formatPrice, formatVolume } from '../format/num.js';
import { useActiveSymbol } from '../ui/symbol.js';
import { PREF, usePref } from '../workspace/prefs.js';
import type { PanelProps } from './registry.js';

const INDEX_NAME = 'SIM10';

export function Watchlist(_props: PanelProps) {
  const instruments = useInstruments();
  const [saved, setSaved] = usePref<string[] | null>(PREF.watchlist, null);
  const symbols = useMemo(
    () => saved ?? (instruments.data ?? []).slice(0, 16).map((i) => i.symbol),
    [saved, instruments.data],
  );
  useQuoteStream(symbols);
  const [active, setActive] = useActiveSymbol();
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (active === '' && symbols.length > 0) setActive(symbols[0]!);
  }, [active, symbols, setActive]);

  const add = () => {
    const s = adding.trim().toUpperCase();
    if (s === '') return;
    if (instruments.data !== undefined && !instruments.data.some((i) => i.symbol === s)) {
      setError(`${s} is not listed`);
      return;
    }
    setError(undefined);
    if (!symbols.includes(s)) setSaved([...symbols, s]);
    setAdding('');
    setActive(s);
  };
  const remove = (s: string) => {
    const next = symbols.filter((x) => x !== s);
    setSaved(next);
    if (active === s && next.length > 0) setActive(next[0]!);
  };
  const onKey = (e: KeyboardEvent) => {
    const i = symbols.indexOf(active);
    if (e.key === 'ArrowDown' && i < symbols.length - 1) {
      setActive(symbols[i + 1]!);
      e.preventDefault();
    } else if (e.key === 'ArrowUp' && i > 0) {
      setActive(symbols[i - 1]!);
      e.preventDefault();
    } else if (e.key === 'Delete' && i >= 0) {
      remove(active);
      e.preventDefault();
    }
  };

  return (
    <div className="watchlist" data-testid="watchlist">
      <IndexRow />
      <div className="table-wrap" tabIndex={0} onKeyDown={onKey} aria-label="Watchlist rows (arrow keys to move, Delete to remove)">
        <table className="grid fixed">
          <colgroup>
            <col className="c-sym" />
            <col />
            <col />
            <col />
            <col />
            <col className="c-vol" />
          </colgroup>
          <thead>
            <tr>
              <th className="l">Symbol</th>
              <th>Last</th>
              <th>Chg %</th>
              <th>Bid</th>
              <th>Ask</th>
              <th title="Volume today">Vol</th>
            </tr>
          </thead>
          <tbody>
            {symbols.map((s) => (
              <WatchRow key={s} symbol={s} active={s === active} onPick={setActive} onRemove={remove} />
            ))}
          </tbody>
        </table>
      </div>
      <form
        className="add-row"
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <input
          aria-label="Add symbol"
          placeholder="Add symbol…"
          list="wl-instruments"
          value={adding}
          onChange={(e) => setAdding(e.target.value.toUpperCase())}
          spellCheck={false}
          autoComplete="off"
        />
        <datalist id="wl-instruments">
          {(instruments.data ?? []).map((i) => (
            <option key={i.symbol} value={i.symbol}>
              {i.name}
            </option>
          ))}
        </datalist>
        <button type="submit" className="btn small">
          Add
        </button>
        {error !== undefined && <span className="field-error">{error}</span>}
      </form>
    </div>
  );
}

function IndexRow() {
  const q = useIndex(INDEX_NAME);
  if (!q.isSuccess) return null;
  const ix = q.data;
  const chg = ix.value - ix.previousClose;
  const bps = ix.previousClose === 0 ? 0 : Math.trunc((chg * 10_000) / ix.previousClose);
  return (
    <div className="index-row" data-testid="index-row">
      <span className="sym">{ix.name}</span>
      <span className="num">{formatPrice(ix.value)}</span>
      <span className={`num ${chg > 0 ? 'up' : chg < 0 ? 'down' : ''}`}>{formatBps(bps)}</span>
      <span className="muted">{ix.constituents.length} stocks</span>
    </div>
  );
}

const WatchRow = memo(function WatchRow({
  symbol,
  active,
  onPick,
  onRemove,
}: {
  symbol: string;
  active: boolean;
  onPick(s: string): void;
  onRemove(s: string): void;
}) {
  const q = useCachedQuote(symbol);
  const lastRef = useRef<HTMLSpanElement>(null);
  const bidRef = useRef<HTMLSpanElement>(null);
  const askRef = useRef<HTMLSpanElement>(null);
  const prev = useRef<{ last: number | null; bid: number | null; ask: number | null } | undefined>(undefined);
  useEffect(() => {
    if (q === undefined) return;
    const p = prev.current;
    prev.current = { last: q.last, bid: q.bid, ask: q.ask };
    if (p === undefined) return;
    flash(lastRef.current, p.last, q.last);
    flash(bidRef.current, p.bid, q.bid);
    flash(askRef.current, p.ask, q.ask);
  }, [q]);
  const dir = q === undefined || q.change === 0 ? '' : q.change > 0 ? 'up' : 'down';
  return (
    <tr className={active ? 'sel' : undefined} aria-selected={active} onClick={() => onPick(symbol)} data-symbol={symbol}>
      <td className="l sym">
        {symbol}
        <button
          type="button"
          className="icon-btn row-x"
          aria-label={`Remove ${symbol}`}
          title="Remove from the watchlist (Delete)"
          onClick={(e) => {
            e.stopPropagation();
            onRemove(symbol);
          }}
        >
          ×
        </button>
      </td>
      <td className="num flash-cell" data-field="last">
        <span ref={lastRef} className="fl" aria-hidden="true" />
        {formatPrice(q?.last)}
      </td>
      <td className={`num ${dir}`} data-field="change">
        {q === undefined ? '—' : formatBps(q.changeBps)}
      </td>
      <td className="num bid flash-cell" data-field="bid">
        <span ref={bidRef} className="fl" aria-hidden="true" />
        {formatPrice(q?.bid)}
      </td>
      <td className="num ask flash-cell" data-field="ask">
        <span ref={askRef} className="fl" aria-hidden="true" />
        {formatPrice(q?.ask)}
      </td>
      <td className="num muted" data-field="volume">
        {q === undefined ? '—' : formatVolume(q.volume)}
      </td>
    </tr>
  );
});

const lastFlash = new WeakMap<HTMLElement, number>();

/**
 * Green/red fade on a cell whose price moved: an overlay's opacity animates (compositor work, no layout or
 * repaint of the table; Web Animations are allowed by the CSP). At most one flash per cell per 250 ms, so a
 * symbol ticking 50 times a second still reads as one steady pulse in its direction.
 */
function flash(el: HTMLElement | null, before: number | null, after: number | null): void {
  if (el === null || before === null || after === null || before === after) return;
  const now = performance.now();
  const dir = after > before ? 'up' : 'down';
  if (el.dataset.dir !== dir) el.dataset.dir = dir;
  if (now - (lastFlash.get(el) ?? -1e9) < 250) return;
  lastFlash.set(el, now);
  if (typeof el.animate === 'function') el.animate([{ opacity: 0.7 }, { opacity: 0 }], { duration: 500, easing: 'ease-out' });
}
