/**
 * Wires the power features into the app: data hooks over the app's Live layer, the panels (depth ladder,
 * the chart, alerts) registered in the panel registry, and the PowerLayer (hotkeys with their preview,
 * the cheat sheet, price alerts watching the tape, toasts). The components stay prop-driven; this file is
 * where they meet the protocol.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { isProtocolError, TIMEFRAMES, type Depth, type OrderRecord, type PanelKind, type ParamsOf } from '../../../engine/protocol/index.js';
import { keys, loadOlderCandles, useAccount, useCandleBook, useExecutions, useHubStatus, useInstrument, useInstruments, useLive, useOrders, useQuote, useTrades, type Live } from '../data/live.js';
import type { Execution, Quote, Timeframe } from '../data/types.js';
import { formatPrice, formatQty } from '../format/num.js';
import { canceledByExchange, cancelText, reasonFor } from '../format/reasons.js';
import { panelDef, panelKind, registerPanel, type PanelProps } from '../panels/registry.js';
import { isLinkColor, type LinkColor, type LinkSnapshot } from '../links/groups.js';
import { linkStore, useLinkedTimeframe } from '../links/links.js';
import { useActiveSymbol } from '../ui/symbol.js';
import { restorePopoutWindows } from '../windows/workspaceWindows.js';
import { useTheme } from '../ui/theme.js';
import { parseLayout } from '../workspace/layout.js';
import { setPref, usePref } from '../workspace/prefs.js';
import { useWorkspace } from '../workspace/Workspace.js';
import { mergeAlert, type PriceAlert } from './alerts.js';
import { ALERTS_KEY, createAlert, deleteAlert, useAlerts } from './alertsApi.js';
import { AlertsList } from './AlertsList.js';
import { ConfirmOrder } from './ConfirmOrder.js';
import { DepthLadder } from './DepthLadder.js';
import { EMPTY_DRAWINGS, loadDrawings, saveDrawings, type DrawingsState } from './drawings.js';
import { HotkeyCheatSheet } from './HotkeyCheatSheet.js';
import { DEFAULT_KEYMAP, intentForKey, parseKeymap, platformOf, serializeKeymap, type Keymap } from './hotkeys.js';
import { decodeSpecs, encodeSpecs } from './indicatorPlan.js';
import { DEFAULT_INDICATORS } from './indicators.js';
import { intentToRequests, type OrderRequest } from './intents.js';
import { VolumeProfile } from './ladder.js';
import { NAMED_LAYOUTS_KEY, deleteNamed, parseNamed, saveNamed, serializeNamed, type NamedLayout } from './namedLayouts.js';
import { TradingChart } from './TradingChart.js';
import { toast, toastCount, useToasts } from './toasts.js';
import './power.css';

export { toast };

export const POWER_PREF = {
  qty: 'tradedesk.power.qty',
  ladderConfirm: 'tradedesk.power.ladderConfirm',
  keymap: 'tradedesk.power.keymap',
} as const;

const platform = platformOf(typeof navigator === 'undefined' ? '' : navigator.userAgent);

/** Asks the PowerLayer to open the hotkey settings (the top bar's "Hotkeys" button). */
const settingsListeners = new Set<() => void>();
export function openHotkeySettings(): void {
  for (const l of settingsListeners) l();
}

// ---------------------------------------------------------------- data hooks

/** The aggregated book for a symbol, kept live by the depth channel. */
export function useDepth(symbol: string, levels = 50): Depth | null {
  const live = useLive();
  const [depth, setDepth] = useState<Depth | null>(null);
  useEffect(() => {
    setDepth(null);
    if (symbol === '') return;
    return live.retain('depth', { symbol, levels }, (d: Depth) => setDepth(d));
  }, [live, symbol, levels]);
  return depth;
}

/**
 * Whose trades the connection shows: through the desktop's hub, the venue profile and account (a switch of
 * profile is another venue, with trade ids of its own); a direct connection is one venue.
 */
function useVenueKey(): string {
  const hub = useHubStatus();
  return hub === undefined ? '' : `${hub.profileId ?? ''}|${hub.accountId ?? ''}`;
}

/**
 * Volume at price from the prints of the tape (the recent page, then every live print), for the symbol at
 * the venue connected to: another venue, or the trades query reset (a new session), starts it over.
 */
