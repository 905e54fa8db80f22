/**
 * Link groups by colour: panels (in this window or any other window of the app) that share a colour keep
 * their symbol, and optionally their chart interval, in step. One store per window; how it talks to the
 * other windows depends on the backend:
 * - with a hub (desktop, headless host): `hub.link.set` changes a group and the `hub.links` channel brings
 *   every change back to every window, this one included;
 * - straight to an exchange server (no hub): a BroadcastChannel between the tabs of this origin, with the
 *   state kept in localStorage so a window opened later starts in step.
 * Whether a group also follows the interval is a preference of this origin (localStorage + the channel).
 */
import { LINK_COLORS, type LinkColor, type Timeframe } from '../../../engine/protocol/index.js';
import { panelKind } from '../panels/registry.js';

export { LINK_COLORS, type LinkColor };

/** Panels that show a symbol and can join a link group (an old kind counts as the panel it now is). */
export const LINKABLE: ReadonlySet<string> = new Set(['watchlist', 'chart', 'ticket', 'ladder', 'tape', 'alerts']);
export const isLinkable = (kind: string): boolean => LINKABLE.has(panelKind(kind));

export interface GroupState {
  symbol?: string | undefined;
  timeframe?: Timeframe | undefined;
}
export type Groups = Partial<Record<LinkColor, GroupState>>;
export type SyncFlags = Partial<Record<LinkColor, boolean>>;

export interface LinkSnapshot {
  readonly groups: Groups;
  readonly syncTimeframe: SyncFlags;
}

/** Sends a group change to the other windows (the hub, or the tabs of this origin). */
export interface LinkTransport {
  set(color: LinkColor, change: GroupState): void;
  close(): void;
}

export const LINKS_KEY = 'tradedesk.links.v1';
export const LINK_SYNC_KEY = 'tradedesk.links.syncTimeframe.v1';
export const LINKS_CHANNEL = 'tradedesk.links';

/** The part of localStorage the store uses. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The part of a BroadcastChannel the store uses (the browser's, or Node's in unit tests). */
export interface Channel<T> {
  postMessage(m: T): void;
  onmessage: ((e: { data: T }) => void) | null;
  close(): void;
}

export function openChannel<T>(name: string): Channel<T> | undefined {
  return typeof BroadcastChannel === 'undefined' ? undefined : (new BroadcastChannel(name) as unknown as Channel<T>);
}

export const isLinkColor = (v: unknown): v is LinkColor => typeof v === 'string' && (LINK_COLORS as readonly string[]).includes(v);

type ChannelMsg = { type: 'set'; color: LinkColor; change: GroupState } | { type: 'sync'; flags: SyncFlags };

function readJson(storage: KeyValueStore | undefined, key: string): unknown {
  try {
    const t = storage?.getItem(key);
    return t === null || t === undefined ? undefined : JSON.parse(t);
  } catch {
    return undefined;
  }
}

function writeJson(storage: KeyValueStore | undefined, key: string, v: unknown): void {
  try {
    storage?.setItem(key, JSON.stringify(v));
  } catch {
    // kept for this session only
  }
}

function cleanGroups(raw: unknown): Groups {
  const out: Groups = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const c of LINK_COLORS) {
    const g = (raw as Record<string, unknown>)[c];
    if (typeof g !== 'object' || g === null) continue;
    const s = (g as Record<string, unknown>)['symbol'];
    const t = (g as Record<string, unknown>)['timeframe'];
    out[c] = { ...(typeof s === 'string' ? { symbol: s } : {}), ...(typeof t === 'string' ? { timeframe: t as Timeframe } : {}) };
  }
  return out;
}

function cleanFlags(raw: unknown): SyncFlags {
  const out: SyncFlags = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const c of LINK_COLORS) if ((raw as Record<string, unknown>)[c] === true) out[c] = true;
  return out;
}

