/**
 * The simulated market's instruments: a default universe of 20 made-up companies (invented names and
 * tickers; any resemblance to a real listing is unintended) with sensible prices, tick and lot sizes, and a
 * top-10 index weighted by (fictional) market capitalisation.
 */
import type { Command, InstrumentSpec, Price, Qty, Timestamp } from '../core/types.js';

/** An instrument plus the parameters that drive its simulated price and activity. */
export interface SimInstrument extends InstrumentSpec {
  /** Standard deviation of the daily log return in a normal regime (0.02 = 2 %). */
  dailyVol: number;
  /** Sensitivity to the common market factor (1 = moves with the market). */
  beta: number;
  /** Relative trading activity (1 = typical; scales order arrival rates). */
  activity: number;
  /** Typical order size in shares (a multiple of the lot size). */
  typicalQty: Qty;
  /** Shares outstanding (fictional), for index weights. */
  sharesOutstanding: number;
}

export interface IndexSpec {
  name: string;
  /** Index points in hundredths at creation (100000 = 1000.00). */
  baseValue: number;
  constituents: { symbol: string; weightBps: number }[];
}

export interface Universe {
  instruments: SimInstrument[];
  index: IndexSpec | null;
}

// symbol, name, price (cents), tick, lot, daily vol, beta, activity, shares outstanding (millions)
type Row = [string, string, number, number, number, number, number, number, number];
const ROWS: Row[] = [
  ['AQLN', 'Aqualune Hydroponics', 4_820, 1, 1, 0.022, 1.1, 1.0, 310],
  ['BRMB', 'Brambleworth Textiles', 1_235, 1, 10, 0.028, 0.9, 0.8, 420],
  ['CLDW', 'Cloudwhistle Telecom', 8_740, 1, 1, 0.017, 1.0, 1.3, 1_150],
  ['DRGF', 'Dragonet Foundry', 31_250, 5, 1, 0.019, 1.2, 1.1, 640],
  ['EMBG', 'Emberglow Energy', 6_410, 1, 1, 0.024, 1.3, 1.2, 880],
  ['FZWK', 'Fizzwick Beverages', 2_785, 1, 10, 0.015, 0.7, 0.9, 1_020],
  ['GLMS', 'Glimmerstone Mining', 642, 1, 100, 0.035, 1.4, 0.9, 1_900],
  ['HXBL', 'Hexbolt Industrial', 14_360, 1, 1, 0.016, 1.0, 1.0, 720],
  ['IVQL', 'Ivoryquill Publishing', 1_975, 1, 10, 0.021, 0.8, 0.7, 260],
  ['JNBG', 'Junebug Robotics', 22_640, 5, 1, 0.027, 1.5, 1.4, 850],
  ['KTBK', 'Kettlebrook Foods', 3_890, 1, 1, 0.013, 0.6, 0.8, 1_300],
  ['LNFY', 'Lanternfly Optics', 7_425, 1, 1, 0.025, 1.2, 0.9, 380],
  ['MRWD', 'Marshwind Utilities', 5_215, 1, 1, 0.011, 0.5, 0.7, 1_600],
  ['NMQL', 'Nimblequill Software', 41_800, 5, 1, 0.023, 1.3, 1.5, 980],
  ['OTPN', 'Otterpine Shipping', 1_560, 1, 10, 0.03, 1.1, 0.8, 540],
  ['PCKW', 'Picklewood Pharmaceuticals', 9_530, 1, 1, 0.032, 0.9, 1.0, 700],
  ['QZMT', 'Quartzmoth Semiconductors', 18_875, 1, 1, 0.029, 1.4, 1.3, 1_250],
  ['RKWL', 'Rookwell Insurance', 6_105, 1, 1, 0.014, 0.8, 0.8, 900],
  ['SDPL', 'Sundapple Solar', 918, 1, 100, 0.038, 1.3, 1.0, 2_400],
  ['TMBL', 'Thimbleton Bank', 4_470, 1, 1, 0.016, 1.1, 1.1, 1_700],
];

/** About this much money per typical order. */
const TYPICAL_ORDER_CENTS = 800_000;

/** Rounds a quantity to a positive multiple of the lot. */
export function roundLot(q: number, lot: Qty): Qty {
  return Math.max(lot, Math.round(q / lot) * lot);
}

/** Rounds a price to the nearest positive multiple of the tick. */
export function roundTick(p: number, tick: Price): Price {
  return Math.max(tick, Math.round(p / tick) * tick);
}

/** 20 fictional instruments and the SIM10 index of the ten largest by market value. A fresh copy each call. */
export function defaultUniverse(): Universe {
  const instruments: SimInstrument[] = ROWS.map(([symbol, name, price, tick, lot, vol, beta, activity, sharesM]) => ({
    symbol,
    name,
    tickSize: tick,
    lotSize: lot,
    referencePrice: price,
    previousClose: price,
    bandBps: vol >= 0.03 ? 1_500 : 1_000,
    dailyVol: vol,
    beta,
    activity,
    typicalQty: roundLot(TYPICAL_ORDER_CENTS / price, lot),
    sharesOutstanding: sharesM * 1_000_000,
  }));
  return { instruments, index: topIndex(instruments, 'SIM10', 10) };
}

