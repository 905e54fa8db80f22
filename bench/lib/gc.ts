import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A function that forces a full garbage collection. Uses `global.gc` when node runs with --expose-gc;
 * otherwise turns the flag on at run time and fetches `gc` from a fresh context (a documented V8 trick that
 * works in Node 20+), so benches need no special node flags and no re-exec.
 */
export function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as unknown;
  if (typeof fn !== 'function') throw new Error('Cannot obtain gc(): run node with --expose-gc');
  return fn as () => void;
}

/** Collects garbage a few times (weak references and finalisers can need more than one pass). */
export function fullGc(gc: () => void, rounds = 3): void {
  for (let i = 0; i < rounds; i++) gc();
}

/** V8 heap in use, in bytes, after a full collection. */
export function settledHeapUsed(gc: () => void): number {
  fullGc(gc);
  return process.memoryUsage().heapUsed;
}
