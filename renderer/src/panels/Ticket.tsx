/**
 * Order ticket: buy/sell; market, limit, stop, stop-limit, trailing stop; time in force; quantity presets;
 * bracket (take profit / stop loss); estimated cost and buying power after; validation before sending (tick,
 * lot, band, funds, shares); an optional confirmation. Keyboard: Tab through fields, ↑/↓ step a price by the
 * tick or a quantity by the lot, Alt+B / Alt+S pick the side, Enter sends (or opens the confirmation, where
 * Enter sends and Esc goes back).
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { isProtocolError } from '../../../engine/protocol/index.js';
import { useAccount, useInstrument, useInstruments, useLive, useOrders, useQuote } from '../data/live.js';
import type { OrderRecord, OrderType, TimeInForce } from '../data/types.js';
import { formatMoney, formatPrice, formatQty, parsePrice, parseQty, priceInput } from '../format/num.js';
import { canceledByExchange, cancelText, reasonFor } from '../format/reasons.js';
import { needsPrice, needsStop, needsTrail, validateTicket, type TicketDraft } from '../ticket/validate.js';
import { useFreshPressOnly } from '../ui/heldKeys.js';
import { useModalKeys } from '../ui/modal.js';
import { HaltedTag, haltedText, ModeBadge } from '../ui/StatusBits.js';
import { useActiveSymbol } from '../ui/symbol.js';
import { PREF, usePref } from '../workspace/prefs.js';
import type { PanelProps } from './registry.js';

const TYPES: { v: OrderType; label: string }[] = [
  { v: 'limit', label: 'Limit' },
  { v: 'market', label: 'Market' },
  { v: 'stop', label: 'Stop' },
  { v: 'stop_limit', label: 'Stop limit' },
  { v: 'trailing_stop', label: 'Trailing stop' },
];
const TIFS: { v: TimeInForce; label: string }[] = [
  { v: 'day', label: 'DAY' },
  { v: 'gtc', label: 'GTC' },
  { v: 'ioc', label: 'IOC' },
  { v: 'fok', label: 'FOK' },
];
const TYPE_SHORT: Record<OrderType, string> = { market: 'MKT', limit: 'LMT', stop: 'STP', stop_limit: 'STP LMT', trailing_stop: 'TRAIL' };

let seq = 0;
const clientOrderId = () => `td-${Date.now().toString(36)}-${(seq++).toString(36)}`;

/**
 * The last order's result, with the symbol it was for (the ticket may be on another symbol by now). An order
 * the venue took is shown as it is now (its record in the order list, kept live by the orders stream).
 */
type Outcome = { kind: 'ok'; symbol: string; orderId: number; text: string } | { kind: 'error'; symbol: string; code: string; text: string };

/** An order as the ticket's outcome line tells it: "AQLN order #6 working", "… — Canceled: no liquidity". */
function orderLine(rec: OrderRecord): string {
  const fill = rec.filledQty > 0 ? `, filled ${formatQty(rec.filledQty)}` : '';
  const head = `${rec.symbol} order #${rec.orderId}`;
  return canceledByExchange(rec) ? `${head}${fill} — ${cancelText(rec.cancelReason)}` : `${head} ${rec.status.replace('_', ' ')}${fill}`;
}

