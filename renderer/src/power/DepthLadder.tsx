/**
 * The depth ladder (DOM). Columns: my buy orders | bid size | price | ask size | my sell orders | volume.
 * Click a bid cell to buy at that price, an ask cell to sell, one of my order cells to cancel those orders.
 * Keyboard: the ladder is one tab stop; arrow keys move between cells, Enter/Space acts (once per press: a
 * held key's auto-repeats do nothing), PageUp/PageDown scroll, C re-centres on the last price. The first order from the ladder asks for confirmation (which
 * the trader can switch off). Plain props and callbacks: the ladder fetches and sends nothing itself.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Depth, OrderRecord, ParamsOf } from '../../../engine/protocol/index.js';
import { formatQty } from '../format/num.js';
import { HaltedTag, haltedText } from '../ui/StatusBits.js';
import { ConfirmOrder } from './ConfirmOrder.js';
import { formatPrice as defaultFormatPrice } from './intents.js';
import { buildLadder, defaultCenter, ladderClick, scrollCenter, type LadderAction, type LadderColumn, type LadderRow } from './ladder.js';

export interface DepthLadderProps {
  symbol: string;
  depth: Depth | null;
  tick: number;
  lot: number;
  last: number | null;
  orders: readonly OrderRecord[];
  volumeAtPrice?: ReadonlyMap<number, number>;
  /** Order size for clicks. */
  qty: number;
  onQtyChange?(qty: number): void;
  /** Size buttons above the ladder. */
  sizePresets?: readonly number[];
  /** Fixed number of rows (default: as many as fit the height, odd so the centre row is in the middle). */
  rows?: number;
  /** Ticks per row. */
  group?: number;
  onGroupChange?(group: number): void;
  /** Ask before sending an order from the ladder. */
  confirm: boolean;
  onConfirmChange(confirm: boolean): void;
  onPlace(params: ParamsOf<'order.place'>): unknown;
  onCancel(orderIds: readonly number[]): unknown;
  formatPrice?(p: number): string;
  /** The exchange halted the symbol: clicks place nothing (canceling still works) and the bar says HALTED. */
  halted?: boolean;
}

const COLUMNS: readonly LadderColumn[] = ['buyOrders', 'bid', 'price', 'ask', 'sellOrders', 'volume'];
const HEAD: Record<LadderColumn, string> = { buyOrders: 'Buy', bid: 'Bid', price: 'Price', ask: 'Ask', sellOrders: 'Sell', volume: 'Volume' };
/** Headers a narrow ladder shortens (power.css), so that none is cut. */
const HEAD_SHORT: Partial<Record<LadderColumn, string>> = { volume: 'Vol' };
const GROUPS = [1, 2, 5, 10];
/** Row height in CSS pixels (power.css .pw-ladder-row). */
const ROW_PX = 19;

