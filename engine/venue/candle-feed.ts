/**
 * What a candles stream pushes after a market change: the bar being built, and before it, when a later bar
 * has begun since the stream's last push, the final state of the bar it pushed last and of every bar that
 * began and closed since, oldest first. Without them the last pushed bar would keep the state it had then,
 * though more trades may have gone into it before it closed: the server's market-data hub pushes once per
 * tick for all the commits in it, and with background fsync a commit is published after later ones were
 * committed (the view shows the later state). A bar is not pushed again unchanged.
 *
 * One feed per stream (the venue's candles channel) or per symbol and timeframe (the server's hub).
 */
import type { Candle, Timeframe, Timestamp } from '../core/types.js';
import type { EngineView } from './venue.js';

const sig = (b: Candle): string => `${b.t},${b.o},${b.h},${b.l},${b.c},${b.v}`;

export class CandleFeed {
  /** Bucket start and contents of the bar pushed last (undefined before the first). */
  #t: Timestamp | undefined;
  #sig = '';

  constructor(
    readonly symbol: string,
    readonly timeframe: Timeframe,
  ) {}

  /** Notes a bar as pushed: a stream's first value (the bar being built when it began, if there is one). */
  pushed(bar: Candle): void {
    this.#t = bar.t;
    this.#sig = sig(bar);
  }

  /** The bars to push now, oldest first (none when nothing changed); they are noted as pushed. */
  next(view: Pick<EngineView, 'candles'>): Candle[] {
    const cur = view.candles(this.symbol, this.timeframe, 1).at(-1);
    if (cur === undefined) return [];
    const last = this.#t;
    let bars = [cur];
    // nothing pushed yet (the symbol had no bar when the stream began): every bar is new
    if (last === undefined) bars = view.candles(this.symbol, this.timeframe);
    else if (cur.t > last) {
      // a later bar began: the last one pushed, and any since, closed with trades perhaps not pushed yet
      for (let n = 2; ; n *= 2) {
        const got = view.candles(this.symbol, this.timeframe, n);
        if (got.length < n || got[0]!.t <= last) {
          bars = got.filter((b) => b.t >= last);
          break;
        }
      }
    }
    const out: Candle[] = [];
    for (const b of bars) if (b.t !== this.#t || sig(b) !== this.#sig) out.push(b);
    this.pushed(cur);
    return out;
  }
}