export function useVolumeAtPrice(symbol: string): ReadonlyMap<number, number> {
  const trades = useTrades(symbol);
  const venue = useVenueKey();
  const profile = useMemo(() => new VolumeProfile(symbol, venue), [symbol, venue]);
  const [rev, setRev] = useState(0);
  useEffect(() => {
    if (trades.data === undefined) {
      // reset (another venue or sign-in) or not loaded yet: what was counted is not this list's
      if (profile.lastTradeId > 0) {
        profile.reset();
        setRev((r) => r + 1);
      }
      return;
    }
    if (profile.add(trades.data) > 0) setRev((r) => r + 1);
  }, [trades.data, profile]);
  return useMemo(() => new Map(profile.byPrice), [profile, rev]);
}

function useKeymap(): Keymap {
  const [text] = usePref<string>(POWER_PREF.keymap, '');
  return useMemo(() => {
    if (text === '') return DEFAULT_KEYMAP;
    const r = parseKeymap(text, platform);
    return r.ok ? r.keymap : DEFAULT_KEYMAP;
  }, [text]);
}

export function saveKeymap(km: Keymap): void {
  setPref(POWER_PREF.keymap, serializeKeymap(km));
}

// ---------------------------------------------------------------- sending

function reportError(live: Live, e: unknown, what: { symbol: string; side: string; orderType: string; qty: number; price?: number | undefined; action: 'place' | 'modify' | 'cancel' }): void {
  const code = isProtocolError(e) ? e.code : 'UNAVAILABLE';
  const message = e instanceof Error ? e.message : String(e);
  live.addReject({ key: `pw-${Date.now()}-${toastCount()}`, code, message, ...what });
  const refused = what.action === 'place' ? 'Order refused' : what.action === 'modify' ? 'Change refused' : 'Cancel refused';
  toast(`${refused}${what.symbol !== '' ? ` (${what.symbol})` : ''}: ${reasonFor(code, message)}`, 'error');
}

export async function placeOrder(live: Live, params: ParamsOf<'order.place'>): Promise<OrderRecord | undefined> {
  try {
    const rec = await live.conn.call('order.place', params);
    live.upsertOrder(rec);
    return rec;
  } catch (e) {
    reportError(live, e, { symbol: params.symbol, side: params.side, orderType: params.orderType, qty: params.qty, price: params.price ?? params.stopPrice, action: 'place' });
    return undefined;
  }
}

export async function replaceOrder(live: Live, params: ParamsOf<'order.replace'>, o: OrderRecord | undefined): Promise<void> {
  try {
    live.upsertOrder(await live.conn.call('order.replace', params));
  } catch (e) {
    reportError(live, e, { symbol: o?.symbol ?? '', side: o?.side ?? '', orderType: o?.orderType ?? '', qty: o?.qty ?? 0, price: params.price ?? params.stopPrice, action: 'modify' });
  }
}

export async function cancelOrders(live: Live, ids: readonly number[], orders: readonly OrderRecord[]): Promise<void> {
  for (const orderId of ids) {
    try {
      live.upsertOrder(await live.conn.call('order.cancel', { orderId }));
    } catch (e) {
      const o = orders.find((x) => x.orderId === orderId);
      reportError(live, e, { symbol: o?.symbol ?? '', side: o?.side ?? '', orderType: o?.orderType ?? '', qty: o?.qty ?? 0, price: o?.price, action: 'cancel' });
    }
  }
}

async function runRequests(live: Live, requests: readonly OrderRequest[]): Promise<void> {
  for (const r of requests) {
    if (r.method === 'order.place') {
      if ((await placeOrder(live, r.params)) === undefined) return;
    } else {
      try {
        const { canceled } = await live.conn.call('order.cancelAll', r.params);
        toast(`Canceled ${canceled} order${canceled === 1 ? '' : 's'}${r.params.symbol === undefined ? '' : ` in ${r.params.symbol}`}`);
      } catch (e) {
        reportError(live, e, { symbol: r.params.symbol ?? '', side: '', orderType: '', qty: 0, action: 'cancel' });
        return;
      }
    }
  }
}

// ---------------------------------------------------------------- price alerts (stored and checked by the venue)