export function Ticket(_props: PanelProps) {
  const live = useLive();
  const [symbol, setSymbol] = useActiveSymbol();
  const instruments = useInstruments();
  const inst = useInstrument(symbol);
  const quote = useQuote(symbol);
  const account = useAccount();
  const orders = useOrders();
  const [confirm, setConfirm] = usePref<boolean>(PREF.confirmOrders, true);
  const [presets] = usePref<number[]>(PREF.qtyPresets, [100, 500, 1000, 5000]);
  const [d, setD] = useState<TicketDraft>({
    symbol,
    side: 'buy',
    orderType: 'limit',
    qty: '100',
    price: '',
    stopPrice: '',
    trailAmount: '',
    tif: 'day',
    bracket: false,
    takeProfit: '',
    stopLoss: '',
  });
  const [symText, setSymText] = useState(symbol);
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const [touched, setTouched] = useState(false);
  const priceSeeded = useRef('');

  // Follow the linked symbol; seed the limit price from the market once per symbol.
  useEffect(() => {
    setD((x) => ({ ...x, symbol }));
    setSymText(symbol);
  }, [symbol]);
  useEffect(() => {
    if (quote === undefined || priceSeeded.current === symbol) return;
    // a symbol that has not traded and has no book yet: its previous close (the reference price at listing),
    // never the price typed for the symbol before
    const px = quote.last ?? quote.bid ?? quote.ask ?? quote.previousClose;
    priceSeeded.current = symbol;
    setD((x) => ({ ...x, price: priceInput(px), stopPrice: priceInput(px) }));
  }, [quote, symbol]);

  const check = useMemo(() => validateTicket(d, { instrument: inst, quote, account: account.data }), [d, inst, quote, account.data]);
  const set = (patch: Partial<TicketDraft>) => {
    setD((x) => ({ ...x, ...patch }));
    setTouched(true);
  };
  const tick = inst?.tickSize ?? 1;
  const lot = inst?.lotSize ?? 1;

  const step = (field: 'price' | 'stopPrice' | 'trailAmount' | 'takeProfit' | 'stopLoss' | 'qty', dir: 1 | -1) => {
    if (field === 'qty') {
      const q = parseQty(d.qty);
      const base = q.ok ? q.value : 0;
      set({ qty: String(Math.max(lot, base - (base % lot) + dir * lot)) });
      return;
    }
    const p = parsePrice(d[field]);
    const base = p.ok ? p.value - (p.value % tick) : (quote?.last ?? 0);
    set({ [field]: priceInput(Math.max(tick, base + dir * tick)) } as Partial<TicketDraft>);
  };

  const send = async () => {
    const params = check.params;
    if (params === undefined || sending) return;
    setConfirming(false);
    setSending(true);
    const coid = clientOrderId();
    try {
      const rec = await live.conn.call('order.place', { ...params, clientOrderId: coid });
      live.upsertOrder(rec);
      setOutcome({ kind: 'ok', symbol: rec.symbol, orderId: rec.orderId, text: orderLine(rec) });
    } catch (e) {
      const code = isProtocolError(e) ? e.code : 'UNAVAILABLE';
      const message = e instanceof Error ? e.message : String(e);
      live.addReject({
        key: coid,
        symbol: params.symbol,
        side: params.side,
        orderType: params.orderType,
        qty: params.qty,
        price: params.price,
        code,
        message,
        action: 'place',
      });
      setOutcome({ kind: 'error', symbol: params.symbol, code, text: reasonFor(code, message) });
    } finally {
      setSending(false);
    }
  };

  const submit = () => {
    setTouched(true);
    if (check.params === undefined) return;
    if (confirm) setConfirming(true);
    else void send();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey && (e.key === 'b' || e.key === 'B')) {
      set({ side: 'buy' });
      e.preventDefault();
    } else if (e.altKey && (e.key === 's' || e.key === 'S')) {
      set({ side: 'sell' });
      e.preventDefault();
    } else if (e.key === 'Enter' && !confirming && (e.target as HTMLElement).tagName !== 'BUTTON') {
      e.preventDefault();
      // a held Enter submits once: its auto-repeats neither send again nor press the confirmation's Send
      if (!e.repeat) submit();
    }
  };

  const arrows = (field: 'price' | 'stopPrice' | 'trailAmount' | 'takeProfit' | 'stopLoss' | 'qty') => (e: KeyboardEvent) => {
    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      step(field, e.key === 'ArrowUp' ? 1 : -1);
    }
  };

  // the order sent last as it is now: filled, or canceled by the exchange (a session's end, a risk check)
  const now = outcome?.kind === 'ok' ? orders.data?.find((o) => o.orderId === outcome.orderId) : undefined;
  const ended = now !== undefined && canceledByExchange(now);

  const err = touched ? check.errors : {};
  const halted = inst?.status === 'halted';
  const buy = d.side === 'buy';
  // what the fields say once parsed: a quantity or price that is not valid is left out, never repeated as typed
  const px = check.price ?? check.stopPrice;
  const summary = `${buy ? 'Buy' : 'Sell'} ${check.qty !== undefined ? `${formatQty(check.qty)} ` : ''}${d.symbol || '—'} ${TYPE_SHORT[d.orderType]}${px !== undefined ? ` @ ${formatPrice(px)}` : ''}`;

  return (
    <div className={`ticket ${buy ? 'is-buy' : 'is-sell'}`} onKeyDown={onKeyDown} data-testid="ticket">
      <div className="ticket-top">
        <div className="seg side" role="radiogroup" aria-label="Side">
          <button type="button" role="radio" aria-checked={buy} className={`buy ${buy ? 'on' : ''}`} onClick={() => set({ side: 'buy' })} title="Alt+B">
            Buy
          </button>
          <button type="button" role="radio" aria-checked={!buy} className={`sell ${!buy ? 'on' : ''}`} onClick={() => set({ side: 'sell' })} title="Alt+S">
            Sell
          </button>
        </div>
        <ModeBadge />
      </div>

      <div className="form-grid">
        <label htmlFor="t-symbol">Symbol</label>
        <div>
          <input
            id="t-symbol"
            value={symText}
            list="t-instruments"
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => {
              const v = e.target.value.toUpperCase();
              setSymText(v);
              if (instruments.data?.some((i) => i.symbol === v)) setSymbol(v);
            }}
            aria-invalid={err.symbol !== undefined}
          />
          <datalist id="t-instruments">
            {(instruments.data ?? []).map((i) => (
              <option key={i.symbol} value={i.symbol}>
                {i.name}
              </option>
            ))}
          </datalist>
          {err.symbol && <div className="field-error">{err.symbol}</div>}
        </div>

        <span className="label">Market{halted && <HaltedTag symbol={inst.symbol} />}</span>
        <div className="quote-strip">
          <button type="button" className="bid" onClick={() => quote?.bid != null && set({ price: priceInput(quote.bid) })} title="Use bid as limit price">
            <small className="side-label">Bid</small> {formatPrice(quote?.bid)} <small className="sz">× {formatQty(quote?.bidSize ?? 0)}</small>
          </button>
          <button type="button" className="ask" onClick={() => quote?.ask != null && set({ price: priceInput(quote.ask) })} title="Use ask as limit price">
            <small className="side-label">Ask</small> {formatPrice(quote?.ask)} <small className="sz">× {formatQty(quote?.askSize ?? 0)}</small>
          </button>
        </div>

        <label htmlFor="t-type">Type</label>
        <div className="row2">
          <select id="t-type" value={d.orderType} onChange={(e) => set({ orderType: e.target.value as OrderType })}>
            {TYPES.map((t) => (
              <option key={t.v} value={t.v}>
                {t.label}
              </option>
            ))}
          </select>
          <select id="t-tif" aria-label="Time in force" value={d.tif} onChange={(e) => set({ tif: e.target.value as TimeInForce })}>
            {TIFS.map((t) => (
              <option key={t.v} value={t.v}>
                {t.label}
              </option>
            ))}
          </select>
        </div>

        <label htmlFor="t-qty">Quantity</label>
        <div>
          <input id="t-qty" inputMode="numeric" value={d.qty} onChange={(e) => set({ qty: e.target.value })} onKeyDown={arrows('qty')} aria-invalid={err.qty !== undefined} />
          <div className="presets" role="group" aria-label="Quantity presets">
            {presets.map((n) => (
              <button key={n} type="button" className="chip" onClick={() => set({ qty: String(n) })}>
                {n >= 1000 ? `${n / 1000}K` : n}
              </button>
            ))}
          </div>
          {err.qty && <div className="field-error">{err.qty}</div>}
        </div>

        {needsStop(d.orderType) && (
          <>
            <label htmlFor="t-stop">Stop price</label>
            <div>
              <input id="t-stop" inputMode="decimal" value={d.stopPrice} onChange={(e) => set({ stopPrice: e.target.value })} onKeyDown={arrows('stopPrice')} aria-invalid={err.stopPrice !== undefined} />
              {err.stopPrice && <div className="field-error">{err.stopPrice}</div>}
            </div>
          </>
        )}
        {needsPrice(d.orderType) && (
          <>
            <label htmlFor="t-price">Limit price</label>
            <div>
              <input id="t-price" inputMode="decimal" value={d.price} onChange={(e) => set({ price: e.target.value })} onKeyDown={arrows('price')} aria-invalid={err.price !== undefined} />
              {err.price && <div className="field-error">{err.price}</div>}
            </div>
          </>
        )}
        {needsTrail(d.orderType) && (
          <>
            <label htmlFor="t-trail">Trail by</label>
            <div>
              <input id="t-trail" inputMode="decimal" placeholder="e.g. 0.50" value={d.trailAmount} onChange={(e) => set({ trailAmount: e.target.value })} onKeyDown={arrows('trailAmount')} aria-invalid={err.trailAmount !== undefined} />
              {err.trailAmount && <div className="field-error">{err.trailAmount}</div>}
            </div>
          </>
        )}

        <span className="label">Bracket</span>
        <label className="check">
          <input type="checkbox" checked={d.bracket} onChange={(e) => set({ bracket: e.target.checked })} /> Attach take profit / stop loss
        </label>
        {d.bracket && (
          <>
            <label htmlFor="t-tp">Take profit</label>
            <div>
              <input id="t-tp" inputMode="decimal" value={d.takeProfit} onChange={(e) => set({ takeProfit: e.target.value })} onKeyDown={arrows('takeProfit')} aria-invalid={err.takeProfit !== undefined} />
              {err.takeProfit && <div className="field-error">{err.takeProfit}</div>}
            </div>
            <label htmlFor="t-sl">Stop loss</label>
            <div>
              <input id="t-sl" inputMode="decimal" value={d.stopLoss} onChange={(e) => set({ stopLoss: e.target.value })} onKeyDown={arrows('stopLoss')} aria-invalid={err.stopLoss !== undefined} />
              {err.stopLoss && <div className="field-error">{err.stopLoss}</div>}
            </div>
          </>
        )}
      </div>

      <dl className="estimate" data-testid="estimate">
        <dt>Est. {buy ? 'cost' : 'proceeds'}</dt>
        <dd>{check.estCost === undefined ? '—' : formatMoney(check.estCost)}</dd>
        <dt>Buying power</dt>
        <dd>{account.data ? formatMoney(account.data.buyingPower) : '—'}</dd>
        <dt>After order</dt>
        <dd className={check.bpAfter !== undefined && check.bpAfter < 0 ? 'down' : ''}>{check.bpAfter === undefined ? '—' : formatMoney(check.bpAfter)}</dd>
      </dl>
      {/* sticks to the foot of a ticket that scrolls: why it cannot send stays in view with the button */}
      <div className="ticket-foot">
        {touched && check.errors.funds && (
          <div className="field-error block" data-testid="funds-error" data-code={check.code}>
            {check.errors.funds}
          </div>
        )}
        {halted && (
          <div className="ticket-halted" role="status" data-testid="ticket-halted">
            {haltedText(inst.symbol)}.
          </div>
        )}
        <button type="button" className={`btn send ${buy ? 'buy' : 'sell'}`} disabled={sending || halted} onClick={submit} data-testid="ticket-submit">
          {sending ? 'Sending…' : summary}
        </button>
      </div>
      <label className="check small">
        <input type="checkbox" checked={confirm} onChange={(e) => setConfirm(e.target.checked)} /> Confirm before sending
      </label>

      {outcome !== undefined && (
        <div
          className={`outcome ${ended ? 'ended' : outcome.kind}`}
          role="status"
          data-testid="ticket-outcome"
          data-symbol={outcome.symbol}
          data-code={outcome.kind === 'error' ? outcome.code : undefined}
          data-status={now?.status}
        >
          {outcome.kind === 'error' ? <b>{outcome.symbol} order rejected: </b> : null}
          {now !== undefined ? orderLine(now) : outcome.text}
        </div>
      )}

      {confirming && check.params !== undefined && (
        <ConfirmDialog summary={summary} buy={buy} estCost={check.estCost} bpAfter={check.bpAfter} tif={d.tif} onSend={() => void send()} onCancel={() => setConfirming(false)} />
      )}
    </div>
  );
}