/** An index of the `n` largest instruments by market value (price × shares), weights in bps summing to 10000. */
export function topIndex(instruments: readonly SimInstrument[], name: string, n: number, baseValue = 100_000): IndexSpec {
  const caps = instruments
    .map((i) => ({ symbol: i.symbol, cap: (i.previousClose ?? i.referencePrice) * i.sharesOutstanding }))
    .sort((a, b) => b.cap - a.cap || (a.symbol < b.symbol ? -1 : 1))
    .slice(0, n);
  return { name, baseValue, constituents: weightsBps(caps.map((c) => c.symbol), caps.map((c) => c.cap)) };
}

/** Largest-remainder rounding of positive values to whole bps summing to exactly 10000 (each at least 1). */
export function weightsBps(symbols: readonly string[], values: readonly number[]): { symbol: string; weightBps: number }[] {
  const total = values.reduce((s, v) => s + v, 0);
  const raw = values.map((v) => (v / total) * 10_000);
  const w = raw.map((r) => Math.max(1, Math.floor(r)));
  let left = 10_000 - w.reduce((s, v) => s + v, 0);
  const order = raw.map((r, i) => ({ i, rem: r - Math.floor(r) })).sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) w[order[k]!.i]!++;
  for (let k = order.length - 1; left < 0; k = (k - 1 + order.length) % order.length) {
    const i = order[k]!.i;
    if (w[i]! > 1) {
      w[i]!--;
      left++;
    }
  }
  return symbols.map((symbol, i) => ({ symbol, weightBps: w[i]! }));
}

/** A copy of the universe with new previous closes (e.g. the last warm-up closes): reference prices, band
 * centres and index weights follow them. */
export function withCloses(u: Universe, closes: ReadonlyMap<string, Price>): Universe {
  const instruments = u.instruments.map((i) => {
    const c = closes.get(i.symbol);
    return c === undefined ? { ...i } : { ...i, referencePrice: c, previousClose: c };
  });
  const index = u.index === null ? null : topIndex(instruments, u.index.name, u.index.constituents.length, u.index.baseValue);
  return { instruments, index };
}

/** The engine's own InstrumentSpec part of a SimInstrument. */
export function instrumentSpec(i: SimInstrument): InstrumentSpec {
  const s: InstrumentSpec = {
    symbol: i.symbol,
    name: i.name,
    tickSize: i.tickSize,
    lotSize: i.lotSize,
    referencePrice: i.referencePrice,
    bandBps: i.bandBps,
  };
  if (i.previousClose !== undefined) s.previousClose = i.previousClose;
  if (i.status !== undefined) s.status = i.status;
  return s;
}

/** CreateInstrument for each instrument, then CreateIndex. */
export function universeCommands(u: Universe, ts: Timestamp): Command[] {
  const out: Command[] = u.instruments.map((i) => ({ type: 'CreateInstrument', ts, instrument: instrumentSpec(i) }));
  if (u.index !== null)
    out.push({ type: 'CreateIndex', ts, name: u.index.name, baseValue: u.index.baseValue, constituents: u.index.constituents.map((c) => ({ ...c })) });
  return out;
}

/** Throws a RangeError naming the first problem in a universe (prices on ticks, lots, positive params). */
export function validateUniverse(u: Universe): void {
  const seen = new Set<string>();
  for (const i of u.instruments) {
    const bad = (why: string): never => {
      throw new RangeError(`Universe: ${i.symbol}: ${why}`);
    };
    if (seen.has(i.symbol)) bad('listed twice');
    seen.add(i.symbol);
    if (!Number.isSafeInteger(i.tickSize) || i.tickSize < 1) bad('tick size must be a positive integer');
    if (!Number.isSafeInteger(i.lotSize) || i.lotSize < 1) bad('lot size must be a positive integer');
    if (i.referencePrice % i.tickSize !== 0 || i.referencePrice <= 0) bad('reference price must be a positive multiple of the tick');
    if (i.previousClose !== undefined && (i.previousClose % i.tickSize !== 0 || i.previousClose <= 0)) bad('previous close must be on the tick');
    if (i.typicalQty % i.lotSize !== 0 || i.typicalQty <= 0) bad('typical quantity must be a positive multiple of the lot');
    if (!(i.dailyVol > 0 && i.dailyVol < 0.5)) bad('daily volatility must be in (0, 0.5)');
    if (!(i.activity > 0) || !Number.isFinite(i.beta)) bad('activity must be positive and beta finite');
    if (!Number.isSafeInteger(i.bandBps) || i.bandBps < 300 || i.bandBps > 10_000) bad('band must be 300-10000 bps');
  }
  if (u.index !== null) {
    let sum = 0;
    for (const c of u.index.constituents) {
      if (!seen.has(c.symbol)) throw new RangeError(`Universe: index ${u.index.name} names unknown ${c.symbol}`);
      sum += c.weightBps;
    }
    if (sum !== 10_000) throw new RangeError(`Universe: index weights sum to ${sum}, not 10000`);
  }
}
