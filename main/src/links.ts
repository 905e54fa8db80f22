/**
 * Link groups by colour: windows in the same colour keep their symbol (and optionally timeframe) in step.
 * The hub owns one LinkGroups; `hub.link.set` changes a group and every `hub.links` subscriber gets the
 * whole state (it is small). Persisted as JSON in the user-data folder so a restart keeps the groups.
 */
import { LINK_COLORS, LinksSchema, callEach, type LinkColor, type Links } from '../../engine/protocol/index.js';
import { readJsonFile, writeJsonFileAtomic } from './json-file.js';

type LinkState = NonNullable<Links['groups'][LinkColor]>;

export class LinkGroups {
  #groups: Partial<Record<LinkColor, LinkState>> = {};
  readonly #listeners = new Set<(links: Links) => void>();
  readonly #file: string | undefined;

  /** `file`: where to persist (omit for memory only). A missing or unreadable file starts empty. */
  constructor(file?: string) {
    this.#file = file;
    if (file !== undefined) {
      const parsed = LinksSchema.safeParse(readJsonFile(file));
      if (parsed.success) this.#groups = parsed.data.groups;
    }
  }

  get(): Links {
    const groups: Partial<Record<LinkColor, LinkState>> = {};
    for (const c of LINK_COLORS) {
      const g = this.#groups[c];
      if (g !== undefined) groups[c] = { ...g };
    }
    return { groups };
  }

  /**
   * Sets a group's symbol and/or timeframe (a field left out keeps its value). Listeners run only when
   * something changed.
   */
  set(color: LinkColor, change: { symbol?: string | undefined; timeframe?: LinkState['timeframe'] | undefined }): void {
    const prev = this.#groups[color] ?? {};
    const next: LinkState = { ...prev };
    if (change.symbol !== undefined) next.symbol = change.symbol;
    if (change.timeframe !== undefined) next.timeframe = change.timeframe;
    if (next.symbol === prev.symbol && next.timeframe === prev.timeframe && this.#groups[color] !== undefined) return;
    this.#groups[color] = next;
    if (this.#file !== undefined) writeJsonFileAtomic(this.#file, this.get());
    const links = this.get();
    callEach(this.#listeners, () => links);
  }

  /** Calls `cb` with the whole state after every change; returns a function that removes it. */
  onChange(cb: (links: Links) => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }
}