export class LinkStore {
  #snap: LinkSnapshot;
  #listeners = new Set<() => void>();
  #transport: LinkTransport | undefined;
  #flagsChannel: Channel<ChannelMsg> | undefined;
  readonly #storage: KeyValueStore | undefined;

  constructor(storage: KeyValueStore | undefined) {
    this.#storage = storage;
    this.#snap = { groups: {}, syncTimeframe: cleanFlags(readJson(storage, LINK_SYNC_KEY)) };
    this.#flagsChannel = openChannel<ChannelMsg>(`${LINKS_CHANNEL}.sync`);
    if (this.#flagsChannel !== undefined)
      this.#flagsChannel.onmessage = (e) => {
        if (e.data?.type === 'sync') this.#emit({ ...this.#snap, syncTimeframe: cleanFlags(e.data.flags) });
      };
  }

  get snapshot(): LinkSnapshot {
    return this.#snap;
  }

  get attached(): boolean {
    return this.#transport !== undefined;
  }

  subscribe(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  attach(t: LinkTransport): void {
    this.#transport?.close();
    this.#transport = t;
  }

  /** A panel in `color` changed its symbol and/or interval: the group (everywhere) follows. */
  set(color: LinkColor, change: GroupState): void {
    const clean: GroupState = {
      ...(change.symbol !== undefined && change.symbol !== '' ? { symbol: change.symbol } : {}),
      ...(change.timeframe !== undefined ? { timeframe: change.timeframe } : {}),
    };
    if (clean.symbol === undefined && clean.timeframe === undefined) return;
    this.apply(color, clean);
    this.#transport?.set(color, clean);
  }

  /** A change from elsewhere (or our own, applied at once): merge it into the group. */
  apply(color: LinkColor, change: GroupState): void {
    const prev = this.#snap.groups[color] ?? {};
    const next = { ...prev, ...(change.symbol !== undefined ? { symbol: change.symbol } : {}), ...(change.timeframe !== undefined ? { timeframe: change.timeframe } : {}) };
    if (this.#snap.groups[color] !== undefined && next.symbol === prev.symbol && next.timeframe === prev.timeframe) return;
    this.#emit({ ...this.#snap, groups: { ...this.#snap.groups, [color]: next } });
  }

  /** The whole state from the hub (`hub.links`). */
  replace(groups: Groups): void {
    this.#emit({ ...this.#snap, groups: cleanGroups(groups) });
  }

  setSyncTimeframe(color: LinkColor, on: boolean): void {
    const flags = { ...this.#snap.syncTimeframe };
    if (on) flags[color] = true;
    else delete flags[color];
    writeJson(this.#storage, LINK_SYNC_KEY, flags);
    this.#flagsChannel?.postMessage({ type: 'sync', flags } satisfies ChannelMsg);
    this.#emit({ ...this.#snap, syncTimeframe: flags });
  }

  close(): void {
    this.#transport?.close();
    this.#transport = undefined;
    this.#flagsChannel?.close();
  }

  #emit(s: LinkSnapshot): void {
    this.#snap = s;
    for (const l of [...this.#listeners]) l();
  }
}

/** No hub: the tabs of this origin tell each other over a BroadcastChannel; the state lives in localStorage. */
export function broadcastTransport(store: LinkStore, storage: KeyValueStore | undefined): LinkTransport {
  store.replace(cleanGroups(readJson(storage, LINKS_KEY)));
  const ch = openChannel<ChannelMsg>(LINKS_CHANNEL);
  if (ch !== undefined)
    ch.onmessage = (e) => {
      const m = e.data;
      if (m?.type === 'set' && isLinkColor(m.color)) store.apply(m.color, cleanGroups({ [m.color]: m.change })[m.color] ?? {});
    };
  return {
    set: (color, change) => {
      writeJson(storage, LINKS_KEY, store.snapshot.groups);
      ch?.postMessage({ type: 'set', color, change } satisfies ChannelMsg);
    },
    close: () => ch?.close(),
  };
}
