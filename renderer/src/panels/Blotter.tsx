/**
 * Blotter: working orders (modify in place, cancel, cancel all), fills, rejections with the reason in
 * words for each code, and the full order history. Modify: click Modify (or press Enter on a row), change
 * quantity/price, Enter sends, Esc leaves it as it was.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { isProtocolError } from '../../../engine/protocol/index.js';
import { useExecutions, useInstrument, useLive, useOrders, useRejects, type LocalReject } from '../data/live.js';
import type { OrderRecord } from '../data/types.js';
import { formatAvgPrice, formatPrice, formatQty, formatTime, priceInput } from '../format/num.js';
import { validateModify } from '../ticket/validate.js';
import { cancelText, reasonFor } from '../format/reasons.js';
import type { PanelProps } from './registry.js';
import { GridHead } from '../ui/GridHead.js';

type Tab = 'working' | 'fills' | 'rejected' | 'all';
const TYPE_SHORT: Record<string, string> = { market: 'MKT', limit: 'LMT', stop: 'STP', stop_limit: 'STP LMT', trailing_stop: 'TRAIL' };
const OPEN = new Set(['working', 'pending_trigger', 'pending_parent']);

export function Blotter(_props: PanelProps) {
  const orders = useOrders();
  const fills = useExecutions();
  const localRejects = useRejects();
  const [tab, setTab] = useState<Tab>('working');
  const live = useLive();
  const [actionError, setActionError] = useState<string | undefined>();

  const list = orders.data ?? [];
  const working = useMemo(() => list.filter((o) => OPEN.has(o.status)), [list]);
  const rejected = useMemo(() => {
    const fromVenue = list.filter((o) => o.status === 'rejected');
    const known = new Set(fromVenue.map((o) => o.clientOrderId).filter((x) => x !== undefined));
    const rows: LocalReject[] = fromVenue.map((o) => ({
      key: `o${o.orderId}`,
      ts: o.updatedTs,
      symbol: o.symbol,
      side: o.side,
      orderType: o.orderType,
      qty: o.qty,
      price: o.price,
      code: o.rejectCode ?? 'INTERNAL',
      message: o.rejectMessage ?? '',
      action: 'place',
    }));
    for (const r of localRejects) if (!known.has(r.key)) rows.push(r);
    return rows.sort((a, b) => b.ts - a.ts);
  }, [list, localRejects]);

  const cancelAll = async () => {
    try {
      await live.conn.call('order.cancelAll', {});
      setActionError(undefined);
    } catch (e) {
      setActionError(reasonFor(isProtocolError(e) ? e.code : undefined, e instanceof Error ? e.message : undefined));
    }
  };

  return (
    <div className="blotter" data-testid="blotter">
      <div className="tabs" role="tablist">
        <TabButton id="working" tab={tab} set={setTab} label={`Working (${working.length})`} />
        <TabButton id="fills" tab={tab} set={setTab} label={`Fills (${fills.data?.length ?? 0})`} />
        <TabButton id="rejected" tab={tab} set={setTab} label={`Rejected (${rejected.length})`} alert={rejected.length > 0} />
        <TabButton id="all" tab={tab} set={setTab} label="All orders" />
        <span className="spacer" />
        {tab === 'working' && working.length > 0 && (
          <button type="button" className="btn small danger" onClick={() => void cancelAll()}>
            Cancel all
          </button>
        )}
      </div>
      {actionError !== undefined && (
        <div className="field-error block" role="alert">
          {actionError}
        </div>
      )}
      {/* (one per tab: each tab opens at its top, not where the last one was scrolled to) */}
      <div className="table-wrap" key={tab}>
        {tab === 'working' && <WorkingTable orders={working} onError={setActionError} />}
        {tab === 'fills' && <FillsTable />}
        {tab === 'rejected' && <RejectsTable rows={rejected} />}
        {tab === 'all' && <AllTable orders={list} />}
      </div>
    </div>
  );
}

function TabButton({ id, tab, set, label, alert }: { id: Tab; tab: Tab; set(t: Tab): void; label: string; alert?: boolean }) {
  return (
    <button type="button" role="tab" aria-selected={tab === id} className={`tab ${tab === id ? 'on' : ''} ${alert ? 'alert' : ''}`} onClick={() => set(id)} data-tab={id}>
      {label}
    </button>
  );
}

const statusText = (o: OrderRecord): string =>
  o.status === 'pending_trigger' ? 'Waiting for trigger' : o.status === 'pending_parent' ? 'Waiting for parent' : o.filledQty > 0 ? 'Part filled' : 'Working';