export function DepthLadder(p: DepthLadderProps) {
  const fmt = p.formatPrice ?? defaultFormatPrice;
  const grid = useRef<HTMLDivElement>(null);
  const [fit, setFit] = useState(25);
  useEffect(() => {
    const el = grid.current;
    if (el === null || p.rows !== undefined || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      const n = Math.max(5, Math.floor((el.clientHeight - ROW_PX) / ROW_PX));
      setFit(n % 2 === 1 ? n : n - 1);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [p.rows]);
  const rowsCount = p.rows ?? fit;
  const group = p.group ?? 1;
  const step = p.tick * group;
  /** Null: follow the market (re-centre when the last price leaves the middle half). */
  const [pinned, setPinned] = useState<number | null>(null);
  const [follow, setFollow] = useState<number | null>(null);
  const [focus, setFocus] = useState<{ row: number; col: number }>({ row: Math.floor(rowsCount / 2), col: 1 });
  const [pending, setPending] = useState<Extract<LadderAction, { kind: 'place' }> | null>(null);
  const [error, setError] = useState<string | null>(null);

  const auto = defaultCenter(p.last, p.depth, follow ?? p.tick * 100);
  // Auto mode re-centres only when the market drifts out of the middle half, so rows do not jump every tick.
  useEffect(() => {
    if (pinned !== null) return;
    if (follow === null || Math.abs(auto - follow) > (rowsCount / 4) * step) setFollow(auto);
  }, [auto, follow, pinned, rowsCount, step]);
  const center = pinned ?? follow ?? auto;

  const model = useMemo(
    () =>
      buildLadder({
        depth: p.depth,
        tick: p.tick,
        last: p.last,
        orders: p.orders,
        symbol: p.symbol,
        center,
        rows: rowsCount,
        group,
        ...(p.volumeAtPrice === undefined ? {} : { volumeAtPrice: p.volumeAtPrice }),
      }),
    [p.depth, p.tick, p.last, p.orders, p.symbol, center, rowsCount, group, p.volumeAtPrice],
  );
  const bestBid = p.depth?.bids[0]?.price ?? null;
  const bestAsk = p.depth?.asks[0]?.price ?? null;

  const recenter = () => {
    setPinned(null);
    setFollow(defaultCenter(p.last, p.depth, center));
  };
  const scroll = (rows: number) => setPinned(scrollCenter(center, rows, step));

  // a halt's refusal goes with the halt
  useEffect(() => setError(null), [p.halted]);

  const act = (row: LadderRow, column: LadderColumn) => {
    setError(null);
    const a = ladderClick(row, column, { symbol: p.symbol, qty: p.qty, lot: p.lot, bestBid, bestAsk });
    switch (a.kind) {
      case 'none':
        return;
      case 'invalid':
        setError(a.reason);
        return;
      case 'cancel':
        p.onCancel(a.orderIds);
        return;
      case 'place':
        if (p.halted === true) {
          setError(haltedText(p.symbol));
          return;
        }
        if (p.confirm || a.marketable) setPending(a);
        else p.onPlace(a.params);
    }
  };

  const onKey = (e: KeyboardEvent) => {
    const move = (row: number, col: number) => {
      e.preventDefault();
      if (row < 0) scroll(1);
      else if (row >= rowsCount) scroll(-1);
      setFocus({ row: Math.max(0, Math.min(rowsCount - 1, row)), col: Math.max(0, Math.min(COLUMNS.length - 1, col)) });
    };
    switch (e.key) {
      case 'ArrowUp':
        return move(focus.row - 1, focus.col);
      case 'ArrowDown':
        return move(focus.row + 1, focus.col);
      case 'ArrowLeft':
        return move(focus.row, focus.col - 1);
      case 'ArrowRight':
        return move(focus.row, focus.col + 1);
      case 'PageUp':
        e.preventDefault();
        return scroll(Math.floor(rowsCount / 2));
      case 'PageDown':
        e.preventDefault();
        return scroll(-Math.floor(rowsCount / 2));
      case 'c':
      case 'C':
        if (e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
        e.preventDefault();
        return recenter();
      case 'Enter':
      case ' ': {
        const row = model.rows[focus.row];
        if (row === undefined) return;
        e.preventDefault();
        // a held key acts once: its auto-repeats would place (or cancel) once per repeat
        if (e.repeat) return;
        return act(row, COLUMNS[focus.col]!);
      }
    }
  };

  const focusedId = `ladder-${p.symbol}-${focus.row}-${focus.col}`;
  const label = (row: LadderRow, col: LadderColumn): string => {
    switch (col) {
      case 'bid':
        return `Buy ${formatQty(p.qty)} at ${fmt(row.price)}; bid size ${formatQty(row.bidSize)}`;
      case 'ask':
        return `Sell ${formatQty(p.qty)} at ${fmt(row.priceHigh)}; ask size ${formatQty(row.askSize)}`;
      case 'buyOrders':
        return row.buyQty > 0 ? `Cancel my buy orders at ${fmt(row.price)} (${formatQty(row.buyQty)})` : `No buy orders at ${fmt(row.price)}`;
      case 'sellOrders':
        return row.sellQty > 0 ? `Cancel my sell orders at ${fmt(row.price)} (${formatQty(row.sellQty)})` : `No sell orders at ${fmt(row.price)}`;
      case 'price':
        return `Price ${fmt(row.price)}${row.isLast ? ', last' : ''}`;
      case 'volume':
        return `Volume at ${fmt(row.price)}: ${formatQty(row.volume)}`;
    }
  };

  return (
    <div className="pw-ladder" data-testid="depth-ladder">
      <div className="toolbar pw-ladder-bar">
        <span className="sym big">{p.symbol}</span>
        {p.halted === true && <HaltedTag symbol={p.symbol} />}
        {p.sizePresets !== undefined && p.onQtyChange !== undefined && (
          <div className="seg" role="group" aria-label="Order size">
            {p.sizePresets.map((s) => (
              <button key={s} type="button" className={s === p.qty ? 'on' : undefined} aria-pressed={s === p.qty} onClick={() => p.onQtyChange?.(s)}>
                {s}
              </button>
            ))}
          </div>
        )}
        <span className="muted">
          Size <b className="strong" data-testid="ladder-qty">{formatQty(p.qty)}</b>
        </span>
        {p.onGroupChange !== undefined && (
          <label className="muted">
            Rows{' '}
            <select value={group} aria-label="Ticks per row" onChange={(e) => p.onGroupChange?.(Number(e.target.value))}>
              {GROUPS.map((g) => (
                <option key={g} value={g}>
                  {g === 1 ? '1 tick' : `${g} ticks`}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="spacer" />
        <label className="muted pw-check">
          <input type="checkbox" checked={p.confirm} onChange={(e) => p.onConfirmChange(e.target.checked)} /> Confirm
        </label>
        <button type="button" className="btn small" onClick={recenter} title="Re-centre on the last price (C)" data-testid="ladder-recenter">
          Centre <kbd>C</kbd>
        </button>
      </div>
      {error !== null && (
        <div className="field-error block" role="alert">
          {error}
        </div>
      )}
      <div
        ref={grid}
        className="pw-ladder-grid"
        role="grid"
        aria-label={`${p.symbol} depth ladder`}
        aria-rowcount={rowsCount + 1}
        tabIndex={0}
        aria-activedescendant={focusedId}
        onKeyDown={onKey}
        onWheel={(e) => {
          if (e.deltaY !== 0) scroll(e.deltaY < 0 ? 2 : -2);
        }}
      >
        <div className="pw-ladder-row pw-ladder-head" role="row">
          {COLUMNS.map((c) => (
            <div key={c} role="columnheader" className={`pw-c pw-c-${c}`} title={HEAD[c]}>
              {HEAD_SHORT[c] === undefined ? (
                HEAD[c]
              ) : (
                <>
                  <span className="pw-long">{HEAD[c]}</span>
                  <span className="pw-short">{HEAD_SHORT[c]}</span>
                </>
              )}
            </div>
          ))}
        </div>
        {model.rows.map((row, ri) => (
          <div
            key={row.price}
            role="row"
            className={`pw-ladder-row${row.isLast ? ' last' : ''}${row.isBestBid ? ' best-bid' : ''}${row.isBestAsk ? ' best-ask' : ''}`}
            data-price={row.price}
          >
            {COLUMNS.map((c, ci) => {
              const id = `ladder-${p.symbol}-${ri}-${ci}`;
              const focused = ri === focus.row && ci === focus.col;
              return (
                <div
                  key={c}
                  id={id}
                  role="gridcell"
                  aria-label={label(row, c)}
                  className={`pw-c pw-c-${c}${focused ? ' focused' : ''}`}
                  data-col={c}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => {
                    setFocus({ row: ri, col: ci });
                    grid.current?.focus();
                    act(row, c);
                  }}
                >
                  <Cell row={row} col={c} model={model} fmt={fmt} />
                </div>
              );
            })}
          </div>
        ))}
      </div>
      {pending !== null && (
        <ConfirmOrder
          title={pending.params.side === 'buy' ? 'Buy from the ladder' : 'Sell from the ladder'}
          lines={[`${pending.params.side === 'buy' ? 'Buy' : 'Sell'} ${formatQty(pending.params.qty)} ${pending.params.symbol} limit ${fmt(pending.params.price!)} ${pending.params.tif.toUpperCase()}`]}
          side={pending.params.side}
          warning={pending.marketable ? `This limit is through the ${pending.params.side === 'buy' ? 'ask' : 'bid'}: it trades at once.` : undefined}
          offerDontAsk={p.confirm}
          onCancel={() => {
            setPending(null);
            grid.current?.focus();
          }}
          onSend={(dontAsk) => {
            const params = pending.params;
            setPending(null);
            if (dontAsk) p.onConfirmChange(false);
            p.onPlace(params);
            grid.current?.focus();
          }}
        />
      )}
    </div>
  );
}

function Cell({ row, col, model, fmt }: { row: LadderRow; col: LadderColumn; model: { maxBookSize: number; maxVolume: number }; fmt(p: number): string }) {
  const bar = (v: number, max: number) => (max > 0 && v > 0 ? <span className="pw-bar" style={{ width: `${Math.max(4, Math.round((v / max) * 100))}%` }} /> : null);
  switch (col) {
    case 'bid':
      return (
        <>
          {bar(row.bidSize, model.maxBookSize)}
          <span className="pw-v">{row.bidSize > 0 ? formatQty(row.bidSize) : ''}</span>
        </>
      );
    case 'ask':
      return (
        <>
          {bar(row.askSize, model.maxBookSize)}
          <span className="pw-v">{row.askSize > 0 ? formatQty(row.askSize) : ''}</span>
        </>
      );
    case 'buyOrders':
      return row.buyQty > 0 ? <span className="pw-own buy" data-testid="own-buy">{formatQty(row.buyQty)} ×</span> : null;
    case 'sellOrders':
      return row.sellQty > 0 ? <span className="pw-own sell" data-testid="own-sell">× {formatQty(row.sellQty)}</span> : null;
    case 'price':
      return <span className="pw-v">{fmt(row.price)}</span>;
    case 'volume':
      return (
        <>
          {bar(row.volume, model.maxVolume)}
          <span className="pw-v">{row.volume > 0 ? formatQty(row.volume) : ''}</span>
        </>
      );
  }
}
