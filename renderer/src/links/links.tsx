/**
 * Link groups in React: each panel frame says which colour its panel is in (PanelLinkProvider); the
 * symbol and interval hooks read and write that group instead of the window's own selection; the chip in
 * the panel header picks the colour (none, red, green, blue, yellow, purple, orange) and, for charts,
 * whether the group also follows the interval.
 */
import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from 'react';
import type { Timeframe } from '../../../engine/protocol/index.js';
import type { Live } from '../data/live.js';
import { useLive } from '../data/live.js';
import { panelKind } from '../panels/registry.js';
import { LINK_COLORS, LinkStore, broadcastTransport, isLinkColor, type LinkColor, type LinkSnapshot, type LinkTransport } from './groups.js';
import './links.css';

export { LINKABLE, isLinkable } from './groups.js';

const storage = typeof localStorage === 'undefined' ? undefined : localStorage;
export const linkStore = new LinkStore(storage);
let attachedTo: Live | undefined;

function hubTransport(live: Live, store: LinkStore): LinkTransport {
  const stop = live.retain('hub.links', {}, (l) => store.replace(l.groups));
  return {
    set: (group, change) => {
      void live.conn
        .call('hub.link.set', { group, ...(change.symbol !== undefined ? { symbol: change.symbol } : {}), ...(change.timeframe !== undefined ? { timeframe: change.timeframe } : {}) })
        .catch(() => undefined);
    },
    close: stop,
  };
}

/** Connects this window's link groups to the other windows (once per Live). */
export function attachLinks(live: Live): void {
  if (attachedTo === live) return;
  attachedTo = live;
  linkStore.attach(live.backend.hub ? hubTransport(live, linkStore) : broadcastTransport(linkStore, storage));
}

export function useLinkSnapshot(): LinkSnapshot {
  const live = useLive();
  useEffect(() => attachLinks(live), [live]);
  return useSyncExternalStore(
    (cb) => linkStore.subscribe(cb),
    () => linkStore.snapshot,
  );
}

const PanelLinkContext = createContext<LinkColor | null>(null);

/** The colour of the panel rendered inside (from its params: `link`). */
export function PanelLinkProvider({ link, children }: { link: unknown; children: ReactNode }) {
  return <PanelLinkContext.Provider value={isLinkColor(link) ? link : null}>{children}</PanelLinkContext.Provider>;
}

export const usePanelLink = (): LinkColor | null => useContext(PanelLinkContext);

/**
 * The symbol of the surrounding panel's link group: undefined when the panel is in no group (it then
 * follows the window's own selection). A group that has no symbol yet shows `fallback`.
 */
export function useLinkedSymbol(fallback: string): [string, (s: string) => void] | undefined {
  const color = usePanelLink();
  const snap = useLinkSnapshot();
  if (color === null) return undefined;
  return [snap.groups[color]?.symbol ?? fallback, (s: string) => linkStore.set(color, { symbol: s })];
}

/** A chart's interval: its own, or its group's when the group follows the interval. */
export function useLinkedTimeframe(own: Timeframe, setOwn: (tf: Timeframe) => void): [Timeframe, (tf: Timeframe) => void] {
  const color = usePanelLink();
  const snap = useLinkSnapshot();
  const sync = color !== null && snap.syncTimeframe[color] === true;
  if (!sync) return [own, setOwn];
  return [
    snap.groups[color]?.timeframe ?? own,
    (tf) => {
      setOwn(tf);
      linkStore.set(color, { timeframe: tf });
    },
  ];
}

const LABEL: Record<LinkColor | 'none', string> = { none: 'No link', red: 'Red', green: 'Green', blue: 'Blue', yellow: 'Yellow', purple: 'Purple', orange: 'Orange' };


/** The colour chip of a panel header: pick a group; charts also get the "follow the interval" toggle. */
export function LinkChip({ kind, link, onChange }: { kind: string; link: unknown; onChange(color: LinkColor | null): void }) {
  const color = isLinkColor(link) ? link : null;
  const snap = useLinkSnapshot();
  const sync = color !== null && snap.syncTimeframe[color] === true;
  const stop = (e: React.SyntheticEvent) => e.stopPropagation();
  return (
    <span className="link-chip-wrap" onDoubleClick={stop} onPointerDown={stop}>
      <select
        className="link-chip"
        data-testid="link-chip"
        data-link={color ?? 'none'}
        aria-label="Link group"
        title={color === null ? 'Not linked: follows this window’s selection' : `Linked (${LABEL[color]}): follows every ${LABEL[color].toLowerCase()} panel, in any window`}
        value={color ?? 'none'}
        onChange={(e) => onChange(isLinkColor(e.target.value) ? e.target.value : null)}
      >
        <option value="none">{LABEL.none}</option>
        {LINK_COLORS.map((c) => (
          <option key={c} value={c}>
            {LABEL[c]}
          </option>
        ))}
      </select>
      {color !== null && panelKind(kind) === 'chart' && (
        <button
          type="button"
          className={`icon-btn link-tf${sync ? ' on' : ''}`}
          data-testid="link-interval"
          aria-pressed={sync}
          aria-label="Linked charts follow the interval too"
          title={sync ? `${LABEL[color]} charts share the interval (click to stop)` : `Make ${LABEL[color].toLowerCase()} charts share the interval`}
          onClick={() => linkStore.setSyncTimeframe(color, !sync)}
        >
          ⇆
        </button>
      )}
    </span>
  );
}