function ConfirmDialog(p: { summary: string; buy: boolean; estCost: number | undefined; bpAfter: number | undefined; tif: TimeInForce; onSend(): void; onCancel(): void }) {
  const sendRef = useRef<HTMLButtonElement>(null);
  // Send has the focus: the repeats of the Enter that opened the dialog must not press it
  const fresh = useFreshPressOnly();
  // Send has the focus; Tab stays inside, Escape cancels wherever the focus is, the focus goes back on close
  const dialog = useRef<HTMLDivElement>(null);
  useModalKeys(dialog, p.onCancel, sendRef);
  return (
    <div className="modal-backdrop" {...fresh}>
      <div ref={dialog} tabIndex={-1} className="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-title" data-testid="confirm-dialog">
        <h3 id="confirm-title">Confirm order</h3>
        <ModeBadge />
        <p className={`confirm-summary ${p.buy ? 'buy' : 'sell'}`}>{p.summary}</p>
        <dl className="estimate">
          <dt>Time in force</dt>
          <dd>{p.tif.toUpperCase()}</dd>
          <dt>Est. value</dt>
          <dd>{p.estCost === undefined ? '—' : formatMoney(p.estCost)}</dd>
          <dt>Buying power after</dt>
          <dd>{p.bpAfter === undefined ? '—' : formatMoney(p.bpAfter)}</dd>
        </dl>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={p.onCancel}>
            Cancel <kbd>Esc</kbd>
          </button>
          <button ref={sendRef} type="button" className={`btn send ${p.buy ? 'buy' : 'sell'}`} onClick={p.onSend} data-testid="confirm-send">
            Send <kbd>Enter</kbd>
          </button>
        </div>
      </div>
    </div>
  );
}
