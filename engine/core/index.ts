export * from './types.js';
export * from './codes.js';
export { Engine, MAX_BAND_TICKS, MAX_ORDER_QTY, type EngineOptions } from './engine.js';
export { type CaptureArrays, captureArrays, type EngineSnapshot, type OrderCapture, type StateCapture, hashText, TextHasher } from './snapshot.js';
export { checkInvariants, totals } from './invariants.js';
export { IndexFormula, type IndexWeight } from './index-formula.js';