function WorkingTable({ orders, onError }: { orders: OrderRecord[]; onError(s: string | undefined): void }) {
  const [editing, setEditing] = useState<number | undefined>();
  if (orders.length === 0) return <div className="empty">No working orders</div>;
  return (
    <table className="grid">
      <GridHead cols={[['Time', 'l opt'], ['Symbol', 'l'], ['Side', 'l'], ['Type', 'l'], ['Qty'], ['Filled', 'opt'], ['Price'], ['Stop'], ['TIF', 'l opt'], ['Status', 'l'], ['Actions', 'l']]} />
      <tbody>
        {orders.map((o) =>
          editing === o.orderId ? (
            <ModifyRow key={o.orderId} o={o} done={() => setEditing(undefined)} onError={onError} />
          ) : (
            <WorkingRow key={o.orderId} o={o} onModify={() => setEditing(o.orderId)} onError={onError} />
          ),
        )}
      </tbody>
    </table>
  );
}

function WorkingRow({ o, onModify, onError }: { o: OrderRecord; onModify(): void; onError(s: string | undefined): void }) {
  const live = useLive();
  const [busy, setBusy] = useState(false);
  const cancel = async () => {
    setBusy(true);
    try {
      const rec = await live.conn.call('order.cancel', { orderId: o.orderId });
      live.upsertOrder(rec);
      onError(undefined);
    } catch (e) {
      const code = isProtocolError(e) ? e.code : 'UNAVAILABLE';
      onError(`Cancel #${o.orderId} refused: ${reasonFor(code, e instanceof Error ? e.message : undefined)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-order-id={o.orderId} data-testid="working-row" tabIndex={0} onKeyDown={(e) => {
      if (e.key === 'Enter') onModify();
      if (e.key === 'Delete') void cancel();
    }}>
      <td className="l muted opt">{formatTime(o.ts)}</td>
      <td className="l sym">{o.symbol}</td>
      <td className={`l ${o.side}`}>{o.side.toUpperCase()}</td>
      <td className="l">{TYPE_SHORT[o.orderType]}</td>
      <td className="num" data-field="qty">{formatQty(o.qty)}</td>
      <td className="num opt">{formatQty(o.filledQty)}</td>
      <td className="num" data-field="price">{o.price === undefined ? '—' : formatPrice(o.price)}</td>
      <td className="num">{o.stopPrice === undefined ? (o.trailAmount !== undefined ? `trail ${formatPrice(o.trailAmount)}` : '—') : formatPrice(o.stopPrice)}</td>
      <td className="l opt">{o.tif.toUpperCase()}</td>
      <td className="l">{statusText(o)}</td>
      <td className="l actions">
        <button type="button" className="btn tiny" onClick={onModify} disabled={busy}>
          Modify
        </button>
        <button type="button" className="btn tiny danger" onClick={() => void cancel()} disabled={busy} aria-label={`Cancel order ${o.orderId}`}>
          Cancel
        </button>
      </td>
    </tr>
  );
}

function ModifyRow({ o, done, onError }: { o: OrderRecord; done(): void; onError(s: string | undefined): void }) {
  const live = useLive();
  const inst = useInstrument(o.symbol);
  const [qty, setQty] = useState(String(o.qty));
  const [price, setPrice] = useState(o.price === undefined ? '' : priceInput(o.price));
  const [stop, setStop] = useState(o.stopPrice === undefined ? '' : priceInput(o.stopPrice));
  // the prices the fields opened with: a field left as it was is no change, though the order's stop moved on
  const [opened] = useState(() => ({ price: o.price, stopPrice: o.stopPrice }));
  const [err, setErr] = useState<{ text: string; code?: string } | undefined>();
  // the row that says why nothing was sent comes into view under the row (a short blotter scrolls to it)
  const noteRef = useRef<HTMLTableRowElement>(null);
  useEffect(() => {
    if (err !== undefined) noteRef.current?.scrollIntoView({ block: 'nearest' });
  }, [err]);
  const submit = async () => {
    // the ticket's checks first: a refusal here is not the exchange's (nothing is sent, no Rejected row)
    const check = validateModify({ ...o, ...opened }, { qty, price, stopPrice: stop }, inst);
    if (check.error !== undefined) return setErr({ text: check.error });
    const params = check.params!;
    if (Object.keys(params).length === 1) return done();
    try {
      const rec = await live.conn.call('order.replace', params);
      live.upsertOrder(rec);
      onError(undefined);
      done();
    } catch (e) {
      const code = isProtocolError(e) ? e.code : 'UNAVAILABLE';
      const message = e instanceof Error ? e.message : String(e);
      live.addReject({ key: `m${o.orderId}-${Date.now()}`, symbol: o.symbol, side: o.side, orderType: o.orderType, qty: params.qty ?? o.qty, price: params.price ?? o.price, code, message, action: 'modify' });
      setErr({ text: reasonFor(code, message), code });
    }
  };
  const keys = (e: KeyboardEvent) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      done();
    }
  };
  const row = (
    <tr className="editing" data-order-id={o.orderId} data-testid="modify-row" onKeyDown={keys}>
      <td className="l muted opt">{formatTime(o.ts)}</td>
      <td className="l sym">{o.symbol}</td>
      <td className={`l ${o.side}`}>{o.side.toUpperCase()}</td>
      <td className="l">{TYPE_SHORT[o.orderType]}</td>
      <td className="num">
        <input aria-label="New quantity" className="cell-input" value={qty} onChange={(e) => setQty(e.target.value)} autoFocus />
      </td>
      <td className="num opt">{formatQty(o.filledQty)}</td>
      <td className="num">{o.price !== undefined ? <input aria-label="New price" className="cell-input" value={price} onChange={(e) => setPrice(e.target.value)} /> : '—'}</td>
      <td className="num">{o.stopPrice !== undefined ? <input aria-label="New stop price" className="cell-input" value={stop} onChange={(e) => setStop(e.target.value)} /> : '—'}</td>
      <td className="l opt">{o.tif.toUpperCase()}</td>
      <td className="l">{err !== undefined ? <span className="field-error">Not sent</span> : <span className="muted">Enter to send · Esc</span>}</td>
      <td className="l actions">
        <button type="button" className="btn tiny primary" onClick={() => void submit()}>
          Send
        </button>
        <button type="button" className="btn tiny" onClick={done}>
          Back
        </button>
      </td>
    </tr>
  );
  // why it was not sent, whole, on a row of its own under the one being changed (the status cell is narrow)
  return (
    <>
      {row}
      {err !== undefined && (
        <tr className="editing modify-note" ref={noteRef}>
          <td className="l wide" colSpan={11}>
            <span className="field-error" data-testid="modify-error" data-code={err.code} role="alert">
              {err.text}
            </span>
          </td>
        </tr>
      )}
    </>
  );
}

function FillsTable() {
  const fills = useExecutions();
  const list = fills.data ?? [];
  if (list.length === 0) return <div className="empty">No fills yet</div>;
  return (
    <table className="grid">
      <GridHead cols={[['Time', 'l'], ['Symbol', 'l'], ['Side', 'l'], ['Qty'], ['Price'], ['Liquidity', 'l'], ['Order']]} />
      <tbody>
        {list.map((f) => (
          <tr key={`${f.tradeId}-${f.orderId}`} data-testid="fill-row">
            <td className="l muted">{formatTime(f.ts)}</td>
            <td className="l sym">{f.symbol}</td>
            <td className={`l ${f.side}`}>{f.side.toUpperCase()}</td>
            <td className="num">{formatQty(f.qty)}</td>
            <td className="num">{formatPrice(f.price)}</td>
            <td className="l muted">{f.liquidity}</td>
            <td className="num muted">#{f.orderId}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RejectsTable({ rows }: { rows: LocalReject[] }) {
  if (rows.length === 0) return <div className="empty">No rejections</div>;
  return (
    <table className="grid">
      <GridHead cols={[['Time', 'l'], ['Symbol', 'l'], ['Side', 'l'], ['Type', 'l'], ['Qty'], ['Price'], ['Code', 'l'], ['Reason', 'l wide']]} />
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-testid="reject-row" data-code={r.code}>
            <td className="l muted">{formatTime(r.ts)}</td>
            <td className="l sym">{r.symbol}</td>
            <td className={`l ${r.side}`}>{r.side.toUpperCase()}</td>
            <td className="l">{r.action === 'modify' ? 'Modify' : (TYPE_SHORT[r.orderType] ?? r.orderType)}</td>
            <td className="num">{formatQty(r.qty)}</td>
            <td className="num">{r.price === undefined ? '—' : formatPrice(r.price)}</td>
            <td className="l code">{r.code}</td>
            <td className="l wide reason" title={r.message}>
              {reasonFor(r.code, r.message)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AllTable({ orders }: { orders: OrderRecord[] }) {
  if (orders.length === 0) return <div className="empty">No orders today</div>;
  return (
    <table className="grid">
      <GridHead cols={[['Time', 'l'], ['#'], ['Symbol', 'l'], ['Side', 'l'], ['Type', 'l'], ['Qty'], ['Filled'], ['Avg price'], ['Price'], ['Status', 'l wide']]} />
      <tbody>
        {orders.map((o) => (
          <tr key={o.orderId} data-order-id={o.orderId} data-status={o.status}>
            <td className="l muted">{formatTime(o.updatedTs)}</td>
            <td className="num muted">{o.orderId}</td>
            <td className="l sym">{o.symbol}</td>
            <td className={`l ${o.side}`}>{o.side.toUpperCase()}</td>
            <td className="l">{TYPE_SHORT[o.orderType]}</td>
            <td className="num">{formatQty(o.qty)}</td>
            <td className="num">{formatQty(o.filledQty)}</td>
            <td className="num">{o.avgFillPrice === undefined ? '—' : formatAvgPrice(o.avgFillPrice)}</td>
            <td className="num">{o.price === undefined ? '—' : formatPrice(o.price)}</td>
            <td className="l wide">
              {o.status === 'rejected'
                ? `Rejected: ${reasonFor(o.rejectCode, o.rejectMessage)}`
                : o.status === 'canceled'
                  ? cancelText(o.cancelReason)
                  : o.status === 'filled'
                    ? 'Filled'
                    : statusText(o)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