/** Follows the `alerts` channel: keeps the list current and tells the trader when one triggers. */
function AlertWatcher() {
  const live = useLive();
  const qc = useQueryClient();
  useEffect(
    () =>
      live.retain(
        'alerts',
        {},
        (a: PriceAlert) => {
          qc.setQueryData<PriceAlert[]>(ALERTS_KEY, (prev) => mergeAlert(prev ?? [], a));
          if (a.status !== 'triggered') return;
          const text = `${a.symbol} ${a.direction === 'above' ? 'reached' : 'fell to'} ${formatPrice(a.price)} (traded ${formatPrice(a.triggerPrice ?? a.price)})`;
          toast(`🔔 ${text}`);
          if (typeof Notification !== 'undefined' && Notification.permission === 'granted') new Notification('TradeDesk alert', { body: text });
        },
        () => void qc.invalidateQueries({ queryKey: ALERTS_KEY }),
      ),
    [live, qc],
  );
  return null;
}

// ---------------------------------------------------------------- orders the exchange canceled

/**
 * Follows the `orders` channel: tells the trader when the exchange cancels one of their orders without being
 * asked (a session's end outside the new band, expiry, no liquidity, buying power...), once per order. The
 * stream sends changes only: nothing is told again for an order that ended before the window opened.
 */
function CancelWatcher() {
  const live = useLive();
  useEffect(() => {
    const told = new Set<number>();
    return live.retain('orders', {}, (o: OrderRecord) => {
      if (!canceledByExchange(o) || told.has(o.orderId)) return;
      told.add(o.orderId);
      const px = o.price ?? o.stopPrice;
      const what = `${o.side === 'buy' ? 'Buy' : 'Sell'} ${formatQty(o.qty)} ${o.symbol}${px !== undefined ? ` @ ${formatPrice(px)}` : ''} (order #${o.orderId})`;
      // a remainder or a leg that went with another order of the trader's is news, not a warning
      const follows = o.cancelReason === 'ioc' || o.cancelReason === 'oco' || o.cancelReason === 'parent_canceled';
      toast(`${what} — ${cancelText(o.cancelReason)}`, follows ? 'info' : 'error');
    });
  }, [live]);
  return null;
}

// ---------------------------------------------------------------- the layer (mounted once by the app)

const isTextField = (el: Element | null): boolean =>
  el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement || (el instanceof HTMLElement && el.isContentEditable);

const focusedPanel = (): PanelKind | null => {
  const k = document.activeElement?.closest('[data-panel]')?.getAttribute('data-panel') ?? null;
  return k === null ? null : (panelKind(k) as PanelKind);
};

/** The link group of the focused panel (its frame's data-link), or null when it is in none. */
const focusedLink = (): LinkColor | null => {
  const c = document.activeElement?.closest('[data-panel]')?.getAttribute('data-link') ?? null;
  return isLinkColor(c) ? c : null;
};

/**
 * The symbol the focused panel shows, as useActiveSymbol reads it inside the panel: its link group's
 * symbol (or, while the group has none, the window's selection); a panel in no group, or no panel, shows
 * the window's selection.
 */
const symbolOf = (link: LinkColor | null, groups: LinkSnapshot['groups'], windowSymbol: string): string =>
  link === null ? windowSymbol : (groups[link]?.symbol ?? windowSymbol);

