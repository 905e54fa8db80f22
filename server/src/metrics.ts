/**
 * Prometheus text exposition (version 0.0.4) written by hand: counters, gauges and histograms with fixed
 * buckets. Labels are fixed per series at registration, so recording is a property increment.
 */
type Labels = Record<string, string>;

function labelText(l: Labels | undefined, extra?: string): string {
  const parts = Object.entries(l ?? {}).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Counter {
  value = 0;
  constructor(
    readonly labels?: Labels,
    /** Read at each scrape instead of `value` (a total kept elsewhere, such as the process's CPU time). */
    readonly read?: () => number,
  ) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class Gauge {
  value = 0;
  constructor(
    readonly labels?: Labels,
    readonly read?: () => number,
  ) {}
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly buckets: readonly number[],
    readonly labels?: Labels,
  ) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  series: (Counter | Gauge | Histogram)[];
}

/** Seconds: 50 µs .. 5 s. */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Seconds, for the order path's acknowledgements and the journal fsyncs they wait for: 250 µs .. 5 s, every
 * millisecond from 1 to 10 ms (where an ack's target lies), so a 99th percentile read from the buckets is
 * within a millisecond there.
 */
export const ACK_BUCKETS = [
  0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1,
  0.25, 0.5, 1, 2.5, 5,
];

/** Counts of things per batch: 1 .. 8192 in powers of two (a group commit holds at most 8192 commands). */
export const BATCH_BUCKETS = Array.from({ length: 14 }, (_, i) => 2 ** i);

export class Registry {
  readonly #families = new Map<string, Family>();

  #family(name: string, help: string, type: Family['type']): Family {
    let f = this.#families.get(name);
    if (f === undefined) this.#families.set(name, (f = { name, help, type, series: [] }));
    return f;
  }
  counter(name: string, help: string, labels?: Labels, read?: () => number): Counter {
    const c = new Counter(labels, read);
    this.#family(name, help, 'counter').series.push(c);
    return c;
  }
  gauge(name: string, help: string, labels?: Labels, read?: () => number): Gauge {
    const g = new Gauge(labels, read);
    this.#family(name, help, 'gauge').series.push(g);
    return g;
  }
  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS, labels?: Labels): Histogram {
    const h = new Histogram(buckets, labels);
    this.#family(name, help, 'histogram').series.push(h);
    return h;
  }
  /** Counters of one family whose label values are known only as they occur: each registered on first use. */
  counters(name: string, help: string): (labels: Labels) => Counter {
    return this.#byLabels((labels) => this.counter(name, help, labels));
  }
  /** Histograms of one family whose label values are known only as they occur: each registered on first use. */
  histograms(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS): (labels: Labels) => Histogram {
    return this.#byLabels((labels) => this.histogram(name, help, buckets, labels));
  }
  #byLabels<S>(make: (labels: Labels) => S): (labels: Labels) => S {
    const series = new Map<string, S>();
    return (labels) => {
      const key = labelText(labels);
      let s = series.get(key);
      if (s === undefined) series.set(key, (s = make(labels)));
      return s;
    };
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.series) {
        if (s instanceof Histogram) {
          let cum = 0;
          s.buckets.forEach((b, i) => {
            cum += s.counts[i]!;
            out.push(`${f.name}_bucket${labelText(s.labels, `le="${b}"`)} ${cum}`);
          });
          out.push(`${f.name}_bucket${labelText(s.labels, 'le="+Inf"')} ${s.count}`);
          out.push(`${f.name}_sum${labelText(s.labels)} ${s.sum}`);
          out.push(`${f.name}_count${labelText(s.labels)} ${s.count}`);
        } else {
          let v = s.value;
          if (s.read !== undefined) {
            try {
              v = s.read();
            } catch {
              v = NaN;
            }
          }
          out.push(`${f.name}${labelText(s.labels)} ${Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`);
        }
      }
    }
    return out.join('\n') + '\n';
  }
}

/**
 * The q-quantile (0 < q < 1) of a histogram's observations as Prometheus' histogram_quantile() gives it:
 * linear within the bucket that holds it, from the bucket below's bound (0 for the first). `cumulative[i]`
 * counts the observations up to `bounds[i]`, and one entry more counts all of them (+Inf); a quantile
 * past the last finite bound is that bound. NaN without observations.
 */
export function bucketQuantile(bounds: readonly number[], cumulative: readonly number[], q: number): number {
  const total = cumulative[bounds.length] ?? NaN;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const c = cumulative[i]!;
    if (c >= rank) {
      const below = i === 0 ? 0 : cumulative[i - 1]!;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      return c === below ? bounds[i]! : lo + ((bounds[i]! - lo) * (rank - below)) / (c - below);
    }
  }
  return bounds[bounds.length - 1]!;
}

/**
 * A total that never goes back, over a reading that may start again from 0 (a thread's busy time, when the
 * thread ends and a new one takes over): each drop adds the reading before it to what is kept. A new
 * reading that passes the old one's before it is seen is counted from there. An undefined reading is 0.
 */
export function monotonicTotal(read: () => number | undefined): () => number {
  let retired = 0;
  let last = 0;
  return () => {
    const now = read() ?? 0;
    if (now < last) retired += last;
    last = now;
    return retired + now;
  };
}

/** Events per second over a sliding window of whole seconds. */
export class RateWindow {
  readonly #slots: number[];
  readonly #secs: number[];
  constructor(readonly windowSec = 10) {
    this.#slots = new Array<number>(windowSec).fill(0);
    this.#secs = new Array<number>(windowSec).fill(-1);
  }
  add(n = 1, nowMs = Date.now()): void {
    const s = Math.floor(nowMs / 1000);
    const i = s % this.windowSec;
    if (this.#secs[i] !== s) {
      this.#secs[i] = s;
      this.#slots[i] = 0;
    }
    this.#slots[i]! += n;
  }
  /** Mean rate over the last full `windowSec - 1` seconds. */
  rate(nowMs = Date.now()): number {
    const s = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let k = 1; k < this.windowSec; k++) {
      const sec = s - k;
      const i = ((sec % this.windowSec) + this.windowSec) % this.windowSec;
      if (this.#secs[i] === sec) sum += this.#slots[i]!;
    }
    return sum / (this.windowSec - 1);
  }
}
