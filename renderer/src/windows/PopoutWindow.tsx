/**
 * A pop-out window: one panel, full window, with a slim bar that keeps the connection state and the
 * SIMULATION / firm badge in view, the panel's link chip, and "dock back" (the workspace takes the panel
 * back and this window closes). Which panel comes from the URL (browser) or from `hub.info` (desktop).
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useLive } from '../data/live.js';
import type { Channel } from '../links/groups.js';
import { LinkChip, PanelLinkProvider, isLinkable } from '../links/links.js';
import { panelDef, type PanelParams } from '../panels/registry.js';
import { ConnectionIndicator, ModeBadge, StaleBanner } from '../ui/StatusBits.js';
import { targetFromHubInfo, targetFromUrl, trackBounds, windowsChannel, type PopoutTarget, type WindowMsg } from './popouts.js';
import './windows.css';

/**
 * Which panel this window shows: a target (a pop-out), undefined (the workspace), or 'pending' while a
 * desktop pop-out waits for `hub.info`.
 */
export function usePopoutTarget(): PopoutTarget | undefined | 'pending' {
  const live = useLive();
  const fromUrl = useMemo(() => (typeof location === 'undefined' ? undefined : targetFromUrl(location.search)), []);
  // Desktop windows load `…?window=<id>`; the main one is "main". A pop-out learns its panel from the hub.
  const desktopPopout = live.backend.kind === 'desktop' && typeof location !== 'undefined' && (new URLSearchParams(location.search).get('window') ?? 'main') !== 'main';
  const info = useQuery({ queryKey: ['hub.info'], queryFn: () => live.conn.call('hub.info', {}), enabled: desktopPopout, retry: 5 });
  if (!desktopPopout) return fromUrl;
  if (info.data === undefined) return 'pending';
  return targetFromHubInfo(info.data);
}

export function PopoutWindow({ target }: { target: PopoutTarget }) {
  const def = panelDef(target.kind);
  const title = def?.title ?? target.kind;
  const Body = def?.component;
  const [params, setParamsState] = useState<PanelParams>(target.params);
  const [docking, setDocking] = useState<'idle' | 'waiting' | 'alone'>('idle');
  const channel = useRef<Channel<WindowMsg> | undefined>(undefined);

  useEffect(() => {
    document.title = `${title} — TradeDesk`;
    document.documentElement.classList.add('popout-window');
    const ch = windowsChannel();
    channel.current = ch;
    if (ch === undefined) return;
    const hello = () => ch.postMessage({ type: 'hello', pid: target.pid } satisfies WindowMsg);
    ch.onmessage = (e) => {
      const m = e.data;
      if (m?.type === 'who') hello();
      else if ((m?.type === 'docked' || m?.type === 'close') && m.pid === target.pid) window.close();
      else if (m?.type === 'focus' && m.pid === target.pid) window.focus();
    };
    hello();
    // Where this window is goes into the workspace's layout, so a named layout reopens it there.
    const stopBounds = trackBounds(window, (bounds) => ch.postMessage({ type: 'bounds', pid: target.pid, bounds } satisfies WindowMsg));
    const bye = () => ch.postMessage({ type: 'bye', pid: target.pid } satisfies WindowMsg);
    window.addEventListener('pagehide', bye);
    return () => {
      window.removeEventListener('pagehide', bye);
      stopBounds();
      bye();
      ch.close();
      channel.current = undefined;
    };
  }, [target.pid, title]);

  useEffect(() => {
    if (docking !== 'waiting') return;
    // The workspace answers at once; none means no workspace window of this app is open.
    const t = setTimeout(() => setDocking('alone'), 2500);
    return () => clearTimeout(t);
  }, [docking]);

  const setParams = (patch: PanelParams) => {
    setParamsState((p) => ({ ...p, ...patch }));
    channel.current?.postMessage({ type: 'params', pid: target.pid, patch } satisfies WindowMsg);
  };
  const dockBack = () => {
    setDocking('waiting');
    channel.current?.postMessage({ type: 'dock', pid: target.pid, kind: target.kind, params } satisfies WindowMsg);
  };
  const link = params['link'];

  return (
    <div className="app popout-app" data-testid="popout" data-popout={target.pid}>
      <header className="topbar popout-bar">
        <span className="brand">TradeDesk</span>
        <ModeBadge />
        <ConnectionIndicator />
        <span className="spacer" />
        {docking === 'alone' && <span className="field-error">The workspace window is not open: open it, then dock back.</span>}
        <button type="button" className="btn small" data-testid="dock-back" onClick={dockBack} disabled={docking === 'waiting'} title="Put this panel back into the workspace and close this window">
          ⇤ Dock back
        </button>
      </header>
      <StaleBanner />
      <div className="ws popout-ws">
        <div className="ws-col" style={{ flexGrow: 1 }}>
          <section className="panel" style={{ flexGrow: 1 }} data-panel={target.kind} data-link={typeof link === 'string' && link !== '' ? link : undefined} aria-label={title}>
            <header className="panel-head popout-head">
              <span className="panel-title">{title}</span>
              {def?.orderEntry === true && def.ownBadge !== true && <ModeBadge small />}
              <span className="spacer" />
              {isLinkable(target.kind) && <LinkChip kind={target.kind} link={link} onChange={(c) => setParams({ link: c ?? '' })} />}
            </header>
            <div className="panel-body">
              <PanelLinkProvider link={link}>
                {Body ? <Body id={target.pid} params={params} setParams={setParams} /> : <div className="empty">Unknown panel “{target.kind}”</div>}
              </PanelLinkProvider>
            </div>
          </section>
        </div>
      </div>
    </div>
  );
}
