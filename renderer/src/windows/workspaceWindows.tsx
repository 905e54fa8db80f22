/**
 * The workspace window's side of pop-outs: the pop-out button of a panel header, the strip listing the
 * panels that live in their own windows (show / dock back), and what the workspace answers on the
 * windows' channel (a pop-out asking to dock back, reporting its params, saying hello or bye).
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { Live } from '../data/live.js';
import { useLive } from '../data/live.js';
import { panelDef, type PanelParams } from '../panels/registry.js';
import type { Channel } from '../links/groups.js';
import type { Layout, WindowBounds } from '../workspace/layout.js';
import { useWorkspace } from '../workspace/Workspace.js';
import {
  canPopOut,
  dockBackPanel,
  hubOpenRequest,
  popOutPanel,
  popoutFeatures,
  popoutUrl,
  setPoppedBounds,
  setPoppedParams,
  windowName,
  windowsChannel,
  type PopoutTarget,
  type WindowMsg,
} from './popouts.js';
import './windows.css';

// ---------------------------------------------------------------- which pop-outs are open

let channel: Channel<WindowMsg> | undefined;
let open = new Set<string>();
const openListeners = new Set<() => void>();
const handlers = new Set<(m: WindowMsg) => void>();

function setOpen(pid: string, on: boolean): void {
  if (open.has(pid) === on) return;
  const next = new Set(open);
  if (on) next.add(pid);
  else next.delete(pid);
  open = next;
  for (const l of [...openListeners]) l();
}

function ensureChannel(): Channel<WindowMsg> | undefined {
  if (channel !== undefined) return channel;
  channel = windowsChannel();
  if (channel === undefined) return undefined;
  channel.onmessage = (e) => {
    const m = e.data;
    if (m?.type === 'hello') setOpen(m.pid, true);
    else if (m?.type === 'bye') setOpen(m.pid, false);
    for (const h of [...handlers]) h(m);
  };
  channel.postMessage({ type: 'who' } satisfies WindowMsg);
  return channel;
}

const post = (m: WindowMsg): void => ensureChannel()?.postMessage(m);

function useOpenPopouts(): ReadonlySet<string> {
  return useSyncExternalStore(
    (cb) => {
      ensureChannel();
      openListeners.add(cb);
      return () => openListeners.delete(cb);
    },
    () => open,
  );
}

/**
 * Opens (or brings forward) the window of a popped panel: a real window through the hub on the desktop,
 * `window.open` in a browser (call it from the click, so the browser allows the window). With `bounds`
 * (where the layout last saw it) the window opens there.
 */
export function openPopoutWindow(live: Live, t: PopoutTarget, bounds?: WindowBounds): void {
  if (open.has(t.pid)) {
    post({ type: 'focus', pid: t.pid });
    return;
  }
  const req = hubOpenRequest(t, bounds);
  if (req === undefined) return;
  if (live.backend.kind === 'desktop') {
    void live.conn.call('hub.window.open', req).catch(() => undefined);
    return;
  }
  const at = { x: window.screenX + 80 + open.size * 30, y: window.screenY + 80 + open.size * 30 };
  window.open(popoutUrl(location.href, t), windowName(t.pid), popoutFeatures(t.kind, at, bounds));
}

/** After a named layout is restored: open its pop-outs where they were, close the windows it does not have. */
export function restorePopoutWindows(live: Live, l: Layout): void {
  const want = new Set((l.popouts ?? []).map((p) => p.id));
  for (const pid of open) if (!want.has(pid)) post({ type: 'close', pid });
  for (const p of l.popouts ?? []) openPopoutWindow(live, { pid: p.id, kind: p.kind, params: p.params }, p.bounds);
}

// ---------------------------------------------------------------- header button

export function PopOutButton({ id, kind, params }: { id: string; kind: string; params: PanelParams }) {
  const ws = useWorkspace();
  const live = useLive();
  if (!canPopOut(kind, id)) return null;
  const title = panelDef(kind)?.title ?? kind;
  return (
    <button
      type="button"
      className="icon-btn"
      data-testid="pop-out"
      aria-label={`Pop out ${title}`}
      title="Open in its own window"
      onClick={() => {
        ws.setLayout(popOutPanel(ws.layout, id));
        openPopoutWindow(live, { pid: id, kind, params });
      }}
    >
      ↗
    </button>
  );
}

// ---------------------------------------------------------------- the strip of popped panels

/** Lists the popped-out panels (show the window, dock back) and serves the pop-outs' requests. */
export function PoppedOutBar() {
  const ws = useWorkspace();
  const live = useLive();
  const openNow = useOpenPopouts();
  const layout = useRef(ws.layout);
  layout.current = ws.layout;
  const setLayout = ws.setLayout;

  useEffect(() => {
    const h = (m: WindowMsg) => {
      if (m?.type === 'dock') {
        setLayout(dockBackPanel(layout.current, { id: m.pid, kind: m.kind, params: m.params }));
        setOpen(m.pid, false);
        post({ type: 'docked', pid: m.pid });
      } else if (m?.type === 'params') {
        const next = setPoppedParams(layout.current, m.pid, m.patch);
        if (next !== layout.current) setLayout(next);
      } else if (m?.type === 'bounds') {
        const next = setPoppedBounds(layout.current, m.pid, m.bounds);
        if (next !== layout.current) setLayout(next);
      }
    };
    handlers.add(h);
    ensureChannel();
    return () => {
      handlers.delete(h);
    };
  }, [setLayout]);

  const popped = ws.layout.popouts ?? [];
  if (popped.length === 0) return null;
  return (
    <div className="popped-bar" data-testid="popped-bar" role="region" aria-label="Panels in their own windows">
      <span className="muted">In own window:</span>
      {popped.map((p) => {
        const title = panelDef(p.kind)?.title ?? p.kind;
        const isOpen = openNow.has(p.id);
        return (
          <span key={p.id} className="popped-item" data-popped={p.id} data-kind={p.kind} data-open={isOpen} data-link={typeof p.params['link'] === 'string' && p.params['link'] !== '' ? p.params['link'] : undefined}>
            <span className="popped-dot" aria-hidden="true" />
            <span className="strong">{title}</span>
            <button type="button" className="btn tiny" title={isOpen ? 'Bring its window to the front' : 'Open its window again'} onClick={() => openPopoutWindow(live, { pid: p.id, kind: p.kind, params: p.params }, p.bounds)}>
              {isOpen ? 'Show' : 'Open'}
            </button>
            <button
              type="button"
              className="btn tiny"
              aria-label={`Dock ${title} back`}
              title="Put it back into the workspace (closes its window)"
              onClick={() => {
                ws.setLayout(dockBackPanel(ws.layout, p));
                post({ type: 'close', pid: p.id });
                setOpen(p.id, false);
              }}
            >
              Dock back
            </button>
          </span>
        );
      })}
    </div>
  );
}