export function PowerLayer() {
  const live = useLive();
  const keymap = useKeymap();
  // The layer sits outside every panel's link group: useActiveSymbol here is the window's selection. Order
  // hotkeys trade the symbol of the panel focused when the key is pressed, which its link group may set to
  // another one; its instrument and quote are read from the cache then (the panel keeps its quote live).
  const [windowSymbol] = useActiveSymbol();
  const instruments = useInstruments();
  useQuote(windowSymbol);
  const account = useAccount();
  const [qty, setQty] = usePref<number>(POWER_PREF.qty, keymap.sizePresets[0]);
  const [sheet, setSheet] = useState<PanelKind | null | false>(false);
  const [preview, setPreview] = useState<{ lines: string[]; requests: readonly OrderRequest[]; side?: 'buy' | 'sell'; back: HTMLElement | null } | null>(null);
  const list = useToasts();

  useEffect(() => {
    const open = () => setSheet(null);
    settingsListeners.add(open);
    return () => {
      settingsListeners.delete(open);
    };
  }, []);

  /** Saves the keymap; the current size follows an edited preset it was using. */
  const changeKeymap = (km: Keymap) => {
    const i = keymap.sizePresets.indexOf(qty);
    if (i >= 0 && km.sizePresets[i] !== qty && !km.sizePresets.includes(qty)) setQty(km.sizePresets[i]!);
    saveKeymap(km);
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.repeat || preview !== null || document.querySelector('.modal-backdrop') !== null) return;
      const focused = focusedPanel();
      const hit = intentForKey(keymap, e, { focused, inTextField: isTextField(document.activeElement), currentQty: qty, platform });
      if (hit === null) return;
      const intent = hit.intent;
      switch (intent.kind) {
        case 'recenter':
          return; // the ladder handles its own key
        case 'cheatSheet':
          e.preventDefault();
          setSheet(focused);
          return;
        case 'setSize':
          e.preventDefault();
          setQty(intent.qty);
          toast(`Size ${intent.qty}`);
          return;
      }
      e.preventDefault();
      const symbol = symbolOf(focusedLink(), linkStore.snapshot.groups, windowSymbol);
      const instrument = instruments.data?.find((i) => i.symbol === symbol);
      if (symbol === '' || instrument === undefined) {
        toast(symbol === '' ? 'Not sent: the focused panel shows no symbol; pick one first' : `Not sent: ${symbol} is not loaded yet`, 'error');
        return;
      }
      // The preview takes focus; it goes back to the panel afterwards so the next hotkey has its scope.
      const back = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      const position = account.data?.positions.find((p) => p.symbol === symbol) ?? null;
      // Prices from the quote (buy at the ask, sell at the bid): the cached one only while a panel streams it
      // (the watchlist, the ticket); otherwise it may be minutes old, and the venue is asked for it now.
      const cached = live.qc.getQueryCache().find<Quote>({ queryKey: keys.quote(symbol), exact: true });
      const streaming = cached !== undefined && cached.getObserversCount() > 0 && cached.state.data !== undefined;
      void (async () => {
        let quote: Quote | null;
        if (streaming) quote = cached.state.data ?? null;
        else {
          try {
            quote = await live.conn.call('quote.get', { symbol });
          } catch (err) {
            toast(`Not sent: no quote for ${symbol} (${err instanceof Error ? err.message : String(err)})`, 'error');
            return;
          }
        }
        const r = intentToRequests(intent, { instrument, quote, position });
        if (!r.ok) {
          toast(r.message, 'error');
          return;
        }
        const side = r.requests.find((x) => x.method === 'order.place')?.params as { side?: 'buy' | 'sell' } | undefined;
        if (keymap.confirm && r.requests.some((x) => x.method === 'order.place')) setPreview({ lines: [r.summary], requests: r.requests, back, ...(side?.side === undefined ? {} : { side: side.side }) });
        else void runRequests(live, r.requests);
      })();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [keymap, qty, setQty, instruments.data, account.data, windowSymbol, live, preview]);

  return (
    <>
      <AlertWatcher />
      <CancelWatcher />
      {sheet !== false && <HotkeyCheatSheet keymap={keymap} platform={platform} focused={sheet} onChange={changeKeymap} onClose={() => setSheet(false)} />}
      {preview !== null && (
        <ConfirmOrder
          title="Send from hotkey"
          lines={preview.lines}
          side={preview.side}
          offerDontAsk
          onCancel={() => {
            setPreview(null);
            preview.back?.focus();
          }}
          onSend={(dontAsk) => {
            const reqs = preview.requests;
            setPreview(null);
            preview.back?.focus();
            if (dontAsk) saveKeymap({ ...keymap, confirm: false });
            void runRequests(live, reqs);
          }}
        />
      )}
      {list.length > 0 && (
        <div className="pw-toasts" role="status" aria-live="polite" data-testid="toasts">
          {list.map((t) => (
            <div key={t.id} className={`pw-toast ${t.kind}`}>
              {t.text}
            </div>
          ))}
        </div>
      )}
    </>
  );
}

// ---------------------------------------------------------------- panels

function LadderPanel(_props: PanelProps) {
  const live = useLive();
  const [symbol] = useActiveSymbol();
  const instrument = useInstrument(symbol);
  const quote = useQuote(symbol);
  const depth = useDepth(symbol);
  const orders = useOrders();
  const vap = useVolumeAtPrice(symbol);
  const keymap = useKeymap();
  const [qty, setQty] = usePref<number>(POWER_PREF.qty, keymap.sizePresets[0]);
  const [confirm, setConfirm] = usePref<boolean>(POWER_PREF.ladderConfirm, true);
  const [group, setGroup] = useState(1);
  if (symbol === '') return <div className="empty">Pick a symbol in the watchlist</div>;
  if (instrument === undefined) return <div className="empty">Loading {symbol}…</div>;
  const all = orders.data ?? NO_ORDERS;
  return (
    <DepthLadder
      symbol={symbol}
      depth={depth}
      tick={instrument.tickSize}
      lot={instrument.lotSize}
      halted={instrument.status === 'halted'}
      last={quote?.last ?? null}
      orders={all}
      volumeAtPrice={vap}
      qty={qty}
      onQtyChange={setQty}
      sizePresets={keymap.sizePresets}
      group={group}
      onGroupChange={setGroup}
      confirm={confirm}
      onConfirmChange={setConfirm}
      onPlace={(params) => placeOrder(live, params)}
      onCancel={(ids) => cancelOrders(live, ids, all)}
      formatPrice={formatPrice}
    />
  );
}

