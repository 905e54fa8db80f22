/**
 * Crosshair and time-range sync between charts of one group (a multi-chart grid): a chart publishes what
 * the trader does on it; every other chart of the group follows. Times are ms since the epoch.
 */
export type SyncEvent =
  | { readonly kind: 'crosshair'; readonly time: number; readonly price: number }
  | { readonly kind: 'crosshairOff' }
  /** The visible time range of a chart with bars of `stepMs` (charts of another interval keep theirs). */
  | {
      readonly kind: 'range';
      readonly from: number;
      readonly to: number;
      readonly stepMs: number;
      /** Empty bar slots right of the last bar (the chart's right margin), kept by the followers too. */
      readonly gap?: number;
    };

type Listener = (e: SyncEvent) => void;

export class SyncBus {
  readonly #groups = new Map<string, Set<Listener>>();

  /** Join a group; returns a function that publishes to the others, and one to leave. */
  join(group: string, onEvent: Listener): { publish(e: SyncEvent): void; leave(): void } {
    let set = this.#groups.get(group);
    if (set === undefined) this.#groups.set(group, (set = new Set()));
    set.add(onEvent);
    return {
      publish: (e) => {
        for (const l of [...(this.#groups.get(group) ?? [])]) if (l !== onEvent) l(e);
      },
      leave: () => {
        set.delete(onEvent);
        if (set.size === 0) this.#groups.delete(group);
      },
    };
  }

  size(group: string): number {
    return this.#groups.get(group)?.size ?? 0;
  }
}

/** The bar a time falls in, for a chart of `stepMs` bars. */
export const bucketOf = (t: number, stepMs: number): number => Math.floor(t / stepMs) * stepMs;

/** The app-wide bus. */
export const chartSync = new SyncBus();
