/**
 * Watchlist: live last / change % / bid / ask / volume per symbol with a flash on each price change, the
 * index on top, add (type a symbol, Enter) and remove (× or Delete). Click or arrow keys pick the linked
 * symbol for the chart, ticket and tape. A row's menu (right-click, or the context-menu key / Shift+F10 on
 * the list) sets a price alert above or below, opens the chart or the ticket on it, or removes it.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useCachedQuote, useIndex, useInstrument, useInstruments, useLive, useQuoteStream } from '../data/live.js';
import { formatBps, formatPrice, formatVolume } from '../format/num.js';
import { createAlert } from '../power/alertsApi.js';
import { HaltedTag } from '../ui/StatusBits.js';
import { useActiveSymbol } from '../ui/symbol.js';
import { PREF, usePref } from '../workspace/prefs.js';
import { useWorkspaceIfAny } from '../workspace/Workspace.js';
import type { PanelProps } from './registry.js';
import { WatchlistMenu } from './WatchlistMenu.js';

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
  const [menu, setMenu] = useState<{ symbol: string; x: number; y: number } | null>(null);
  const list = useRef<HTMLDivElement>(null);

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
  /** The menu of the active row, opened from the keyboard: below the row's symbol. */
  const menuFromKeyboard = () => {
    const tr = list.current?.querySelector<HTMLElement>(`tr[data-symbol="${CSS.escape(active)}"]`);
    if (tr === null || tr === undefined) return;
    tr.scrollIntoView({ block: 'nearest' });
    const r = tr.getBoundingClientRect();
    setMenu({ symbol: active, x: r.left + 24, y: r.bottom });
  };
  const onRowMenu = useCallback(
    (symbol: string, e: MouseEvent) => {
      e.preventDefault();
      e.stopPropagation();
      setActive(symbol);
      list.current?.focus();
      setMenu({ symbol, x: e.clientX, y: e.clientY });
    },
    [setActive],
  );
  const closeMenu = useCallback((refocus = true) => {
    setMenu(null);
    if (refocus) list.current?.focus();
  }, []);
  const onKey = (e: KeyboardEvent) => {
    const i = symbols.indexOf(active);
    if ((e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) && i >= 0) {
      menuFromKeyboard();
      e.preventDefault();
    } else if (e.key === 'ArrowDown' && i < symbols.length - 1) {
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
      <div
        ref={list}
        className="table-wrap"
        tabIndex={0}
        onKeyDown={onKey}
        onContextMenu={(e) => {
          // The context-menu key on the focused list (a right-click on a row opens that row's menu).
          if (e.target !== e.currentTarget) return;
          e.preventDefault();
          if (symbols.includes(active)) menuFromKeyboard();
        }}
        aria-label="Watchlist rows (arrow keys to move, Delete to remove, Shift+F10 for the row's menu)"
      >
        <table className="grid fixed">
          <colgroup>
            <col className="c-sym" />
            <col />
            <col className="c-chg" />
            <col className="c-bid" />
            <col className="c-ask" />
            <col className="c-vol" />
          </colgroup>
          <thead>
            <tr>
              <th className="l">Symbol</th>
              <th>Last</th>
              <th>Chg %</th>
              <th className="c-bid">Bid</th>
              <th className="c-ask">Ask</th>
              <th className="c-vol" title="Volume today">Vol</th>
            </tr>
          </thead>
          <tbody>
            {symbols.map((s) => (
              <WatchRow key={s} symbol={s} active={s === active} onPick={setActive} onRemove={remove} onMenu={onRowMenu} />
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
      {menu !== null && (
        <RowMenu
          key={menu.symbol}
          symbol={menu.symbol}
          at={menu}
          onRemove={() => {
            remove(menu.symbol);
            closeMenu();
          }}
          onClose={closeMenu}
        />
      )}
    </div>
  );
}

/** Moves the focus into a panel of this window (the chart's canvas, the ticket's quantity). */
function focusPanel(kind: 'chart' | 'ticket'): boolean {
  const panel = document.querySelector<HTMLElement>(`section.panel[data-panel="${kind}"]`);
  if (panel === null) return false;
  panel.scrollIntoView({ block: 'nearest' });
  const target = panel.querySelector<HTMLElement>(kind === 'ticket' ? '#t-qty' : '[data-testid=chart] [tabindex]') ?? panel.querySelector<HTMLElement>('[tabindex], input, button');
  target?.focus();
  return true;
}

function RowMenu({ symbol, at, onRemove, onClose }: { symbol: string; at: { x: number; y: number }; onRemove(): void; onClose(refocus?: boolean): void }) {
  const live = useLive();
  const ws = useWorkspaceIfAny();
  const [, setActive] = useActiveSymbol();
  const q = useCachedQuote(symbol);
  /** Picks the symbol and shows the panel: the one in this window, or a new one in the workspace. */
  const show = (kind: 'chart' | 'ticket') => {
    setActive(symbol);
    onClose();
    if (focusPanel(kind) || ws === undefined) return;
    ws.add(kind);
    requestAnimationFrame(() => requestAnimationFrame(() => focusPanel(kind)));
  };
  const hasPanel = (kind: string) => ws !== undefined || document.querySelector(`section.panel[data-panel="${kind}"]`) !== null;
  return (
    <WatchlistMenu
      symbol={symbol}
      last={q?.last ?? null}
      at={at}
      onAlert={async (direction, price) => (await createAlert(live, { symbol, direction, price })) !== undefined}
      {...(hasPanel('chart') ? { onChart: () => show('chart') } : {})}
      {...(hasPanel('ticket') ? { onTicket: () => show('ticket') } : {})}
      onRemove={onRemove}
      onClose={onClose}
    />
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
      <span className="muted ix-count">{ix.constituents.length} stocks</span>
    </div>
  );
}

const WatchRow = memo(function WatchRow({
  symbol,
  active,
  onPick,
  onRemove,
  onMenu,
}: {
  symbol: string;
  active: boolean;
  onPick(s: string): void;
  onRemove(s: string): void;
  onMenu(s: string, e: MouseEvent): void;
}) {
  const q = useCachedQuote(symbol);
  const halted = useInstrument(symbol)?.status === 'halted';
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
    <tr className={active ? 'sel' : undefined} aria-selected={active} onClick={() => onPick(symbol)} onContextMenu={(e) => onMenu(symbol, e)} data-symbol={symbol}>
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
        {halted ? <HaltedTag symbol={symbol} /> : q === undefined ? '—' : formatBps(q.changeBps)}
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
/** Cells lit now, with the time each goes dark. */
const lit = new Map<HTMLElement, number>();
let sweeping: ReturnType<typeof setTimeout> | undefined;
const FLASH_MS = 300;

function sweep(): void {
  const now = performance.now();
  for (const [el, end] of lit)
    if (end <= now) {
      el.classList.remove('on');
      lit.delete(el);
    }
  sweeping = lit.size > 0 ? setTimeout(sweep, 60) : undefined;
}

/**
 * Green/red flash on a cell whose price moved: an overlay is lit for FLASH_MS, then one shared sweep turns
 * it off (a class each way: a small repaint, no per-cell animation; at 1,000 quotes/s, animating the
 * overlays gave the compositor a layer per flashing cell and cost a fifth of the frame rate). At most one
 * flash per cell per 250 ms, so a symbol ticking 50 times a second still reads as one steady pulse.
 */
function flash(el: HTMLElement | null, before: number | null, after: number | null): void {
  if (el === null || before === null || after === null || before === after) return;
  const now = performance.now();
  const dir = after > before ? 'up' : 'down';
  if (el.dataset.dir !== dir) el.dataset.dir = dir;
  if (now - (lastFlash.get(el) ?? -1e9) < 250) return;
  lastFlash.set(el, now);
  if (!lit.has(el)) el.classList.add('on');
  lit.set(el, now + FLASH_MS);
  sweeping ??= setTimeout(sweep, 60);
}