/** Stable empty lists while data loads (a fresh [] per render would re-run the chart's effects every quote). */
const NO_ORDERS: OrderRecord[] = [];
const NO_FILLS: Execution[] = [];

const TF_LABEL: Record<Timeframe, string> = { '1m': '1m', '5m': '5m', '15m': '15m', '1h': '1H', '1d': '1D' };

/**
 * The chart panel: the linked symbol's candles (timeframe buttons, keys 1-5 while the chart has focus), older
 * history on scroll-back, indicators, my orders (drag to modify, × to cancel), fills, position, drawings,
 * right-click orders and alerts, and optional crosshair/time sync with the other charts.
 */
function ChartPanel({ params, setParams }: PanelProps) {
  const live = useLive();
  const [symbol] = useActiveSymbol();
  const ownTf = (TIMEFRAMES as readonly string[]).includes(String(params['timeframe'])) ? (params['timeframe'] as Timeframe) : '1m';
  const [tf, setTf] = useLinkedTimeframe(ownTf, (t) => setParams({ timeframe: t }));
  // No `ind` (the default workspace, layouts saved before indicators): a plain chart.
  const specs = useMemo(() => (typeof params['ind'] === 'string' ? decodeSpecs(params['ind']) : []), [params]);
  const instrument = useInstrument(symbol);
  const quote = useQuote(symbol);
  const book = useCandleBook(symbol, tf);
  const orders = useOrders();
  const fills = useExecutions();
  const account = useAccount();
  const keymap = useKeymap();
  const [qty] = usePref<number>(POWER_PREF.qty, keymap.sizePresets[0]);
  const alerts = useAlerts();
  const [theme] = useTheme();
  const [drawings, setDrawings] = useState<DrawingsState>(EMPTY_DRAWINGS);
  useEffect(() => setDrawings(symbol === '' ? EMPTY_DRAWINGS : loadDrawings(localStorage, symbol)), [symbol]);
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
  const all = orders.data ?? NO_ORDERS;
  const position = account.data?.positions.find((x) => x.symbol === symbol);
  const toggle = (kind: string) => {
    const has = specs.some((s) => s.kind === kind);
    const next = has ? specs.filter((s) => s.kind !== kind) : [...specs, DEFAULT_INDICATORS.find((s) => s.kind === kind)!];
    setParams({ ind: encodeSpecs(next) });
  };
  return (
    <div
      className="chart-panel pw-chart-panel"
      onKeyDown={(e) => {
        const i = '12345'.indexOf(e.key);
        if (i >= 0 && !e.altKey && !e.ctrlKey && !e.metaKey && !isTextField(e.target as Element)) setTf(TIMEFRAMES[i]!);
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
        <div className="seg" role="group" aria-label="Indicators">
          {(['sma', 'ema', 'bollinger', 'vwap', 'rsi', 'macd'] as const).map((k) => {
            const on = specs.some((s) => s.kind === k);
            return (
              <button key={k} type="button" className={on ? 'on' : undefined} aria-pressed={on} onClick={() => toggle(k)}>
                {k === 'bollinger' ? 'BB' : k.toUpperCase()}
              </button>
            );
          })}
        </div>
        <label className="muted pw-check" title="Follow the crosshair and time range of the other synced charts">
          <input type="checkbox" checked={params['sync'] === true} onChange={(e) => setParams({ sync: e.target.checked })} /> Sync
        </label>
        <span className="muted">
          Size <b className="strong">{qty}</b>
        </span>
        {book.isError && <span className="field-error">Could not load candles: {book.error.message}</span>}
      </div>
      {symbol === '' ? (
        <div className="empty">Pick a symbol in the watchlist</div>
      ) : (
        <TradingChart
          symbol={symbol}
          timeframe={tf}
          book={book.data}
          tick={instrument?.tickSize ?? 1}
          qty={qty}
          last={quote?.last ?? null}
          quote={quote}
          orders={all}
          fills={fills.data ?? NO_FILLS}
          position={position}
          indicators={specs}
          drawings={drawings}
          onDrawingsChange={(s) => {
            setDrawings(s);
            saveDrawings(localStorage, symbol, s);
          }}
          alerts={alerts}
          onPlace={(p) => placeOrder(live, p)}
          onReplace={(p) => replaceOrder(live, p, all.find((o) => o.orderId === p.orderId))}
          onCancel={(id) => cancelOrders(live, [id], all)}
          onAlert={(a) => createAlert(live, { symbol, ...a })}
          onNeedHistory={onNeedHistory}
          formatPrice={formatPrice}
          theme={theme}
          sync={params['sync'] === true ? { group: 'workspace', time: true } : undefined}
        />
      )}
    </div>
  );
}

function AlertsPanel(_props: PanelProps) {
  const live = useLive();
  const [symbol] = useActiveSymbol();
  const alerts = useAlerts();
  const quote = useQuote(symbol);
  const lastPrices = useMemo(() => (quote?.last == null ? new Map<string, number>() : new Map([[quote.symbol, quote.last]])), [quote]);
  return (
    <AlertsList
      alerts={alerts}
      lastPrices={lastPrices}
      {...(symbol === '' ? {} : { symbol })}
      onCreate={(a) => createAlert(live, a)}
      onDelete={(id) => deleteAlert(live, id)}
      formatPrice={formatPrice}
    />
  );
}

function readNamed(): NamedLayout[] {
  try {
    return parseNamed(localStorage.getItem(NAMED_LAYOUTS_KEY)).list;
  } catch {
    return [];
  }
}

/** Save the workspace under a name; restore or delete saved ones. */
function LayoutsPanel(_props: PanelProps) {
  const ws = useWorkspace();
  const live = useLive();
  const [list, setList] = useState<NamedLayout[]>(readNamed);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const write = (next: NamedLayout[]) => {
    localStorage.setItem(NAMED_LAYOUTS_KEY, serializeNamed(next));
    setList(next);
  };
  return (
    <div className="pw-alerts" data-testid="layouts">
      <div className="toolbar">
        <form
          className="pw-alert-form"
          onSubmit={(e) => {
            e.preventDefault();
            try {
              write(saveNamed(list, name, ws.layout, Date.now()));
              toast(`Layout “${name.trim()}” saved`);
              setName('');
              setError(null);
            } catch (err) {
              setError(err instanceof Error ? err.message : String(err));
            }
          }}
        >
          <input aria-label="Layout name" placeholder="Name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} size={14} />
          <button type="submit" className="btn small">
            Save layout
          </button>
        </form>
      </div>
      {error !== null && <div className="field-error block">{error}</div>}
      {list.length === 0 ? (
        <div className="empty">No saved layouts yet.</div>
      ) : (
        <table className="pw-alert-table">
          <tbody>
            {list.map((l) => (
              <tr key={l.name} data-layout={l.name}>
                <td className="strong">{l.name}</td>
                <td className="muted">{new Date(l.savedAt).toLocaleString([], { hour12: false })}</td>
                <td className="num">
                  <button
                    type="button"
                    className="btn tiny"
                    onClick={() => {
                      const restored = parseLayout(JSON.stringify(l.layout), (k) => panelDef(k) !== undefined);
                      if (restored === undefined) setError(`“${l.name}” cannot be read by this version`);
                      else {
                        ws.setLayout(restored);
                        restorePopoutWindows(live, restored); // its pop-outs reopen, other pop-out windows close
                      }
                    }}
                  >
                    Restore
                  </button>{' '}
                  <button type="button" className="btn tiny danger" aria-label={`Delete layout ${l.name}`} onClick={() => write(deleteNamed(list, l.name))}>
                    ×
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

registerPanel({ kind: 'ladder', title: 'Depth ladder', component: LadderPanel, addable: true, orderEntry: true, ownColumn: 22 });
registerPanel({ kind: 'chart', title: 'Chart', component: ChartPanel, addable: true, orderEntry: true, defaults: { timeframe: '1m', ind: encodeSpecs(DEFAULT_INDICATORS) } });
registerPanel({ kind: 'alerts', title: 'Price alerts', component: AlertsPanel, addable: true });
registerPanel({ kind: 'layouts', title: 'Layouts', component: LayoutsPanel, addable: true });
