import { median } from './stats.js';

/**
 * Cost of one empty `process.hrtime.bigint()` bracket (two calls and the subtraction), in nanoseconds: the
 * median over `iterations` back-to-back pairs, after a warm-up. Subtract it from per-operation samples taken
 * the same way to get closer to the operation's own time.
 */
export function timerOverheadNs(iterations = 200_000): number {
  const samples = new Float64Array(iterations);
  for (let round = 0; round < 2; round++) {
    // round 0 is a warm-up so the loop is optimised like the measuring loops it stands for
    for (let i = 0; i < iterations; i++) {
      const t0 = process.hrtime.bigint();
      const t1 = process.hrtime.bigint();
      samples[i] = Number(t1 - t0);
    }
  }
  return median(samples);
}

/** Seconds elapsed since a `process.hrtime.bigint()` reading. */
export function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
